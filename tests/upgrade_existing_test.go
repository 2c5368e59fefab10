package tests

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestUpgradeExisting proves `cpulse upgrade snapshot --create=false` on
// resources cloudpulse did not create through that path: the Functional
// scenario's two servers (with floating IPs, one with a volume) play a
// tenant's existing servers. While they live (Hooks.AfterChecks), the
// selection (one server by name, one by id) is resolved with read-only calls,
// fixtures/upgrade-existing is applied (data sources only), read again as
// verify does, every ExistingChecks check passes (status, ports, attachments,
// floating IP, ping and tcp 22/80 as the servers' security group allows), and
// the read-only workspace is destroyed. Then nothing was touched: every
// server, port, floating IP and volume has the updated time, revision and
// status it had before. A verify read that lacks a floating IP fails naming it.
//
//	OS_CLOUD=mycloud go test -count=1 -run 'TestUpgradeExisting$' -timeout 30m ./tests/
func TestUpgradeExisting(t *testing.T) {
	cfg := cloudConfig(t)
	// beside the other parallel cloud tests (go test -parallel, GOMAXPROCS by default: two at a time on the lab)
	t.Parallel()
	holdLabSteady(t)
	o, err := scenario.FromEnv()
	require.NoError(t, err)
	o.Cloud = cfg
	if o.CIDR == "" { // not TestFunctional's default 10.42.0.0/24: a range of its own beside it
		o.CIDR = "10.46.0.0/24"
	}
	f, err := scenario.NewFunctional(o)
	require.NoError(t, err)
	ctx := runContext(t, 30*time.Second)
	c := connect(t, ctx, cfg)
	tools, err := tf.FindTools()
	require.NoError(t, err)
	require.NoError(t, f.Precheck(ctx, c))
	ws, err := f.Workspace()
	require.NoError(t, err)
	t.Logf("run %s on cloud %q, state in %s", f.RunID(), cfg.Name, ws.Root)

	// the same read-only flow through the service: a real `cpulse serve` (nothing scheduled) and the remote CLI
	srv := startIdleServe(t, ctx, cfg.Name)

	var got existingRun
	var viaAPI serviceRun
	start := time.Now()
	res := f.Run(ctx, c, tf.NewTerratest(t, ws, tools, f.TerraformEnv()), scenario.Hooks{
		OnResult: logResult(t),
		Logf:     t.Logf,
		AfterChecks: func(ctx context.Context, out tf.Outputs, _ func(context.Context, ...string) []check.Result) {
			got = readExisting(t, ctx, c, tools, f.TerraformEnv(), f.RunID(), out)
			if got.err == nil {
				viaAPI = snapshotThroughService(ctx, c, srv, got.names[0], out)
			}
		},
	})
	t.Logf("TestUpgradeExisting: functional run and the read-only flow in %s (read-only flow %s, through the service %s)",
		time.Since(start).Round(time.Second), got.wall.Round(time.Second), viaAPI.wall.Round(time.Second))
	for _, l := range viaAPI.log {
		t.Log(l)
	}
	require.NoError(t, res.Err, "functional run %s", res.RunID)
	require.NoError(t, got.err, "the read-only flow")
	require.NoError(t, viaAPI.err, "the read-only flow through cpulse serve; it said (last 40 lines):\n%s", lastN(srv.log.String(), 40))

	// the selection resolved to the two servers, their floating IPs and the volume
	assert.Len(t, got.vars["server_ids"], 2)
	assert.Len(t, got.vars["floating_ips"], 2)
	assert.Len(t, got.vars["volumes"], 1)
	assert.Equal(t, got.vars, got.verifyVars, "ExistingVerifyVars changed nothing: nothing is gone")

	// every check passed, and the security group's icmp, 22 and 80 became probes
	var names []string
	for _, r := range got.results {
		names = append(names, r.Name)
		assert.Equal(t, check.Passed, r.Status(), "%s: %s", r.Name, r.Detail())
	}
	var want []string
	for _, vm := range got.names {
		for _, c := range []string{"status", "ports", "attachments", "floating-ip", "ping", "tcp-22", "tcp-80"} {
			want = append(want, "existing/"+vm+"/"+c)
		}
	}
	assert.ElementsMatch(t, want, names)

	// nothing was touched
	require.NotEmpty(t, got.stateBefore)
	t.Logf("unchanged by the read-only flow: %d servers, ports, floating IPs and volumes", len(got.stateBefore))
	assert.Equal(t, got.stateBefore, got.stateAfter, "servers, ports, floating IPs and volumes after the read-only flow")
	assert.Equal(t, got.stateBefore, viaAPI.stateAfter, "servers, ports, floating IPs and volumes after the snapshot, verify and finish through the service")

	// through the service: the snapshot (private state), the verify and the finish passed with the same checks
	assert.Equal(t, os.FileMode(0o700), viaAPI.dirMode, "the snapshot's state directory")
	assert.Equal(t, os.FileMode(0o600), viaAPI.fileMode, "snapshot.json")
	assert.ElementsMatch(t, want, viaAPI.snapshot.TestsPassed, "the snapshot's checks")
	assert.Empty(t, viaAPI.snapshot.TestsFailed)
	// the service watched the snapshot's paths from its pass to the check of type upgrade: nothing was upgraded,
	// so every path is within its threshold, and each is a passed check downtime/<path>
	require.NotNil(t, viaAPI.watching, "the passed snapshot is watched")
	require.NotNil(t, viaAPI.watch, "the upgrade run carries the watch")
	assert.Greater(t, viaAPI.watch.To.Sub(viaAPI.watch.From), time.Duration(0), "the watch window")
	assert.Len(t, viaAPI.watch.Paths, viaAPI.watching.Paths)
	var watched, verifyPassed []string
	for _, p := range viaAPI.watch.Paths {
		watched = append(watched, "downtime/"+p.Name)
		assert.Equal(t, "ok", p.Status, "%s: down %.1fs of %.0fs allowed", p.Name, p.DowntimeS, p.ThresholdS)
		assert.Positive(t, p.Probes, p.Name)
	}
	assert.Contains(t, watched, "downtime/ping/"+got.names[0], "the first server's ping is watched")
	t.Logf("watch through the service: %d paths %v over %s", len(watched), watched, viaAPI.watch.To.Sub(viaAPI.watch.From).Round(time.Millisecond))
	for _, n := range viaAPI.verify.TestsPassed {
		if !strings.HasPrefix(n, "downtime/") {
			verifyPassed = append(verifyPassed, n)
		}
	}
	assert.ElementsMatch(t, watched, slices.DeleteFunc(slices.Clone(viaAPI.verify.TestsPassed), func(n string) bool { return !strings.HasPrefix(n, "downtime/") }))
	assert.ElementsMatch(t, want, verifyPassed, "the verify's checks (no fresh functional run for a read-only snapshot)")
	assert.Empty(t, viaAPI.verify.TestsFailed)
	assert.Equal(t, "snapshot", viaAPI.snapshot.Type)
	assert.Equal(t, "upgrade", viaAPI.verify.Type)
	assert.Equal(t, "finish", viaAPI.finish.Type)
	assert.Equal(t, "passed", viaAPI.finish.State, "finish forgot the read-only snapshot: %+v", viaAPI.finish)
	assert.NoDirExists(t, filepath.Join(viaAPI.stateDir, "upgrade-"+viaAPI.runID), "finish emptied the state directory")

	// a verify read without the first server's floating IP fails naming it
	require.NotEmpty(t, got.missingFIP.Name, "the negative case ran")
	assert.Equal(t, check.Failed, got.missingFIP.Status())
	assert.Contains(t, got.missingFIP.Error, "is gone (it was on port ")
}

