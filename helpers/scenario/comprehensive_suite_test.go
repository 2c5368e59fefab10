package scenario

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// fakeOutputs are the fixture's outputs as OpenTofu's JSON gives them (numbers are float64).
func fakeOutputs(pinned bool, hosts int, mtu float64) tf.Outputs {
	var servers []any
	names := []string{"compute-1", "compute-2", "compute-3"}
	for i := range hosts {
		req := ""
		if pinned {
			req = names[i]
		}
		servers = append(servers, map[string]any{"name": "cp-run-host-" + string(rune('1'+i)), "id": "id-" + string(rune('1'+i)),
			"port_id": "p", "fixed_ip": "10.43.0.1" + string(rune('1'+i)), "floating_ip": "172.24.4.1" + string(rune('1'+i)),
			"role": "host", "requested_host": req, "availability_zone": "nova", "hypervisor_hostname": req})
	}
	servers = append(servers, map[string]any{"name": "cp-run-target", "id": "id-t", "port_id": "p", "fixed_ip": "10.43.0.20",
		"floating_ip": "172.24.4.20", "role": "target", "requested_host": "", "availability_zone": "nova", "hypervisor_hostname": ""})
	return tf.Outputs{"run_id": "cp12021400-abcdef12", "ssh_user": "root", "network_id": "n", "network_mtu": mtu, "subnet_cidr": "10.43.0.0/24",
		"gateway_ip": "10.43.0.1", "external_gateway_ip": "172.24.4.1", "external_probe_address": "", "server_group_id": "",
		"security_group_ids": map[string]any{"open": "a", "peer": "b", "guarded": "c"}, "servers": servers}
}

func checkNames(checks []check.Check) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Name)
	}
	return out
}

func TestComprehensiveSuiteShape(t *testing.T) {
	_, c := newFake(t, true)
	s := newTestComprehensive(t, ComprehensiveOptions{MaxParallel: 7})
	suite, err := s.Validations(t.Context(), c, fakeOutputs(true, 2, 1450), func(string, ...any) {})
	require.NoError(t, err)
	assert.Equal(t, []string{"id-1", "id-2", "id-t"}, suite.ServerIDs)
	require.NotNil(t, suite.HostKeys)
	require.Len(t, suite.Stages, 3)
	for _, st := range suite.Stages {
		assert.Equal(t, 7, st.Concurrency, st.Name)
		assert.False(t, st.StopOnFailure, "%s: every result is reported", st.Name)
	}
	assert.Equal(t, "reach", suite.Stages[0].Name)
	assert.Equal(t, []string{"ping/compute-1", "ping/compute-2", "ssh/compute-1", "ssh/compute-2", "ssh/target", "http/compute-1", "http/compute-2"},
		checkNames(suite.Stages[0].Checks))
	assert.Equal(t, "from-guest", suite.Stages[1].Name)
	assert.Equal(t, []string{
		"gateway/compute-1", "external/compute-1", "metadata/compute-1",
		"gateway/compute-2", "external/compute-2", "metadata/compute-2",
		"east-west/compute-1→compute-2", "east-west/compute-2→compute-1",
		"mtu/compute-1→compute-2", "mtu/compute-2→compute-1",
	}, checkNames(suite.Stages[1].Checks), "no jumbo check at mtu 1450")
	assert.Equal(t, "security-groups", suite.Stages[2].Name)
	assert.Equal(t, []string{
		"sg/runner→target/ssh", "sg/runner→target/icmp", "sg/runner→target/http",
		"sg/compute-1→target/icmp", "sg/compute-1→target/http",
		"sg/compute-2→target/ssh", "sg/compute-2→target/icmp", "sg/compute-2→target/http",
	}, checkNames(suite.Stages[2].Checks))

	ping := suite.Stages[0].Checks[0]
	assert.Equal(t, map[string]string{"run_id": "cp12021400-abcdef12", "server": "cp-run-host-1", "server_id": "id-1", "floating_ip": "172.24.4.11",
		"fixed_ip": "10.43.0.11", "role": "host", "requested_host": "compute-1", "hypervisor_hostname": "compute-1", "availability_zone": "nova"}, ping.Details)
	assert.Equal(t, "172.24.4.1", suite.Stages[1].Checks[1].Details["external_address"], "outside: the external gateway by default")
	assert.Equal(t, "1450", suite.Stages[1].Checks[8].Details["network_mtu"])
}

