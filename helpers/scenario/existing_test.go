package scenario

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestParseExisting(t *testing.T) {
	sel, err := ParseExisting([]byte(`{"project": "demo", "vm": ["web-1", "3f1c0a52-5f0e-4b8e-9d36-0f4c2b8e7a11"]}`))
	require.NoError(t, err)
	assert.Equal(t, ExistingSelection{Project: "demo", VMs: []string{"web-1", "3f1c0a52-5f0e-4b8e-9d36-0f4c2b8e7a11"}}, sel)

	sel, err = ParseExisting([]byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, ExistingSelection{}, sel, "empty: every server of the credentials' project")
}

func TestParseExistingErrors(t *testing.T) {
	for in, want := range map[string]string{
		``:                                `resources file is empty: want {"project": "<name or id>", "vm": ["<name or id>", ...]}`,
		`{"vm": ["a",]}`:                  `resources file is not JSON (offset 13): invalid character ']' looking for beginning of value`,
		`{"vm": ["a"], "net": ["n1"]}`:    `resources file: unknown key "net": with --create=false only "project" and "vm" are read (the others describe what --create builds)`,
		`{"vm": "web-1"}`:                 `resources file: "vm" must be a list of server names or ids, not a JSON string`,
		`{"vm": [1]}`:                     `resources file: "vm" must be a list of server names or ids, not a JSON number`,
		`{"project": ["a"]}`:              `resources file: "project" must be a string (project name or id), not a JSON array`,
		`{"vm": ["web-1", " "]}`:          `resources file: "vm"[1] is empty: name a server by its name or id`,
		`{"vm": ["web-1", "web-1"]}`:      `resources file: "vm" names "web-1" twice`,
		`{"vm": ["web-1"]} {"vm": ["x"]}`: `resources file: more than one JSON value: want one object`,
	} {
		_, err := ParseExisting([]byte(in))
		if assert.Error(t, err, in) {
			assert.Equal(t, want, err.Error(), in)
		}
	}
}

func TestPickServers(t *testing.T) {
	all := []serverRef{{"a1", "web-1"}, {"a2", "web-2"}, {"a3", "dup"}, {"a4", "dup"}}
	ids, err := pickServers(toServers(all), []string{"web-2", "a1", "a3"}, "p1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a2", "a1", "a3"}, ids)

	ids, err = pickServers(toServers(all), nil, "p1")
	require.NoError(t, err)
	assert.Equal(t, []string{"a3", "a4", "a1", "a2"}, ids, "every server, by name")

	_, err = pickServers(toServers(all), []string{"web-9"}, "p1")
	assert.EqualError(t, err, `no server named "web-9" or with that id in project p1`)
	_, err = pickServers(toServers(all), []string{"dup"}, "p1")
	assert.EqualError(t, err, `2 servers are named "dup" in project p1 (a3, a4): name it by id`)
	_, err = pickServers(nil, nil, "p1")
	assert.EqualError(t, err, "project p1 has no servers: nothing to snapshot")
}

// existingWeb is a server as the fixture reports it: ACTIVE, one port, a
// floating IP, a volume, a group that lets icmp and tcp 22 in from anywhere.
func existingWeb() ExistingServer {
	return ExistingServer{
		ID: "s1", Name: "web-1", Status: "ACTIVE",
		Ports:       []ExistingPort{{ID: "p1", MAC: "fa:16:3e:00:00:01", Status: "ACTIVE", FixedIPs: []string{"10.0.0.5"}, SecurityGroupIDs: []string{"g1"}}},
		FloatingIPs: []ExistingFloatingIP{{Address: "127.0.0.1", PortID: "p1"}},
		VolumeIDs:   []string{"v1"},
		SecurityGroupRules: []ExistingRule{
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp", RemoteIPPrefix: "0.0.0.0/0"},
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortMin: 22, PortMax: 22, RemoteIPPrefix: "0.0.0.0/0"},
			{Direction: "egress", Ethertype: "IPv4"},
		},
	}
}

func outputs(servers ...ExistingServer) tf.Outputs {
	list := make([]any, len(servers))
	for i, s := range servers {
		list[i] = s
	}
	return tf.Outputs{"servers": list}
}

// runNamed runs the check called name of checks.
func runNamed(t *testing.T, checks []check.Check, name string) check.Result {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return check.Runner{Timeout: 10 * time.Second}.RunOne(context.Background(), c)
		}
	}
	t.Fatalf("no check %s", name)
	return check.Result{}
}

func TestExistingChecksNames(t *testing.T) {
	checks, err := ExistingChecks(outputs(existingWeb()), outputs(existingWeb()))
	require.NoError(t, err)
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
		assert.Equal(t, "s1", c.Details["server_id"])
	}
	assert.Equal(t, []string{"existing/web-1/status", "existing/web-1/ports", "existing/web-1/attachments",
		"existing/web-1/floating-ip", "existing/web-1/ping", "existing/web-1/tcp-22"}, names)
}

func TestExistingChecksFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*ExistingServer)
		check  string
		want   string
	}{
		"status": {func(s *ExistingServer) { s.Status = "SHUTOFF" }, "status",
			"server web-1: status was ACTIVE at the snapshot, now SHUTOFF"},
		"port down": {func(s *ExistingServer) { s.Ports[0].Status = "DOWN" }, "ports",
			"server web-1: port p1 is DOWN, was ACTIVE"},
		"port gone": {func(s *ExistingServer) { s.Ports = nil }, "ports",
			"server web-1: port p1 (fa:16:3e:00:00:01) is gone"},
		"port changed": {func(s *ExistingServer) {
			s.Ports[0].MAC, s.Ports[0].FixedIPs, s.Ports[0].SecurityGroupIDs = "fa:16:3e:00:00:02", []string{"10.0.0.6"}, nil
		}, "ports",
			"server web-1: port p1: MAC fa:16:3e:00:00:02, was fa:16:3e:00:00:01; port p1: fixed IPs [10.0.0.6], were [10.0.0.5]; port p1: security groups [], were [g1]"},
		"port new": {func(s *ExistingServer) { s.Ports = append(s.Ports, ExistingPort{ID: "p2", MAC: "fa:16:3e:00:00:09"}) }, "ports",
			"server web-1: port p2 (fa:16:3e:00:00:09) is new"},
		"detached": {func(s *ExistingServer) { s.VolumeIDs = nil }, "attachments",
			"server web-1: volume v1 is no longer attached"},
		"attached": {func(s *ExistingServer) { s.VolumeIDs = append(s.VolumeIDs, "v2") }, "attachments",
			"server web-1: volume v2 is newly attached"},
		"floating IP gone": {func(s *ExistingServer) { s.FloatingIPs = nil }, "floating-ip",
			"server web-1: floating IP 127.0.0.1 is gone (it was on port p1)"},
		"floating IP disassociated": {func(s *ExistingServer) { s.FloatingIPs[0].PortID = "" }, "floating-ip",
			"server web-1: floating IP 127.0.0.1 is no longer associated (it was on port p1)"},
		"floating IP moved": {func(s *ExistingServer) { s.FloatingIPs[0].PortID = "p9" }, "floating-ip",
			"server web-1: floating IP 127.0.0.1 moved from port p1 to port p9"},
	} {
		t.Run(name, func(t *testing.T) {
			after := existingWeb()
			tc.change(&after)
			checks, err := ExistingChecks(outputs(existingWeb()), outputs(after))
			require.NoError(t, err)
			r := runNamed(t, checks, "existing/web-1/"+tc.check)
			assert.Equal(t, check.Failed, r.Status())
			assert.Equal(t, tc.want, r.Error)
			for _, c := range checks { // and only that check fails
				if c.Name != "existing/web-1/"+tc.check && !strings.Contains(c.Name, "/tcp-") && !strings.HasSuffix(c.Name, "/ping") {
					assert.Equal(t, check.Passed, runNamed(t, checks, c.Name).Status(), c.Name)
				}
			}
		})
	}
}

func TestExistingChecksServerGone(t *testing.T) {
	checks, err := ExistingChecks(outputs(existingWeb()), outputs())
	require.NoError(t, err)
	require.Len(t, checks, 6)
	for _, c := range checks {
		r := runNamed(t, checks, c.Name)
		assert.Equal(t, check.Failed, r.Status(), c.Name)
		assert.Equal(t, "server web-1 (s1) is gone: it was in the snapshot, and Nova no longer has it", r.Error, c.Name)
	}
}

func TestExistingChecksUnreadableVolumesSkip(t *testing.T) {
	b := existingWeb()
	b.VolumeIDs, b.VolumeIDsUnreadable = nil, []string{"v7"}
	checks, err := ExistingChecks(outputs(b), outputs(b))
	require.NoError(t, err)
	r := runNamed(t, checks, "existing/web-1/attachments")
	assert.Equal(t, check.Skipped, r.Status())
	assert.Equal(t, "volumes v7 have no unique name in the caller's project: no data source can read them", r.Reason)
}

func TestExistingChecksTCPRefusedIsReachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close()) // nothing listens: refused, the packets passed
	b := existingWeb()
	b.SecurityGroupRules = []ExistingRule{{Direction: "ingress", Protocol: "tcp", PortMin: port, PortMax: port}}
	checks, err := ExistingChecks(outputs(b), outputs(b))
	require.NoError(t, err)
	r := runNamed(t, checks, "existing/web-1/tcp-"+strconv.Itoa(port))
	assert.Equal(t, check.Passed, r.Status(), r.Error)
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(port), r.Details["address"])
}

