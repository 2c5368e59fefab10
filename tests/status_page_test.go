package tests

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/browser"
	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// TestStatusPageBrowser needs no cloud, only Chromium (scripts/browser-deps.sh):
// the status page, served from a real history store holding runs shaped as
// the service records them (the lab's operator checks, a functional run with
// its steps, an upgrade with downtime per path, a run in progress), is loaded
// in headless Chromium, which must show the failing check as failing with its
// message — a message holding markup as text, no script on the page — and
// follow the failed run to its detail. Screenshots: reports/status-page-offline.png
// and reports/status-run-offline.png.
func TestStatusPageBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := openHistory(t)
	now := time.Now()
	ok := func(name string, d time.Duration) check.Result {
		return check.Result{Name: name, OK: true, Duration: d}
	}
	fail := func(name, msg string, d time.Duration) check.Result {
		return check.Result{Name: name, Err: errors.New(msg), Error: msg, Duration: d}
	}
	healthy := []check.Result{
		ok("listen/controller/nova-api", 20*time.Millisecond), ok("listen/public-vip/haproxy", 15*time.Millisecond),
		ok("rabbitmq", 310*time.Millisecond), ok("galera/controller", 120*time.Millisecond), ok("haproxy", 90*time.Millisecond),
		ok("pacemaker", 1400*time.Millisecond), ok("nova-services", 800*time.Millisecond), ok("neutron-agents", 650*time.Millisecond),
	}
	pacemakerMsg := "pacemaker (DC controller, 1 of 1 nodes online): resource cp-dummy (ocf:pacemaker:Dummy) is Stopped"
	markupMsg := `haproxy 127.0.0.1:8404: 1 of 7 backend servers not UP: placement/api-1 MAINT <script>alert("x")</script>`
	for i := range 3 {
		at := now.Add(time.Duration(i-30) * time.Minute)
		recordRun(t, ctx, st, "lab-admin", "operator", at, at.Add(2100*time.Millisecond), healthy)
	}
	broken := append([]check.Result{}, healthy...)
	broken[4] = fail("haproxy", markupMsg, 95*time.Millisecond)
	broken[5] = fail("pacemaker", pacemakerMsg, 1300*time.Millisecond)
	failed := recordRun(t, ctx, st, "lab-admin", "operator", now.Add(-5*time.Minute), now.Add(-5*time.Minute+2300*time.Millisecond), broken)

	fn := recordRun(t, ctx, st, "lab-member", "functional", now.Add(-40*time.Minute), now.Add(-34*time.Minute), []check.Result{
		ok("functional/ssh", 2*time.Second), ok("functional/http", time.Second), ok("functional", 6*time.Minute)})
	fn.Steps = []store.Step{{Name: "precheck", Seconds: 1.2}, {Name: "apply", Seconds: 191.4}, {Name: "checks", Seconds: 44.1}, {Name: "destroy", Seconds: 83.0}}
	fn.RunIDs = []string{"cp-7f3a9c01"}
	require.NoError(t, st.Update(ctx, &fn))
	require.NoError(t, st.Create(ctx, &store.Run{Cloud: "lab-member", Type: "endpoint", State: store.StateRunning,
		Trigger: "schedule", Queued: now.Add(-20 * time.Second), Started: now.Add(-19 * time.Second)}))

	start := now.Add(-2 * time.Hour)
	gap := func(from, d time.Duration, msg string) probe.Outage {
		return probe.Outage{Start: start.Add(from), End: start.Add(from + d), Duration: d, Error: msg}
	}
	watch := probe.WatchReport{Started: start, Ended: start.Add(12 * time.Minute), Interval: time.Second, Paths: []probe.PathReport{
		{Name: "ping/vm-1", Probes: 720, Downtime: 3100 * time.Millisecond, LongestGap: 2 * time.Second, Threshold: 5 * time.Second, Outages: []probe.Outage{
			gap(4*time.Minute, 2*time.Second, "ping 172.24.4.31: no reply within 1s"), gap(7*time.Minute, 1100*time.Millisecond, "ping 172.24.4.31: no reply within 1s")}},
		{Name: "ssh/vm-1", Probes: 720, Downtime: 7 * time.Second, LongestGap: 7 * time.Second, Threshold: 5 * time.Second, Outages: []probe.Outage{
			gap(4*time.Minute, 7*time.Second, "tcp 172.24.4.31:22: connection refused")}},
		{Name: "metadata/vm-1", Probes: 110, Threshold: 6 * time.Second},
	}}
	up := store.Run{Cloud: "lab-admin", Type: "upgrade", State: store.StateFailed, Trigger: "api", Queued: start, Started: start,
		Finished: watch.Ended, Checks: status.DowntimeChecks(watch)}
	require.NoError(t, st.Create(ctx, &up))

	bctx := startBrowser(t, ctx)
	url := servePage(t, st)
	dir := reportsDir(t)
	seeFailingCheck(t, bctx, url, failingCheckSeen{
		cloud: "lab-admin", family: "operator", check: "pacemaker", message: pacemakerMsg, run: failed.Handle,
		overviewPNG: filepath.Join(dir, "status-page-offline.png"), runPNG: filepath.Join(dir, "status-run-offline.png"),
	})
	// the markup in a message is text on the detail page the browser shows
	assert.Equal(t, markupMsg, pageText(t, bctx, `table.checks tr[data-check="haproxy"] td.message`))

	// back on the overview: the markup as text, the downtime bars, the run in progress
	browserStep(t, bctx, "reload the overview", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`.downtime`)))
	assert.Equal(t, "haproxy failed: "+markupMsg, pageText(t, bctx, `section[data-cloud="lab-admin"] li.failing[data-check="haproxy"]`))
	assert.Equal(t, "ssh/vm-1", pageText(t, bctx, `section[data-cloud="lab-admin"] .downtime tr[data-path="ssh/vm-1"] th`))
	assert.Equal(t, "failed", pageText(t, bctx, `section[data-cloud="lab-admin"] .downtime tr[data-path="ssh/vm-1"] td.check-failed`))
	assert.Contains(t, pageText(t, bctx, `section[data-cloud="lab-member"] tr[data-family="endpoint"] a.state`), "running")
	// the upgrade's downtime timeline on the overview and on the run's page: a strip per path, the gaps as text
	gapRow := `section[data-cloud="lab-admin"] .timeline tr[data-gap="ssh/vm-1"]`
	assert.Contains(t, pageText(t, bctx, gapRow), "7.0s")
	assert.Contains(t, pageText(t, bctx, gapRow), "tcp 172.24.4.31:22: connection refused")
	browserStep(t, bctx, "the upgrade run's page", chromedp.Navigate(url+"runs/"+up.Handle),
		chromedp.WaitVisible(chromedp.CSS(`.timeline svg.timeline`)))
	rects, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.timeline rect.down').length`))
	require.NoError(t, err)
	assert.Equal(t, 3, rects, "a red interval per gap")
	assert.Contains(t, pageText(t, bctx, `.timeline tr[data-gap="ping/vm-1"]`), "2.0s")
	png := filepath.Join(dir, "status-upgrade-timeline.png")
	require.NoError(t, browser.Screenshot(bctx, png))
	t.Logf("upgrade timeline screenshot: %s", png)
}