func TestComprehensiveSuiteJumboMeshAndVMLabels(t *testing.T) {
	_, c := newFake(t, false)
	s := newTestComprehensive(t, ComprehensiveOptions{FullMesh: true})
	out := fakeOutputs(false, 3, 8950)
	out["external_probe_address"] = "172.24.4.99"
	suite, err := s.Validations(t.Context(), c, out, func(string, ...any) {})
	require.NoError(t, err)
	assert.Equal(t, 20, suite.Stages[0].Concurrency)
	got := checkNames(suite.Stages[1].Checks)
	assert.Contains(t, got, "external/vm-1")
	for _, p := range []string{"vm-1→vm-2", "vm-1→vm-3", "vm-2→vm-1", "vm-2→vm-3", "vm-3→vm-1", "vm-3→vm-2"} {
		assert.Contains(t, got, "east-west/"+p)
		assert.Contains(t, got, "mtu/"+p)
		assert.Contains(t, got, "jumbo/"+p)
	}
	assert.Len(t, got, 9+3*6)
	assert.Equal(t, "172.24.4.99", suite.Stages[1].Checks[1].Details["external_address"])
}

func TestComprehensiveSuiteOneHostVM(t *testing.T) {
	_, c := newFake(t, false)
	s := newTestComprehensive(t, ComprehensiveOptions{})
	suite, err := s.Validations(t.Context(), c, fakeOutputs(false, 1, 1450), func(string, ...any) {})
	require.NoError(t, err)
	assert.Equal(t, []string{"gateway/vm-1", "external/vm-1", "metadata/vm-1"}, checkNames(suite.Stages[1].Checks), "no pair: no east-west, no mtu")
	sg := suite.Stages[2].Checks
	last := sg[len(sg)-1]
	assert.Equal(t, "sg/non-peer→target", last.Name)
	err = last.Run(t.Context())
	reason, skip := check.IsSkip(err)
	require.True(t, skip)
	assert.Equal(t, "only one host VM: no VM outside the group peer to probe the target from", reason)
}

func TestExternalSkipsWithoutATarget(t *testing.T) {
	out := fakeOutputs(false, 2, 1450)
	out["external_gateway_ip"] = ""
	l, err := readLayout(out)
	require.NoError(t, err)
	cc := newCompChecks(ComprehensiveOptions{}, l)
	ext := cc.fromGuest()[1]
	require.Equal(t, "external/vm-1", ext.Name)
	reason, skip := check.IsSkip(ext.Run(t.Context()))
	require.True(t, skip)
	assert.Equal(t, "no address outside the cloud to reach: the external network's subnets are not visible to this user; set CLOUDPULSE_EXTERNAL_PROBE", reason)
}

func TestReadLayoutRejectsBadOutputs(t *testing.T) {
	out := fakeOutputs(true, 2, 1450)
	out["servers"] = []any{map[string]any{"name": "x", "id": "i", "fixed_ip": "1", "floating_ip": "2", "role": "host"}}
	_, err := readLayout(out)
	require.EqualError(t, err, "fixture outputs: want host VMs and one target, got 1 host VMs and target false")
	delete(out, "network_mtu")
	_, err = readLayout(out)
	require.EqualError(t, err, `output "network_mtu" is missing`)
}

func TestPairs(t *testing.T) {
	assert.Nil(t, pairs(1, false))
	assert.Equal(t, [][2]int{{0, 1}, {1, 0}}, pairs(2, false))
	assert.Equal(t, [][2]int{{0, 1}, {1, 2}, {2, 0}}, pairs(3, false))
	assert.Equal(t, [][2]int{{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}}, pairs(3, true))
	assert.Len(t, pairs(300, false), 300)
}

