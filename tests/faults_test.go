package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cinderservices "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/services"
	novaservices "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// Bounds of the fault test's waits. Neutron and nova report an agent or
// service down after agent_down_time/service_down_time (30 s in the lab,
// 75 s/60 s by default) and up at its next report; an API restarted under
// uwsgi on two busy cores can take a minute to answer.
const (
	faultHealthyWait = 3 * time.Minute  // the lab healthy before a fault
	faultDetectWait  = 3 * time.Minute  // the checks fail naming the fault
	faultRecoverWait = 3 * time.Minute  // the checks pass again after undo
	faultUndoTimeout = 4 * time.Minute  // scripts/lab/ctl start (waits up to 180 s itself), in cleanup too
	faultPoll        = time.Second      // how often the checks run while waiting
	faultCheckBound  = 15 * time.Second // each check, while polling
)

// labFault is one fault scripts/lab/ctl injects (stop SERVICE) and undoes
// (start SERVICE), with the checks that must fail naming it.
type labFault struct {
	name    string
	service string // scripts/lab/ctl SERVICE
	// detect are the checks that must fail while the fault lasts, each
	// with the substrings its error must contain to name the fault.
	detect []faultCheck
	// after are more checks that must pass before the fault and again once
	// it is undone (the cloud recovered, not only the faulty part).
	after []check.Check
	// reportedSince, when set, must also pass after the undo, given the
	// time the undo began.
	reportedSince func(since time.Time) check.Check
	// recoverWait bounds the wait for the checks to pass after the undo
	// (zero: faultRecoverWait).
	recoverWait time.Duration
}

type faultCheck struct {
	check check.Check
	names []string
}

// faultTiming is what one fault measured.
type faultTiming struct {
	fault            string
	inject, undo     time.Duration // scripts/lab/ctl stop / start (each returns when the change took effect)
	detect, recovery time.Duration // from the ctl command's start until every check failed / passed
}

