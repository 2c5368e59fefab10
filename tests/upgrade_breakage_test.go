package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// breakageTimeout bounds each check of the breakage verify: the broken
// paths fail by timing out, and four of them at a time must not take the
// whole test budget. The upgrade's own verify keeps the default.
const breakageTimeout = 40 * time.Second

// testBreakage breaks the snapshot's system the way a bad upgrade would — the
// security group's icmp rule deleted, vm-2's floating IP disassociated, vm-1
// rebooted, the l3 agent left stopped — and verify must fail naming each.
// It runs on the lab (it stops the l3 agent) as the admin, after the real
// upgrade's verify passed, on the same apply.
func testBreakage(t *testing.T, ctx context.Context, c *cloud.Cloud, dir string, phase scenario.PhaseOptions) {
	snap, err := scenario.LoadSnapshot(dir, "")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(snap.Servers), 2, "breakage needs two vms")
	vm1, vm2 := snap.Servers[0], snap.Servers[1]
	nc, err := c.Network()
	require.NoError(t, err)
	cc, err := c.Compute()
	require.NoError(t, err)

	// 1. vm-1 rebooted (hard) first: a hard reboot recreates its tap, and the L2 agents filter the new tap
	// only once they have seen it (neutron's linuxbridge agent removes the port's filter when the tap goes and
	// sets it up again when it is back); until then the port is unfiltered. So the reboot comes first, and the
	// test waits for the port to be ACTIVE and filtered again before it breaks the security group.
	require.NoError(t, servers.Reboot(ctx, cc, vm1.ID, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr())
	t.Logf("broke: hard-rebooted %s", vm1.Name)
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer rcancel()
	start := time.Now()
	require.NoError(t, probe.WaitFor(rctx, 3*time.Second, func(ctx context.Context) (bool, error) {
		// the reboot done first (status HARD_REBOOT until nova has restarted the guest): right after the
		// API call the old guest still answers
		srv, err := servers.Get(ctx, cc, vm1.ID).Extract()
		if err != nil {
			return false, err
		}
		if srv.Status != "ACTIVE" || srv.TaskState != "" {
			return false, fmt.Errorf("%s is %s (task %q)", vm1.Name, srv.Status, srv.TaskState)
		}
		return vmFiltered(ctx, nc, vm1)
	}), "vm-1 back after its hard reboot, its port ACTIVE and filtered by its security group again")
	t.Logf("vm-1 back, its port ACTIVE and filtered %.1fs after the reboot", time.Since(start).Seconds())

	// 2. the icmp rule of the run's security group
	pages, err := groups.List(nc, groups.ListOpts{Name: scenario.NamePrefix(snap.RunID) + "sg"}).AllPages(ctx)
	require.NoError(t, err)
	sgs, err := groups.ExtractGroups(pages)
	require.NoError(t, err)
	require.Len(t, sgs, 1, "the run's security group")
	var icmp string
	for _, r := range sgs[0].Rules {
		if r.Protocol == "icmp" && r.Direction == "ingress" {
			icmp = r.ID
		}
	}
	require.NotEmpty(t, icmp, "the icmp rule")
	require.NoError(t, rules.Delete(ctx, nc, icmp).ExtractErr())
	t.Logf("broke: deleted security group rule %s (icmp in)", icmp)

	// 3. vm-2's floating IP
	pages, err = floatingips.List(nc, floatingips.ListOpts{FloatingIP: vm2.FloatingIP}).AllPages(ctx)
	require.NoError(t, err)
	fips, err := floatingips.ExtractFloatingIPs(pages)
	require.NoError(t, err)
	require.Len(t, fips, 1, "vm-2's floating IP")
	empty := ""
	_, err = floatingips.Update(ctx, nc, fips[0].ID, floatingips.UpdateOpts{PortID: &empty}).Extract()
	require.NoError(t, err)
	t.Logf("broke: disassociated floating IP %s from %s", vm2.FloatingIP, vm2.Name)
	// in effect before the l3 agent stops (a stopped agent would leave the NAT in place)
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer dcancel()
	require.NoError(t, probe.WaitFor(dctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		answered, err := probe.TCPOnce(ctx, vm2.FloatingIP+":22", 2*time.Second)
		if err != nil {
			return false, err
		}
		return !answered, fmt.Errorf("%s:22 still answers", vm2.FloatingIP)
	}), "the disassociation in effect")

	// 4. the l3 agent, left stopped (started again whatever happens)
	took, out, err := labCtl(ctx, "stop", "neutron-l3-agent")
	require.NoError(t, err)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, out, err := labCtl(sctx, "start", "neutron-l3-agent")
		assert.NoError(t, err, "restart the l3 agent: %s", out)
	})
	t.Logf("broke: %s (%.1fs)", out, took.Seconds())

	// the deleted icmp rule in effect: the agents apply a rule change asynchronously (seconds, more on a
	// loaded cloud); verify is asked about the broken system, not about how fast the cloud got there
	ictx, icancel := context.WithTimeout(ctx, 3*time.Minute)
	defer icancel()
	start = time.Now()
	require.NoError(t, probe.WaitFor(ictx, 2*time.Second, func(ctx context.Context) (bool, error) {
		answered, err := probe.PingOnce(ctx, vm1.FloatingIP, 3*time.Second)
		if err != nil {
			return false, err
		}
		return !answered, fmt.Errorf("%s still answers ping", vm1.FloatingIP)
	}), "the deleted icmp rule in effect")
	t.Logf("the deleted icmp rule in effect after %.1fs", time.Since(start).Seconds())

	phase.Timeout = breakageTimeout
	res, err := scenario.Verify(ctx, c, dir, phase)
	require.NoError(t, err)
	failed := map[string]string{}
	for _, r := range res.Failed() {
		failed[r.Name] = r.Error
	}
	t.Logf("breakage verify: %d of %d checks failed:\n%s", len(failed), len(res.Checks), res.Timeline.Table())
	require.Contains(t, failed, "drift")
	assert.Contains(t, failed["drift"], `openstack_networking_secgroup_rule_v2.this["icmp"]: deleted outside OpenTofu`, "the deleted rule")
	assert.Regexp(t, `openstack_networking_floatingip_v2\.this\[[^]]+\]: port_id: "[0-9a-f-]+" → \(none\)`, failed["drift"], "the disassociated floating IP")
	require.Contains(t, failed, "boot/"+vm1.VM)
	assert.Contains(t, failed["boot/"+vm1.VM], vm1.Name+" booted again", "the reboot")
	require.Contains(t, failed, "neutron-agents")
	assert.Contains(t, failed["neutron-agents"], "neutron-l3-agent on", "the stopped l3 agent")
	assert.Contains(t, failed, "ping/"+vm1.VM, "icmp no longer allowed")
	assert.Contains(t, failed, "ssh/"+vm2.VM, "vm-2 has no floating IP")
	for name, msg := range failed {
		assert.NotEmpty(t, strings.TrimSpace(msg), "%s failed without a message", name)
	}
}