// With every VM's ssh failed, each guest check is skipped naming the failed
// login, and nothing touches the network.
func TestGuestChecksSkipWhenSSHFailed(t *testing.T) {
	l, err := readLayout(fakeOutputs(true, 2, 8950))
	require.NoError(t, err)
	cc := newCompChecks(ComprehensiveOptions{}, l)
	cc.ssh["compute-1"].set("", errors.New("ssh root@172.24.4.11:22: connection refused"))
	cc.ssh["compute-2"].set("", check.Skip("not run"))
	var guest []check.Check
	for _, c := range append(cc.fromGuest(), cc.securityGroups()...) {
		if HostLabel(c.Name) != "target" {
			guest = append(guest, c)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	results := check.Runner{Concurrency: 20}.Run(ctx, guest...)
	require.Len(t, results, 3*2+2*3+5)
	for _, r := range results {
		require.Equal(t, check.Skipped, r.Status(), "%s: %s", r.Name, r.Detail())
		switch HostLabel(r.Name) {
		case "compute-1":
			assert.Equal(t, "ssh/compute-1 failed: ssh root@172.24.4.11:22: connection refused", r.Reason, r.Name)
		case "compute-2":
			assert.Equal(t, "ssh/compute-2 was skipped: not run", r.Reason, r.Name)
		default:
			t.Errorf("unexpected %s", r.Name)
		}
	}
}

func TestBlockedVerdict(t *testing.T) {
	ctx := t.Context()
	const what = "ping from compute-2 (not in group peer) to the target 10.43.0.20"
	passed := newOutcome("sg/compute-2→target/ssh")
	passed.set("", nil)
	failed := newOutcome("sg/compute-2→target/ssh")
	failed.set("", errors.New("no ssh banner"))
	skipped := newOutcome("sg/compute-2→target/ssh")
	skipped.set("", check.Skip("ssh/compute-2 failed"))

	require.NoError(t, blockedVerdict(ctx, what, false, nil, passed))
	require.EqualError(t, blockedVerdict(ctx, what, true, nil, passed),
		"ping from compute-2 (not in group peer) to the target 10.43.0.20 answered: the security group does not block it")
	require.EqualError(t, blockedVerdict(ctx, what, false, nil, failed),
		"ping from compute-2 (not in group peer) to the target 10.43.0.20: no answer, but control sg/compute-2→target/ssh failed too (no ssh banner): blocked proves nothing")
	reason, skip := check.IsSkip(blockedVerdict(ctx, what, false, nil, skipped))
	require.True(t, skip)
	assert.Equal(t, "ping from compute-2 (not in group peer) to the target 10.43.0.20: no answer, but control sg/compute-2→target/ssh was skipped (ssh/compute-2 failed)", reason)
	require.EqualError(t, blockedVerdict(ctx, what, false, errors.New("no raw socket"), passed),
		"ping from compute-2 (not in group peer) to the target 10.43.0.20: could not observe: no raw socket")

	// an answer fails even with a dead control; a control that never ends fails at ctx's end
	require.ErrorContains(t, blockedVerdict(ctx, what, true, nil, failed), "does not block it")
	pending := newOutcome("sg/runner→target/ssh")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, blockedVerdict(short, what, false, nil, pending), "no answer, but control sg/runner→target/ssh did not end")
}

// A blocked check of the security-groups stage waits for its control, run
// through the Runner: a failed control fails it.
func TestBlockedCheckFailsWithItsControlThroughTheRunner(t *testing.T) {
	for _, n := range []int{1, 2} {
		ctl := newOutcome("ctl")
		checks := []check.Check{
			{Name: "ctl", Run: recorded(ctl, func(ctx context.Context) (string, error) {
				time.Sleep(50 * time.Millisecond)
				return "", errors.New("refused")
			})},
			{Name: "blocked", Run: func(ctx context.Context) error { return blockedVerdict(ctx, "x", false, nil, ctl) }},
		}
		rs := check.Runner{Concurrency: n, Timeout: 5 * time.Second}.Run(t.Context(), checks...)
		assert.Equal(t, "x: no answer, but control ctl failed too (refused): blocked proves nothing", rs[1].Error, "concurrency %d", n)
	}
}

func TestParseGuestOnce(t *testing.T) {
	for _, tc := range []struct {
		kind, out string
		answered  bool
		err       string
	}{
		{"icmp", "1 packets transmitted, 1 received, 0% packet loss\nrc=0\n", true, ""},
		{"icmp", "1 packets transmitted, 0 received, 100% packet loss, time 0ms\nrc=1\n", false, ""},
		{"icmp", "From 10.43.0.11 icmp_seq=1 Destination Host Unreachable\nrc=1\n", false, `ping exit status 1: "From 10.43.0.11 icmp_seq=1 Destination Host Unreachable"`},
		{"icmp", "ping: connect: Network is unreachable\nrc=2\n", false, `ping exit status 2: "ping: connect: Network is unreachable"`},
		{"tcp:22", "Connection to 10.43.0.20 22 port [tcp/ssh] succeeded!\nrc=0\n", true, ""},
		{"tcp:22", "nc: connect to 10.43.0.20 port 22 (tcp) failed: Connection refused\nrc=1\n", true, ""},
		{"tcp:22", "nc: connect to 10.43.0.20 port 22 (tcp) timed out: Operation now in progress\nrc=1\n", false, ""},
		{"tcp:22", "nc: connect to 10.43.0.20 port 22 (tcp) failed: No route to host\nrc=1\n", false, `"nc: connect to 10.43.0.20 port 22 (tcp) failed: No route to host"`},
		{"tcp:22", "nc: invalid option -- 'z'\nrc=1\n", false, `guest probe said "nc: invalid option -- 'z'" (exit status 1)`},
		{"http", "<h1>cp-run-target</h1>\n\nrc=0\n", true, ""},
		{"http", "wget: server returned error: HTTP/1.1 403 Forbidden\n\nrc=1\n", true, ""},
		{"http", "wget: can't connect to remote host (10.43.0.20): Connection refused\n\nrc=1\n", true, ""},
		{"http", "\n\nrc=143\n", false, ""},
		{"http", "Terminated\n\nrc=124\n", false, ""},
		{"http", "wget: bad address 'x'\n\nrc=1\n", false, `guest probe said "wget: bad address 'x'" (exit status 1)`},
		{"http", "nothing", false, `guest probe printed no exit status: "nothing"`},
	} {
		answered, err := parseGuestOnce(tc.kind, tc.out)
		assert.Equal(t, tc.answered, answered, "%s %q", tc.kind, tc.out)
		if tc.err == "" {
			assert.NoError(t, err, "%s %q", tc.kind, tc.out)
		} else {
			assert.EqualError(t, err, tc.err, "%s %q", tc.kind, tc.out)
		}
	}
	assert.Equal(t, `out=$(ping -c 1 -w 5 10.43.0.20 2>&1); rc=$?; echo "$out" | tail -n 3; echo "rc=$rc"`, guestOnceScript("icmp", "10.43.0.20", 5*time.Second))
	assert.Equal(t, `out=$(nc -v -z -w 3 10.43.0.20 22 2>&1); rc=$?; echo "$out" | tail -n 3; echo "rc=$rc"`, guestOnceScript("tcp:22", "10.43.0.20", 3*time.Second))
}

// fakePing is a ping for the MTU script: it passes when -s is at most
// $LIMIT; with $FLAKY it drops the first packet of every size.
const fakePing = `#!/bin/sh
size=0; prev=
for a in "$@"; do [ "$prev" = "-s" ] && size=$a; prev=$a; done
echo "$size" >> "$STATE/sizes"
if [ -n "$FLAKY" ] && [ ! -e "$STATE/seen-$size" ]; then : > "$STATE/seen-$size"; exit 1; fi
[ "$size" -le "$LIMIT" ] || { echo "1 packets transmitted, 0 received"; exit 1; }
`

func TestMTUScript(t *testing.T) {
	// a POSIX shell that searches PATH (busybox's may run its own ping applet)
	sh, args := "/bin/sh", []string{"-c"}
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "ping"), []byte(fakePing), 0o755))
	run := func(limit string, flaky bool, mtu int) (int, error, int) {
		state := t.TempDir()
		cmd := exec.Command(sh, append(args, mtuScript("10.43.0.12", mtu))...)
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LIMIT=" + limit, "STATE=" + state}
		if flaky {
			cmd.Env = append(cmd.Env, "FLAKY=1")
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		sizes, _ := os.ReadFile(filepath.Join(state, "sizes"))
		n, perr := parseMTU(string(out))
		return n, perr, len(splitLines(string(sizes)))
	}
	n, err, tries := run("8922", false, 8950)
	require.NoError(t, err)
	assert.Equal(t, 8922, n, "the whole network mtu passes")
	assert.Equal(t, 2, tries, "the smallest and the largest only")

	n, err, tries = run("1372", false, 8950) // a 1400-byte path
	require.NoError(t, err)
	assert.Equal(t, 1372, n)
	assert.Less(t, tries, 40, "a binary search, not a scan")
	require.EqualError(t, mtuVerdict("mtu/compute-1→compute-2", n+mtuHeaders, 8950), "mtu/compute-1→compute-2: largest DF packet 1400 bytes, the network's mtu is 8950")
	require.NoError(t, mtuVerdict("mtu/compute-1→compute-2", 8950, 8950))

	n, err, _ = run("1000", true, 1450) // one lost packet per size is tolerated
	require.NoError(t, err)
	assert.Equal(t, 1000, n)

	_, err, _ = run("100", false, 1450)
	require.EqualError(t, err, "not even a DF packet of 576 bytes passed (ping: 1 packets transmitted, 0 received)")
}