// existingRun is what the read-only flow saw, checked after the scenario's run.
type existingRun struct {
	err                     error
	wall                    time.Duration
	names                   []string // the servers' names, server 1 first
	vars, verifyVars        map[string]any
	results                 []check.Result
	missingFIP              check.Result
	stateBefore, stateAfter map[string]string
}

// readExisting runs the read-only flow on the Functional run's live servers.
// It never calls FailNow (destroy of the run comes after it): errors go in
// the result.
func readExisting(t *testing.T, ctx context.Context, c *cloud.Cloud, tools tf.Tools, env map[string]string, runID string, out tf.Outputs) (run existingRun) {
	start := time.Now()
	defer func() { run.wall = time.Since(start) }()
	var ids []string
	var volumeID string
	if err := errors.Join(out.Decode("server_ids", &ids), out.Decode("server_names", &run.names), out.Decode("volume_id", &volumeID)); err != nil {
		run.err = err
		return run
	}
	// Functional's volume/detach check left the volume detached: attach it
	// again, as a tenant's server would have it (destroy detaches it).
	if run.err = attachVolume(ctx, c, ids[0], volumeID); run.err != nil {
		return run
	}
	if run.stateBefore, run.err = settledState(ctx, c, ids, volumeID); run.err != nil {
		return run
	}
	// one by name, one by id
	sel, err := scenario.ParseExisting([]byte(fmt.Sprintf(`{"vm": [%q, %q]}`, run.names[0], ids[1])))
	if err != nil {
		run.err = err
		return run
	}
	if run.vars, run.err = scenario.ExistingVars(ctx, c, sel); run.err != nil {
		return run
	}
	if got, _ := run.vars["server_ids"].([]any); len(got) != 2 || got[0] != ids[0] || got[1] != ids[1] {
		run.err = fmt.Errorf("ExistingVars resolved %v to server ids %v, want %v", sel.VMs, run.vars["server_ids"], ids)
		return run
	}
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: scenario.ExistingFixture, RunID: runID, Vars: run.vars})
	if err != nil {
		run.err = err
		return run
	}
	r := tf.NewTerratest(t, ws, tools, env)
	var before, after tf.Outputs
	err = r.Init(ctx)
	if err == nil {
		err = r.Apply(ctx) // reads only
	}
	if err == nil {
		before, err = r.Outputs(ctx)
	}
	if err == nil {
		run.verifyVars, err = scenario.ExistingVerifyVars(ctx, c, run.vars)
	}
	if err == nil {
		err = ws.WriteVars(run.verifyVars)
	}
	if err == nil {
		err = r.Apply(ctx) // verify: the same reads again
	}
	if err == nil {
		after, err = r.Outputs(ctx)
	}
	var checks []check.Check
	if err == nil {
		checks, err = scenario.ExistingChecks(before, after)
	}
	if err == nil {
		run.results = check.Runner{Timeout: 2 * time.Minute}.Run(ctx, checks...)
		for _, res := range run.results {
			t.Logf("%-48s %s %s %s", res.Name, res.Status(), res.Duration.Round(time.Millisecond), res.Detail())
		}
		run.missingFIP, err = withoutFloatingIP(ctx, before, after, run.names[0])
	}
	derr := r.Destroy(context.WithoutCancel(ctx))
	if derr == nil {
		derr = ws.Remove()
	}
	if run.err = errors.Join(err, derr); run.err != nil {
		return run
	}
	run.stateAfter, run.err = tenantState(ctx, c, ids, volumeID)
	return run
}

