package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// The path MTU is searched inside the guest, in one ssh call: a binary search
// over ping's payload size with the don't-fragment bit (iputils ping -M do),
// from the IPv4 minimum (548 bytes of payload + 28 of headers = 576) to the
// network's mtu. A size counts as too big only after three tries waiting 1, 2
// and 3 s for the reply: a lost packet or a guest slowed by a busy host does
// not shrink the path MTU found (a healthy path passes at the first try of
// the full size, so the search costs one ping). It prints one line the Go side parses.
const mtuHeaders = 28 // IPv4 20 + ICMP 8

// mtuScript searches the largest DF ping payload from the guest to target,
// between the IPv4 minimum and mtu-28. Its last line is "largest <payload>",
// or "none <payload> <ping's output>" when even the smallest did not pass.
func mtuScript(target string, mtu int) string {
	return fmt.Sprintf(`T=%s; lo=%d; hi=%d
try() { for w in 1 2 3; do ping -M do -c 1 -W $w -s "$1" "$T" >/dev/null 2>&1 && return 0; done; return 1; }
if ! try $lo; then echo "none $lo $(ping -M do -c 1 -W 1 -s $lo $T 2>&1 | tail -n 2 | tr '\n' ' ')"; exit 0; fi
if try $hi; then echo "largest $hi"; exit 0; fi
while [ $((hi - lo)) -gt 1 ]; do mid=$(((lo + hi) / 2)); if try $mid; then lo=$mid; else hi=$mid; fi; done
echo "largest $lo"
`, target, 576-mtuHeaders, mtu-mtuHeaders)
}

// parseMTU reads mtuScript's output: the largest payload that passed.
func parseMTU(out string) (int, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	f := strings.Fields(last)
	switch {
	case len(f) == 2 && f[0] == "largest":
		n, err := strconv.Atoi(f[1])
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("path MTU search printed %q", last)
		}
		return n, nil
	case len(f) >= 2 && f[0] == "none":
		n, _ := strconv.Atoi(f[1])
		return 0, fmt.Errorf("not even a DF packet of %d bytes passed (ping: %s)", n+mtuHeaders, strings.TrimSpace(strings.Join(f[2:], " ")))
	}
	return 0, fmt.Errorf("path MTU search printed %q, want \"largest <size>\"", strings.TrimSpace(out))
}

// pathMTU runs the search from h to target and returns the largest packet
// (payload + headers) that passed.
func pathMTU(ctx context.Context, h probe.Host, target string, mtu int) (int, error) {
	out, err := probe.SSH(ctx, h, mtuScript(target, mtu))
	if err != nil {
		return 0, err
	}
	payload, err := parseMTU(out)
	if err != nil {
		return 0, err
	}
	return payload + mtuHeaders, nil
}

// mtuVerdict compares the path MTU found with the network's.
func mtuVerdict(pair string, found, networkMTU int) error {
	if found != networkMTU {
		return fmt.Errorf("%s: largest DF packet %d bytes, the network's mtu is %d", pair, found, networkMTU)
	}
	return nil
}

// jumboScript sends one DF ping of the network's full mtu (tried three times, waiting 1, 2, 3 s).
func jumboScript(target string, mtu int) string {
	s := mtu - mtuHeaders
	return fmt.Sprintf("ping -M do -c 1 -W 1 -s %d %s >/dev/null 2>&1 || ping -M do -c 1 -W 2 -s %d %s >/dev/null 2>&1 || ping -M do -c 1 -W 3 -s %d %s 2>&1", s, target, s, target, s, target)
}