// vmFiltered reports whether vm is back and filtered by its security group:
// its port ACTIVE, ssh (allowed) answering and tcp 81 (not allowed) silent.
// The error says which is not true yet.
func vmFiltered(ctx context.Context, nc *gophercloud.ServiceClient, vm scenario.ServerObs) (bool, error) {
	pages, err := ports.List(nc, ports.ListOpts{DeviceID: vm.ID}).AllPages(ctx)
	if err != nil {
		return false, err
	}
	ps, err := ports.ExtractPorts(pages)
	if err != nil {
		return false, err
	}
	if len(ps) != 1 {
		return false, fmt.Errorf("%s has %d ports, want 1", vm.Name, len(ps))
	}
	if ps[0].Status != "ACTIVE" {
		return false, fmt.Errorf("port %s of %s is %s", ps[0].ID, vm.Name, ps[0].Status)
	}
	if ok, err := probe.TCPOnce(ctx, vm.FloatingIP+":22", 2*time.Second); !ok || err != nil {
		return false, fmt.Errorf("%s:22 does not answer yet (%v)", vm.FloatingIP, err)
	}
	if open, err := probe.TCPOnce(ctx, vm.FloatingIP+":81", 3*time.Second); open || err != nil {
		return false, fmt.Errorf("%s:81 answers: the port is not filtered yet (%v)", vm.FloatingIP, err)
	}
	return true, nil
}