// TestFaults breaks the lab on purpose and proves the checks notice, name
// the fault, and pass again once it is repaired:
//
//	(a) nova-api stopped      → the compute endpoint, its port and its HAProxy backend fail
//	(b) HAProxy server MAINT  → the haproxy check names the backend/server; placement's endpoint fails
//	(c) neutron-l3-agent down → the neutron agents check names it (after neutron's agent_down_time)
//	(d) Pacemaker resource    → the pacemaker check (real crm_mon of the lab's one-node cluster) names
//	    banned                  cp-dummy Stopped though wanted; cleared, it is Started again
//	(e) RabbitMQ app stopped  → the rabbitmq check and its ports fail; after the restart every nova
//	                            service, neutron agent and cinder service reports in through it again
//
// Lab only (CLOUDPULSE_LAB=1, the admin cloud in CLOUDPULSE_ADMIN_CLOUD): faults are injected with
// scripts/lab/ctl. Each undo is armed (t.Cleanup) before its fault is injected.
func TestFaults(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: faults are injected into the lab cloud with scripts/lab/ctl (CLOUDPULSE_LAB=1, `make cloud-test`)")
	}
	admin := adminCloud(t)
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	m := loadServiceMap(t, filepath.Join(root, "fixtures", "service-map", "lab.yaml"))
	ctx := runContext(t, faultUndoTimeout)
	c := connect(t, ctx, admin)
	hosts := operator.NewHosts(m)
	t.Cleanup(func() {
		if err := hosts.Close(); err != nil {
			t.Logf("close ssh connections: %v", err)
		}
	})
	ops := operator.Checks(m, hosts, c, nil)
	op := func(name string) check.Check {
		i := slices.IndexFunc(ops, func(c check.Check) bool { return c.Name == name })
		require.GreaterOrEqual(t, i, 0, "the lab's service map configures no check %q", name)
		return ops[i]
	}

	faults := []labFault{
		{
			name: "nova-api", service: "nova-api",
			detect: []faultCheck{
				{endpoint.Compute(c), []string{"compute: list servers", "HTTP 503"}},
				{op("listen/controller/nova-api"), []string{"nova-api not listening", "port 8774"}},
				{op("haproxy"), []string{"nova/api-1 DOWN"}},
			},
		},
		{
			// placement: the least disruptive backend for other lab users
			// (only admins call placement; services use internal endpoints).
			name: "haproxy-backend", service: "haproxy-backend:placement/api-1",
			detect: []faultCheck{
				{op("haproxy"), []string{"placement/api-1 MAINT"}},
				{endpoint.Placement(c), []string{"placement", "HTTP 503"}},
			},
		},
		{
			// crm_resource --ban: Pacemaker stops cp-dummy and cannot run it
			// anywhere (target-role=Stopped would be a stop on purpose, which
			// the check accepts).
			name: "pacemaker-resource", service: "pacemaker-resource",
			detect: []faultCheck{
				{op("pacemaker"), []string{"resource cp-dummy (ocf:pacemaker:Dummy) is Stopped"}},
			},
		},
		{
			name: "rabbitmq-app", service: "rabbitmq-app",
			detect: []faultCheck{
				{op("rabbitmq"), []string{"rabbitmq: ", "127.0.0.1:15672"}},
				{op("listen/controller/rabbitmq"), []string{"rabbitmq not listening", "port 5672"}},
			},
			after: []check.Check{op("nova-services"), op("neutron-agents"), op("cinder-services")},
			// The outage is shorter than agent_down_time, so "up" alone
			// would not show that the services reconnected to the broker:
			// each must have reported in through it since it came back.
			reportedSince: func(since time.Time) check.Check { return reportedSince(c, since) },
			// A state report sent while the broker was away waits out its
			// RPC timeout (rpc_response_timeout, 60 s) before the next one:
			// measured 5 s to 3 min until every service reported again.
			recoverWait: 6 * time.Minute,
		},
		{
			// Last: a restarted l3 agent does a full sync of every router,
			// and a broker restart in the middle of it (the rabbitmq fault
			// used to come next) wedged the agent's privsep daemon for
			// minutes (oslo.privsep "cannot switch to a different thread"):
			// no router was processed until it recovered. One fault at a
			// time means the next one waits for that sync too.
			name: "neutron-l3-agent", service: "neutron-l3-agent",
			detect: []faultCheck{
				{op("neutron-agents"), []string{"neutron-l3-agent on ", "is not alive"}},
			},
		},
	}

	// Every operator and endpoint check must pass before each fault, so a
	// fault is never injected into a lab that is already broken.
	healthy := append(slices.Clone(ops), endpoint.Checks(c)...)

	start := time.Now()
	var timings []faultTiming
	for _, f := range faults {
		ft := faultTiming{fault: f.name}
		t.Run(f.name, func(t *testing.T) { injectFault(t, ctx, f, healthy, &ft) })
		timings = append(timings, ft) // what was measured, also when the subtest failed
	}

	// Whatever happened above, the lab must be whole again for the tests after this one.
	t.Run("recovered", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, faultRecoverWait)
		defer cancel()
		began := time.Now()
		_, err := waitAll(wctx, healthy, began)
		require.NoError(t, err, "the lab did not recover from the faults")
		t.Logf("all %d operator and endpoint checks pass (%s)", len(healthy), round(time.Since(began)))
	})

	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %10s %10s %10s %10s\n", "fault", "ctl stop", "detected", "ctl start", "recovered")
	for _, ft := range timings {
		fmt.Fprintf(&b, "%-18s %10s %10s %10s %10s\n", ft.fault, round(ft.inject), round(ft.detect), round(ft.undo), round(ft.recovery))
	}
	t.Logf("faults (detected/recovered: from the ctl command's start until every check failed naming the fault / passed), total %s:\n%s",
		round(time.Since(start)), b.String())
}