func TestParseMTU(t *testing.T) {
	n, err := parseMTU("noise\nlargest 1422\n")
	require.NoError(t, err)
	assert.Equal(t, 1422, n)
	_, err = parseMTU("ping: invalid option -- 'M'\n")
	require.EqualError(t, err, `path MTU search printed "ping: invalid option -- 'M'", want "largest <size>"`)
	_, err = parseMTU("largest x")
	require.EqualError(t, err, `path MTU search printed "largest x"`)
}

func splitLines(s string) []string { return strings.Fields(s) }

func TestByHost(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	res := Result{Checks: []check.Result{
		{Name: "host-coverage", Skipped: true, Reason: "member"},
		{Name: "boot/compute-3", Err: errors.New("down"), Error: "down", StartedAt: t0},
		{Name: "ping/compute-1", OK: true, StartedAt: t0, Duration: 2 * time.Second, Details: map[string]string{"server": "cp-x-host-1", "server_id": "id-1", "boot_seconds": "7.5"}},
		{Name: "ssh/compute-1", OK: true, StartedAt: t0.Add(time.Second), Duration: 3 * time.Second},
		{Name: "east-west/compute-1→compute-2", Err: errors.New("no reply"), Error: "no reply", StartedAt: t0.Add(5 * time.Second), Duration: time.Second},
		{Name: "sg/runner→target/icmp", OK: true, StartedAt: t0, Duration: 5 * time.Second, Details: map[string]string{"server": "cp-x-target", "server_id": "id-t"}},
		{Name: "sg/compute-2→target/icmp", Skipped: true, Reason: "ssh failed", Details: map[string]string{"from": "cp-x-host-2", "from_id": "id-2"}},
	}}
	got := ByHost(res)
	assert.Len(t, got, 4)
	c1 := got["compute-1"]
	assert.Equal(t, HostReport{Host: "compute-1", Server: "cp-x-host-1", ServerID: "id-1", BootSeconds: 7.5, Seconds: 6, Passed: 2, Failed: 1, Checks: []HostCheck{
		{Name: "ping/compute-1", Status: check.Passed, Seconds: 2},
		{Name: "ssh/compute-1", Status: check.Passed, Seconds: 3},
		{Name: "east-west/compute-1→compute-2", Status: check.Failed, Seconds: 1, Detail: "no reply"},
	}}, c1)
	assert.Equal(t, "cp-x-target", got["target"].Server)
	assert.Equal(t, 1, got["compute-2"].Skipped)
	assert.Equal(t, "id-2", got["compute-2"].ServerID)
	assert.Equal(t, 1, got["compute-3"].Failed)

	for name, want := range map[string]string{"ping/compute-1": "compute-1", "mtu/vm-1→vm-2": "vm-1", "sg/runner→target/http": "target",
		"sg/non-peer→target": "target", "boot/compute-2": "compute-2", "host-coverage": ""} {
		assert.Equal(t, want, HostLabel(name), name)
	}
}
