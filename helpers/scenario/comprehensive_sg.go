package scenario

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// securityGroups checks the target's group "guarded" (tcp 22 from anywhere;
// icmp and tcp 80 only from the group "peer", which host VM 1 is in): from
// the runner ssh passes (the control) and ping and http are blocked; from
// host VM 1 ping and http pass (remote_group_id); from host VM 2 (not in
// peer) a tcp connect to 22 passes (the control) and ping and http are
// blocked. A blocked check listens for a fixed window once, and fails when
// anything answers, or when its control failed (then "blocked" proves
// nothing). Controls come before the checks that wait for them.
func (cc *compChecks) securityGroups() []check.Check {
	t := cc.l.target
	td := cc.details(t)
	var vs []check.Check

	runnerCtl := newOutcome("sg/runner→target/ssh")
	vs = append(vs,
		check.Check{Name: runnerCtl.name, Details: td, Run: recorded(runnerCtl, func(ctx context.Context) (string, error) {
			_, err := probe.SSH(ctx, t.host, "true")
			return "", err
		})},
		check.Check{Name: "sg/runner→target/icmp", Details: withDetail(td, "expect", "blocked"), Run: func(ctx context.Context) error {
			answered, err := probe.PingOnce(ctx, t.FloatingIP, cc.window)
			return blockedVerdict(ctx, fmt.Sprintf("ping from the runner to the target's floating IP %s", t.FloatingIP), answered, err, runnerCtl)
		}},
		check.Check{Name: "sg/runner→target/http", Details: withDetail(td, "expect", "blocked"), Run: func(ctx context.Context) error {
			answered, err := probe.HTTPOnce(ctx, "http://"+t.FloatingIP+"/", cc.window)
			return blockedVerdict(ctx, fmt.Sprintf("http from the runner to the target's floating IP %s", t.FloatingIP), answered, err, runnerCtl)
		}},
	)

	h1 := cc.l.hosts[0]
	d1 := withDetail(cc.pairDetails(h1, t), "expect", "allowed")
	vs = append(vs,
		check.Check{Name: "sg/" + h1.label + "→target/icmp", Details: d1, Run: cc.guest(h1, func(ctx context.Context) error {
			return guestPing(ctx, h1.host, t.FixedIP)
		})},
		check.Check{Name: "sg/" + h1.label + "→target/http", Details: d1, Run: cc.guest(h1, func(ctx context.Context) error {
			name, _ := cc.ssh[t.label].passed() // the target's page shows its hostname
			return guestHTTP(ctx, h1.host, t.FixedIP, name)
		})},
	)

	if len(cc.l.hosts) < 2 {
		vs = append(vs, check.Check{Name: "sg/non-peer→target", Details: td, Run: func(context.Context) error {
			return check.Skip("only one host VM: no VM outside the group peer to probe the target from")
		}})
		return vs
	}
	h2 := cc.l.hosts[1]
	d2 := cc.pairDetails(h2, t)
	h2Ctl := newOutcome("sg/" + h2.label + "→target/ssh")
	vs = append(vs,
		check.Check{Name: h2Ctl.name, Details: withDetail(d2, "expect", "allowed"), Run: recorded(h2Ctl, func(ctx context.Context) (string, error) {
			if err := cc.sshFailed(h2); err != nil {
				return "", err
			}
			return "", guestTCPConnect(ctx, h2.host, t.FixedIP, "22", cc.window)
		})},
		check.Check{Name: "sg/" + h2.label + "→target/icmp", Details: withDetail(d2, "expect", "blocked"), Run: cc.guest(h2, func(ctx context.Context) error {
			answered, err := guestOnce(ctx, h2.host, "icmp", t.FixedIP, cc.window)
			return blockedVerdict(ctx, fmt.Sprintf("ping from %s (not in group peer) to the target %s", h2.label, t.FixedIP), answered, err, h2Ctl)
		})},
		check.Check{Name: "sg/" + h2.label + "→target/http", Details: withDetail(d2, "expect", "blocked"), Run: cc.guest(h2, func(ctx context.Context) error {
			answered, err := guestOnce(ctx, h2.host, "http", t.FixedIP, cc.window)
			return blockedVerdict(ctx, fmt.Sprintf("http from %s (not in group peer) to the target %s", h2.label, t.FixedIP), answered, err, h2Ctl)
		})},
	)
	return vs
}

// blockedVerdict judges a "must be blocked" probe with its control: an
// answer fails ("…does not block it"), silence passes only when the control
// from the same source passed; a failed control fails it too (a block seen
// from a source that reaches nothing proves nothing), a skipped one skips it.
func blockedVerdict(ctx context.Context, what string, answered bool, probeErr error, control *outcome) error {
	if probeErr != nil {
		return fmt.Errorf("%s: could not observe: %w", what, probeErr)
	}
	if answered {
		return fmt.Errorf("%s answered: the security group does not block it", what)
	}
	_, cerr, known := control.wait(ctx)
	switch reason, skip := check.IsSkip(cerr); {
	case !known:
		return fmt.Errorf("%s: no answer, but control %s did not end (%v): blocked proves nothing", what, control.name, cerr)
	case skip:
		return check.Skipf("%s: no answer, but control %s was skipped (%s)", what, control.name, reason)
	case cerr != nil:
		return fmt.Errorf("%s: no answer, but control %s failed too (%v): blocked proves nothing", what, control.name, cerr)
	}
	check.SetDetail(ctx, "observed", "no answer; control "+control.name+" passed")
	return nil
}