// injectFault waits until every check of healthy (and of f) passes, arms the
// undo, injects f, waits for each detect check to fail naming the fault,
// undoes it and waits for f's checks to pass again, filling ft as it goes. The ctl commands run while the checks are polled, so
// the times are when the checks saw the change, not when ctl confirmed it.
func injectFault(t *testing.T, ctx context.Context, f labFault, healthy []check.Check, ft *faultTiming) {
	checks := slices.Clone(f.after)
	for _, d := range f.detect {
		checks = append(checks, d.check)
	}

	// 1. Healthy first, or a failure below would prove nothing.
	before := slices.Clone(healthy)
	for _, c := range checks {
		if !slices.ContainsFunc(before, func(h check.Check) bool { return h.Name == c.Name }) {
			before = append(before, c)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, faultHealthyWait)
	_, err := waitAll(hctx, before, time.Now())
	cancel()
	require.NoError(t, err, "the lab is not healthy before injecting %s: not injecting", f.service)

	// 2. Arm the undo before the fault exists.
	var undone bool
	t.Cleanup(func() {
		if undone {
			return
		}
		uctx, cancel := context.WithTimeout(context.Background(), faultUndoTimeout)
		defer cancel()
		took, out, err := labCtl(uctx, "start", f.service)
		if err != nil {
			t.Errorf("undo %s: %v (the lab stays broken: scripts/lab/ctl start %s)", f.name, err, f.service)
			return
		}
		t.Logf("undo %s in cleanup: %s (%s)", f.name, out, round(took))
	})

	// 3. Inject and detect.
	began := time.Now()
	ctl := runCtl(ctx, "stop", f.service)
	dctx, cancel := context.WithTimeout(ctx, faultDetectWait)
	seen, detectErr := detectFault(dctx, f.detect, began)
	cancel()
	ft.detect = time.Since(began)
	stop := <-ctl
	ft.inject = stop.took
	require.NoError(t, stop.err, "inject %s", f.name)
	t.Logf("injected: scripts/lab/ctl stop %s: %s (%s)", f.service, stop.out, round(stop.took))
	for _, d := range f.detect {
		if r, ok := seen[d.check.Name]; ok {
			t.Logf("%s failed %s after injection: %s", d.check.Name, round(r.at), r.res.Error)
		}
	}
	require.NoError(t, detectErr, "the checks did not notice %s", f.name)

	// 4. Undo and recover.
	began = time.Now()
	ctl = runCtl(ctx, "start", f.service)
	if f.reportedSince != nil {
		checks = append(checks, f.reportedSince(began))
	}
	wait := f.recoverWait
	if wait == 0 {
		wait = faultRecoverWait
	}
	rctx, cancel := context.WithTimeout(ctx, wait)
	passed, recoverErr := waitAll(rctx, checks, began)
	cancel()
	for _, c := range checks {
		if p, ok := passed[c.Name]; ok && p.lastFailure != "" {
			t.Logf("%s passed %s after undo; until then: %s", c.Name, round(p.at), p.lastFailure)
		} else if ok {
			t.Logf("%s passed %s after undo", c.Name, round(p.at))
		}
	}
	ft.recovery = time.Since(began)
	start := <-ctl
	ft.undo = start.took
	require.NoError(t, start.err, "undo %s", f.name)
	undone = true
	t.Logf("undone: scripts/lab/ctl start %s: %s (%s)", f.service, start.out, round(start.took))
	require.NoError(t, recoverErr, "the checks did not pass again after undoing %s", f.name)
	t.Logf("%s: detected %s after injection (ctl stop took %s), recovered %s after undo (ctl start took %s)",
		f.name, round(ft.detect), round(ft.inject), round(ft.recovery), round(ft.undo))
}

type ctlResult struct {
	took time.Duration
	out  string
	err  error
}

// runCtl runs scripts/lab/ctl in the background; the channel gets its result.
func runCtl(ctx context.Context, action, service string) <-chan ctlResult {
	ch := make(chan ctlResult, 1)
	go func() {
		took, out, err := labCtl(ctx, action, service)
		ch <- ctlResult{took, out, err}
	}()
	return ch
}

type detection struct {
	at  time.Duration
	res check.Result
}

// detectFault polls the detect checks until each has failed with an error
// naming the fault (every substring of its names), and returns when each
// did, counted from began. On timeout the error lists, per check, what it
// last returned.
func detectFault(ctx context.Context, detect []faultCheck, began time.Time) (map[string]detection, error) {
	seen := map[string]detection{}
	last := map[string]check.Result{}
	var pending []check.Check
	err := probe.WaitFor(ctx, faultPoll, func(ctx context.Context) (bool, error) {
		pending = pending[:0]
		for _, d := range detect {
			if _, ok := seen[d.check.Name]; !ok {
				pending = append(pending, d.check)
			}
		}
		results := check.Runner{Timeout: faultCheckBound}.Run(ctx, pending...)
		for _, r := range results {
			last[r.Name] = r
			d := detect[slices.IndexFunc(detect, func(d faultCheck) bool { return d.check.Name == r.Name })]
			if r.Status() == check.Failed && containsAll(r.Error, d.names) {
				seen[r.Name] = detection{at: time.Since(began), res: r}
			}
		}
		return len(seen) == len(detect), nil
	})
	if err != nil {
		var missing []string
		for _, d := range detect {
			if _, ok := seen[d.check.Name]; !ok {
				missing = append(missing, fmt.Sprintf("%s should fail naming %q, last %s", d.check.Name, d.names, describeResult(last[d.check.Name])))
			}
		}
		return seen, fmt.Errorf("%w:\n  %s", err, strings.Join(missing, "\n  "))
	}
	return seen, nil
}

// waitAll runs checks every faultPoll until all pass in the same round, or
// ctx ends; the error then names the checks that did not, with their
// results. It returns, per check, when it first passed (counted from began)
// and its last failure before that.
func waitAll(ctx context.Context, checks []check.Check, began time.Time) (map[string]firstPass, error) {
	passed := map[string]firstPass{}
	lastFailure := map[string]string{}
	err := probe.WaitFor(ctx, faultPoll, func(ctx context.Context) (bool, error) {
		var bad []string
		for _, r := range (check.Runner{Timeout: faultCheckBound}).Run(ctx, checks...) {
			if !r.OK {
				lastFailure[r.Name] = describeResult(r)
				bad = append(bad, r.Name+": "+lastFailure[r.Name])
			} else if _, ok := passed[r.Name]; !ok {
				passed[r.Name] = firstPass{at: time.Since(began), lastFailure: lastFailure[r.Name]}
			}
		}
		if len(bad) > 0 {
			return false, errors.New(strings.Join(bad, "; "))
		}
		return true, nil
	})
	return passed, err
}

type firstPass struct {
	at          time.Duration
	lastFailure string // "" when it passed the first time
}

func describeResult(r check.Result) string {
	if r.Name == "" {
		return "result: none (the check never ran)"
	}
	if d := r.Detail(); d != "" {
		return string(r.Status()) + ": " + d
	}
	return string(r.Status())
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// reportedSince passes when every nova service, neutron agent and cinder
// service has reported in (updated_at, heartbeat_timestamp) at or after
// since, which proves it talks to the message broker again; it names those
// that have not.
func reportedSince(c *cloud.Cloud, since time.Time) check.Check {
	since = since.UTC().Truncate(time.Second) // the APIs keep whole seconds
	return check.Check{Name: "reported-since-undo", Run: func(ctx context.Context) error {
		var stale []string
		late := func(who string, at time.Time) {
			if at.Before(since) {
				stale = append(stale, fmt.Sprintf("%s (last %s)", who, at.UTC().Format(time.TimeOnly)))
			}
		}
		cc, err := c.Compute()
		if err != nil {
			return err
		}
		pages, err := novaservices.List(cc, novaservices.ListOpts{}).AllPages(ctx)
		if err != nil {
			return fmt.Errorf("list nova services: %w", err)
		}
		nova, err := novaservices.ExtractServices(pages)
		if err != nil {
			return fmt.Errorf("list nova services: %w", err)
		}
		for _, s := range nova {
			late(s.Binary+" on "+s.Host, s.UpdatedAt)
		}
		nc, err := c.Network()
		if err != nil {
			return err
		}
		if pages, err = agents.List(nc, agents.ListOpts{}).AllPages(ctx); err != nil {
			return fmt.Errorf("list neutron agents: %w", err)
		}
		neutron, err := agents.ExtractAgents(pages)
		if err != nil {
			return fmt.Errorf("list neutron agents: %w", err)
		}
		for _, a := range neutron {
			late(a.Binary+" on "+a.Host, a.HeartbeatTimestamp)
		}
		bc, err := c.BlockStorage()
		if err != nil {
			return err
		}
		if pages, err = cinderservices.List(bc, cinderservices.ListOpts{}).AllPages(ctx); err != nil {
			return fmt.Errorf("list cinder services: %w", err)
		}
		cinder, err := cinderservices.ExtractServices(pages)
		if err != nil {
			return fmt.Errorf("list cinder services: %w", err)
		}
		for _, s := range cinder {
			late(s.Binary+" on "+s.Host, s.UpdatedAt)
		}
		if n := len(nova) + len(neutron) + len(cinder); len(stale) > 0 {
			return fmt.Errorf("%d of %d services and agents have not reported since %s: %s",
				len(stale), n, since.Format(time.TimeOnly), strings.Join(stale, "; "))
		}
		return nil
	}}
}