// settledState is tenantState once two reads 5 s apart agree (Nova and
// Cinder finish an attachment with updates of their own).
func settledState(ctx context.Context, c *cloud.Cloud, ids []string, volumeID string) (map[string]string, error) {
	prev, err := tenantState(ctx, c, ids, volumeID)
	if err != nil {
		return nil, err
	}
	for range 12 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
		}
		cur, err := tenantState(ctx, c, ids, volumeID)
		if err != nil {
			return nil, err
		}
		if maps.Equal(prev, cur) {
			return cur, nil
		}
		prev = cur
	}
	return nil, fmt.Errorf("the servers, ports, floating IPs and volume kept changing for a minute: %v", prev)
}

// attachVolume attaches volumeID to serverID and waits until it is in use.
func attachVolume(ctx context.Context, c *cloud.Cloud, serverID, volumeID string) error {
	compute, err := c.Compute()
	if err != nil {
		return err
	}
	bs, err := c.BlockStorage()
	if err != nil {
		return err
	}
	if _, err := volumeattach.Create(ctx, compute, serverID, volumeattach.CreateOpts{VolumeID: volumeID}).Extract(); err != nil {
		return fmt.Errorf("attach volume %s to server %s: %w", volumeID, serverID, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return probe.WaitFor(wctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		v, err := volumes.Get(ctx, bs, volumeID).Extract()
		if err != nil {
			return false, err
		}
		if v.Status == "error" || v.Status == "error_attaching" {
			return false, probe.Permanent(fmt.Errorf("volume %s: %s", volumeID, v.Status))
		}
		return v.Status == "in-use", fmt.Errorf("volume %s is %s", volumeID, v.Status)
	})
}

// withoutFloatingIP runs the floating-ip check of server name against a copy
// of after whose servers have no floating IP.
func withoutFloatingIP(ctx context.Context, before, after tf.Outputs, name string) (check.Result, error) {
	var servers []map[string]any
	if err := after.Decode("servers", &servers); err != nil {
		return check.Result{}, err
	}
	for _, s := range servers {
		s["floating_ips"] = []any{}
	}
	synthetic := maps.Clone(after)
	synthetic["servers"] = servers
	checks, err := scenario.ExistingChecks(before, synthetic)
	if err != nil {
		return check.Result{}, err
	}
	i := slices.IndexFunc(checks, func(c check.Check) bool { return c.Name == "existing/"+name+"/floating-ip" })
	if i < 0 {
		return check.Result{}, fmt.Errorf("no check existing/%s/floating-ip", name)
	}
	return check.Runner{Timeout: time.Minute}.RunOne(ctx, checks[i]), nil
}

// tenantState records what any change would move: each server's updated time
// and status, each of its ports' and floating IPs' revision, updated time and
// status, and the volume's updated time and status.
func tenantState(ctx context.Context, c *cloud.Cloud, serverIDs []string, volumeID string) (map[string]string, error) {
	compute, err := c.Compute()
	if err != nil {
		return nil, err
	}
	network, err := c.Network()
	if err != nil {
		return nil, err
	}
	bs, err := c.BlockStorage()
	if err != nil {
		return nil, err
	}
	state := map[string]string{}
	for _, id := range serverIDs {
		s, err := servers.Get(ctx, compute, id).Extract()
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", id, err)
		}
		state["server "+id] = fmt.Sprintf("updated=%s status=%s", s.Updated.Format(time.RFC3339Nano), s.Status)
		pages, err := ports.List(network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
		if err != nil {
			return nil, fmt.Errorf("ports of %s: %w", id, err)
		}
		ps, err := ports.ExtractPorts(pages)
		if err != nil {
			return nil, fmt.Errorf("ports of %s: %w", id, err)
		}
		for _, p := range ps {
			state["port "+p.ID] = fmt.Sprintf("revision=%d updated=%s status=%s", p.RevisionNumber, p.UpdatedAt.Format(time.RFC3339Nano), p.Status)
			fpages, err := floatingips.List(network, floatingips.ListOpts{PortID: p.ID}).AllPages(ctx)
			if err != nil {
				return nil, fmt.Errorf("floating IPs of %s: %w", p.ID, err)
			}
			fips, err := floatingips.ExtractFloatingIPs(fpages)
			if err != nil {
				return nil, fmt.Errorf("floating IPs of %s: %w", p.ID, err)
			}
			for _, f := range fips {
				state["floating IP "+f.FloatingIP] = fmt.Sprintf("revision=%d updated=%s status=%s port=%s", f.RevisionNumber, f.UpdatedAt.Format(time.RFC3339Nano), f.Status, f.PortID)
			}
		}
	}
	v, err := volumes.Get(ctx, bs, volumeID).Extract()
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", volumeID, err)
	}
	var att []string
	for _, a := range v.Attachments {
		att = append(att, a.ServerID)
	}
	state["volume "+volumeID] = fmt.Sprintf("updated=%s status=%s attached=%s", v.UpdatedAt.Format(time.RFC3339Nano), v.Status, strings.Join(att, ","))
	return state, nil
}