func TestExistingChecksProbesFollowRules(t *testing.T) {
	old := runnerAddr
	t.Cleanup(func() { runnerAddr = old })
	runnerAddr = func(string) (netip.Addr, bool) { return netip.MustParseAddr("172.24.4.1"), true }
	probes := func(rules ...ExistingRule) []string {
		b := existingWeb()
		b.SecurityGroupRules = rules
		checks, err := ExistingChecks(outputs(b), outputs(b))
		require.NoError(t, err)
		var names []string
		for _, c := range checks[4:] {
			names = append(names, strings.TrimPrefix(c.Name, "existing/web-1/"))
		}
		return names
	}
	in := func(proto string, port int, prefix string) ExistingRule {
		return ExistingRule{Direction: "ingress", Ethertype: "IPv4", Protocol: proto, PortMin: port, PortMax: port, RemoteIPPrefix: prefix}
	}
	assert.Equal(t, []string{"ping"}, probes(in("icmp", 0, "172.24.4.0/24")), "a prefix holding the runner")
	assert.Empty(t, probes(in("icmp", 0, "10.9.0.0/16"), in("tcp", 22, "192.168.0.0/16")), "prefixes without the runner")
	assert.Empty(t, probes(ExistingRule{Direction: "ingress", Protocol: "icmp", RemoteGroupID: "g2"}), "members of a group only")
	assert.Empty(t, probes(ExistingRule{Direction: "egress", Protocol: "icmp"}), "egress")
	assert.Empty(t, probes(ExistingRule{Direction: "ingress", Ethertype: "IPv6", Protocol: "icmp"}), "IPv6")
	assert.Equal(t, []string{"ping", "tcp-22"}, probes(ExistingRule{Direction: "ingress", Ethertype: "IPv4"}), "any protocol, any port")
	assert.Equal(t, []string{"tcp-22", "tcp-80", "tcp-443"},
		probes(in("tcp", 8080, ""), in("tcp", 443, ""), in("tcp", 22, ""), in("tcp", 80, ""), in("udp", 53, "")), "at most 3 tcp ports")

	b := existingWeb()
	b.Status = "SHUTOFF"
	checks, err := ExistingChecks(outputs(b), outputs(b))
	require.NoError(t, err)
	assert.Len(t, checks, 4, "no probe of a server that was not ACTIVE")
}

func TestExistingChecksBadOutputs(t *testing.T) {
	_, err := ExistingChecks(tf.Outputs{}, outputs(existingWeb()))
	assert.EqualError(t, err, `the snapshot's outputs: output "servers" is missing`)
	_, err = ExistingChecks(outputs(), outputs(existingWeb()))
	assert.EqualError(t, err, `the snapshot's output "servers" is empty: nothing to verify`)
	_, err = ExistingChecks(outputs(existingWeb()), tf.Outputs{"servers": "x"})
	assert.EqualError(t, err, `the verify read's outputs: output "servers": json: cannot unmarshal string into Go value of type []scenario.ExistingServer`)
}

// TestUpgradeExistingFixtureIsReadOnly: the fixture that reads a tenant's
// servers holds data sources only — no resource, no module (which could hold
// one) — so applying or destroying it can change nothing.
func TestUpgradeExistingFixtureIsReadOnly(t *testing.T) {
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, ExistingFixture, "*.tf"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	data := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, block := range readOnlyViolations(t, f, src, &data) {
			t.Errorf("%s: %s", filepath.Base(f), block)
		}
	}
	assert.GreaterOrEqual(t, data, 5, "data sources found")
}

func TestReadOnlyViolations(t *testing.T) {
	n := 0
	got := readOnlyViolations(t, "x.tf", []byte(`
data "openstack_compute_instance_v2" "s" { id = "x" }
resource "openstack_networking_floatingip_associate_v2" "a" {
  floating_ip = "172.24.4.9"
}
module "m" { source = "../../modules/network" }
`), &n)
	assert.Equal(t, []string{`resource "openstack_networking_floatingip_associate_v2" "a" at line 3`, `module "m" at line 6`}, got)
	assert.Equal(t, 1, n)
}

// readOnlyViolations parses src as HCL and lists its resource and module
// blocks; it counts the data blocks in data.
func readOnlyViolations(t *testing.T, name string, src []byte, data *int) []string {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	var bad []string
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		switch b.Type {
		case "data":
			*data++
		case "resource", "module", "ephemeral", "import", "moved", "removed":
			bad = append(bad, b.Type+` "`+strings.Join(b.Labels, `" "`)+`" at line `+strconv.Itoa(b.TypeRange.Start.Line))
		}
	}
	return bad
}

type serverRef struct{ id, name string }

func toServers(refs []serverRef) []servers.Server {
	out := make([]servers.Server, len(refs))
	for i, r := range refs {
		out[i] = servers.Server{ID: r.id, Name: r.name}
	}
	return out
}

func TestExistingChecksProbeFailures(t *testing.T) {
	old := existingProbeTimeout
	t.Cleanup(func() { existingProbeTimeout = old })
	existingProbeTimeout = time.Nanosecond // over before the first attempt
	checks, err := ExistingChecks(outputs(existingWeb()), outputs(existingWeb()))
	require.NoError(t, err)
	r := runNamed(t, checks, "existing/web-1/ping")
	assert.Equal(t, check.Failed, r.Status())
	assert.True(t, strings.HasPrefix(r.Error, "ping 127.0.0.1 (0 echo requests sent): "), r.Error)
	r = runNamed(t, checks, "existing/web-1/tcp-22")
	assert.Equal(t, check.Failed, r.Status())
	assert.True(t, strings.HasPrefix(r.Error, "connect to 127.0.0.1:22 (0 attempts; a refused connection would count): "), r.Error)
}
