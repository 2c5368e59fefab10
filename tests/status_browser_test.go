package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The fault TestStatusPage injects: placement's HAProxy server in MAINT (the
// least disruptive for other lab users: only admins call placement), which
// the operator family's haproxy check reports naming the server.
const (
	statusFault        = "haproxy-backend:placement/api-1"
	statusFaultCheck   = "haproxy"
	statusFaultNames   = "placement/api-1 MAINT"
	statusBudget       = 4 * time.Minute  // the whole test, undo included
	statusCheckTimeout = 30 * time.Second // each operator check
)

// TestStatusPage runs the operator family for real on the lab — healthy,
// then with placement's HAProxy server put in MAINT through scripts/lab/ctl —
// records both runs in a real history store, serves the status page and
// drives headless Chromium through it: the overview shows the haproxy check
// failing with the message the check returned, the failed run's strip cell
// leads to its detail page, which shows the check failed with its message.
// Screenshots: reports/status-page.png, reports/status-run.png. The fault is
// undone at the end, and in t.Cleanup (armed before it is injected).
//
// Lab only (CLOUDPULSE_LAB=1, the admin cloud in CLOUDPULSE_ADMIN_CLOUD);
// scripts/lab/ctl of the repository, or $CLOUDPULSE_LAB_CTL.
func TestStatusPage(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: a fault is injected into the lab cloud with scripts/lab/ctl (CLOUDPULSE_LAB=1, `make cloud-test`)")
	}
	admin := adminCloud(t)
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	m := loadServiceMap(t, filepath.Join(root, "fixtures", "service-map", "lab.yaml"))
	ctx, cancel := context.WithTimeout(runContext(t, faultUndoTimeout), statusBudget)
	defer cancel()
	began := time.Now()
	c := connect(t, ctx, admin)
	hosts := operator.NewHosts(m)
	t.Cleanup(func() {
		if err := hosts.Close(); err != nil {
			t.Logf("close ssh connections: %v", err)
		}
	})
	ops := operator.Checks(m, hosts, c, nil)
	require.True(t, slices.ContainsFunc(ops, func(c check.Check) bool { return c.Name == statusFaultCheck }),
		"the lab's service map configures no %s check", statusFaultCheck)
	runner := check.Runner{Timeout: statusCheckTimeout}
	st := openHistory(t)

	// 1. A real run before the fault: the check passes, or its failure below proves nothing.
	start := time.Now()
	healthy := runner.Run(ctx, ops...)
	recordRun(t, ctx, st, admin.Name, "operator", start, time.Now(), healthy)
	r := resultNamed(t, healthy, statusFaultCheck)
	require.Equal(t, check.Passed, r.Status(), "%s before the fault: %s", statusFaultCheck, r.Detail())
	t.Logf("operator run before the fault: %s in %s", summaryLine(healthy), time.Since(start).Round(time.Millisecond))

	// 2. Arm the undo, then inject.
	undone := false
	t.Cleanup(func() {
		if undone {
			return
		}
		uctx, cancel := context.WithTimeout(context.Background(), faultUndoTimeout)
		defer cancel()
		if took, out, err := statusCtl(uctx, "start", statusFault); err != nil {
			t.Errorf("undo %s: %v (the lab stays broken: scripts/lab/ctl start %s)", statusFault, err, statusFault)
		} else {
			t.Logf("undo in cleanup: %s (%s)", out, took.Round(time.Millisecond))
		}
	})
	took, out, err := statusCtl(ctx, "stop", statusFault)
	require.NoError(t, err)
	t.Logf("injected: scripts/lab/ctl stop %s: %s (%s)", statusFault, out, took.Round(time.Millisecond))

	// 3. The operator family again, until the check fails naming the fault (ctl returned once it was in effect).
	var broken []check.Result
	start = time.Now()
	for {
		broken = runner.Run(ctx, ops...)
		r = resultNamed(t, broken, statusFaultCheck)
		if r.Status() == check.Failed && strings.Contains(r.Error, statusFaultNames) {
			break
		}
		require.NoError(t, ctx.Err(), "%s never failed naming %q; last: %s %s", statusFaultCheck, statusFaultNames, r.Status(), r.Detail())
		time.Sleep(2 * time.Second)
	}
	failed := recordRun(t, ctx, st, admin.Name, "operator", start, time.Now(), broken)
	t.Logf("operator run with the fault: %s; %s: %s", summaryLine(broken), statusFaultCheck, r.Detail())

	// 4. The browser sees it.
	bctx := startBrowser(t, ctx)
	dir := reportsDir(t)
	seeFailingCheck(t, bctx, servePage(t, st), failingCheckSeen{
		cloud: admin.Name, family: "operator", check: statusFaultCheck, message: r.Detail(), run: failed.Handle,
		overviewPNG: filepath.Join(dir, "status-page.png"), runPNG: filepath.Join(dir, "status-run.png"),
	})

	// 5. Undo now; the cleanup only if this did not happen.
	took, out, err = statusCtl(ctx, "start", statusFault)
	require.NoError(t, err)
	undone = true
	t.Logf("undone: scripts/lab/ctl start %s: %s (%s); the test took %s", statusFault, out, took.Round(time.Millisecond),
		time.Since(began).Round(time.Second))
}

// statusCtl runs $CLOUDPULSE_LAB_CTL (a lab's scripts/lab/ctl, for a checkout
// that is not the lab's) or the repository's scripts/lab/ctl.
func statusCtl(ctx context.Context, action, service string) (time.Duration, string, error) {
	p := os.Getenv("CLOUDPULSE_LAB_CTL")
	if p == "" {
		return labCtl(ctx, action, service)
	}
	cmd := exec.CommandContext(ctx, p, action, service)
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	text := strings.TrimSpace(string(out))
	if err != nil {
		return took, text, fmt.Errorf("%s %s %s after %s: %w: %s", p, action, service, took.Round(time.Millisecond), err, text)
	}
	return took, text, nil
}

func resultNamed(t *testing.T, results []check.Result, name string) check.Result {
	t.Helper()
	i := slices.IndexFunc(results, func(r check.Result) bool { return r.Name == name })
	require.GreaterOrEqual(t, i, 0, "no result %q", name)
	return results[i]
}

func summaryLine(results []check.Result) string {
	s := check.Summarize(results)
	return fmt.Sprintf("%d checks, %d passed, %d failed, %d skipped", len(results), s.Passed, s.Failed, s.Skipped)
}