// guestOnceScript probes target once from inside a guest for window seconds:
// icmp (iputils ping, stops at the first reply), tcp:<port> (OpenBSD nc -z; a
// refusal is an answer too) or http (busybox wget). It prints what the tool
// said and, last, "rc=<exit status>".
func guestOnceScript(kind, target string, window time.Duration) string {
	w := max(1, int(window.Round(time.Second)/time.Second))
	switch {
	case kind == "icmp":
		return fmt.Sprintf("out=$(ping -c 1 -w %d %s 2>&1); rc=$?; echo \"$out\" | tail -n 3; echo \"rc=$rc\"", w, target)
	case strings.HasPrefix(kind, "tcp:"):
		return fmt.Sprintf("out=$(nc -v -z -w %d %s %s 2>&1); rc=$?; echo \"$out\" | tail -n 3; echo \"rc=$rc\"", w, target, strings.TrimPrefix(kind, "tcp:"))
	default: // http
		return fmt.Sprintf("out=$(timeout %d wget -q -O - http://%s/ 2>&1); rc=$?; echo \"$out\" | head -c 300; echo; echo \"rc=$rc\"", w, target)
	}
}

var rcLine = regexp.MustCompile(`(?m)^rc=(\d+)\s*$`)

// parseGuestOnce reads guestOnceScript's output: answered, silent (false,
// nil), or an error when the tool could not observe (no route, bad usage).
func parseGuestOnce(kind, out string) (bool, error) {
	m := rcLine.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return false, fmt.Errorf("guest probe printed no exit status: %q", excerpt(out))
	}
	rc := m[len(m)-1][1]
	text := strings.TrimSpace(rcLine.ReplaceAllString(out, ""))
	low := strings.ToLower(text)
	unreachable := strings.Contains(low, "unreachable") || strings.Contains(low, "no route")
	switch {
	case kind == "icmp" && rc == "0":
		return true, nil
	case kind == "icmp" && rc == "1" && !unreachable:
		return false, nil
	case kind == "icmp":
		return false, fmt.Errorf("ping exit status %s: %q", rc, excerpt(text))
	case unreachable:
		return false, fmt.Errorf("%q", excerpt(text))
	case rc == "0", strings.Contains(low, "refused"), strings.Contains(text, "HTTP/"):
		return true, nil
	case strings.Contains(low, "timed out"), kind == "http" && (rc == "143" || rc == "124" || text == "" || text == "Terminated"):
		return false, nil
	}
	return false, fmt.Errorf("guest probe said %q (exit status %s)", excerpt(text), rc)
}

// guestOnce runs one single-attempt probe inside the guest (one ssh command).
func guestOnce(ctx context.Context, h probe.Host, kind, target string, window time.Duration) (bool, error) {
	out, err := probe.SSH(ctx, h, guestOnceScript(kind, target, window))
	if err != nil {
		return false, err
	}
	return parseGuestOnce(kind, out)
}

// guestTCPConnect waits until a connection from h to target:port succeeds
// (the positive control of h's blocked probes), each attempt a single-window
// probe.
func guestTCPConnect(ctx context.Context, h probe.Host, target, port string, window time.Duration) error {
	err := probe.WaitFor(ctx, time.Second, func(ctx context.Context) (bool, error) {
		out, err := probe.SSH(ctx, h, guestOnceScript("tcp:"+port, target, window))
		if err != nil {
			return false, err
		}
		if m := rcLine.FindAllStringSubmatch(out, -1); len(m) > 0 && m[len(m)-1][1] == "0" {
			return true, nil
		}
		return false, fmt.Errorf("nc -z %s %s: %q", target, port, excerpt(rcLine.ReplaceAllString(out, "")))
	})
	if err != nil {
		return fmt.Errorf("tcp %s from %s to %s: %w", port, h.Address, target, err)
	}
	return nil
}

// guestHTTP fetches http://target/ from inside the guest until the page
// (containing want, when set) comes.
func guestHTTP(ctx context.Context, h probe.Host, target, want string) error {
	cmd := "timeout 10 wget -q -O - http://" + target + "/"
	err := probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		out, err := probe.SSH(ctx, h, cmd)
		if err != nil {
			return false, err
		}
		if !strings.Contains(out, want) || strings.TrimSpace(out) == "" {
			return false, fmt.Errorf("page does not contain %q: %q", want, excerpt(out))
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("http GET http://%s/ from %s: %w", target, h.Address, err)
	}
	return nil
}
