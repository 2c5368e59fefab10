package tests

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/browser"
	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// browserWait bounds each browser step (a page load, a wait for an element).
const browserWait = 30 * time.Second

// reportsDir is where the tests keep what they show: $CLOUDPULSE_REPORTS,
// else the repository's reports/.
func reportsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CLOUDPULSE_REPORTS"); d != "" {
		return d
	}
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	return filepath.Join(root, "reports")
}

// openHistory is a real history store in a temporary directory.
func openHistory(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	return st
}

// recordRun stores a finished run of family on cloud the way the service
// records one: created queued, then updated with every check's result.
func recordRun(t *testing.T, ctx context.Context, st store.Store, cloud, family string, started, finished time.Time, results []check.Result) store.Run {
	t.Helper()
	r := store.Run{Cloud: cloud, Type: family, Trigger: "api", Queued: started.UTC()}
	require.NoError(t, st.Create(ctx, &r))
	r.Started, r.Finished, r.State = started.UTC(), finished.UTC(), store.StatePassed
	for _, res := range results {
		c := store.Check{Name: res.Name, Seconds: res.Duration.Seconds()}
		switch res.Status() {
		case check.Passed:
			c.Status = "ok"
			r.Passed = append(r.Passed, res.Name)
		case check.Failed:
			c.Status, c.Error = "FAIL", res.Detail()
			r.Failed = append(r.Failed, store.Failure{Name: res.Name, Details: res.Detail()})
		case check.Skipped:
			c.Status, c.Error = "skip", res.Detail()
		}
		r.Checks = append(r.Checks, c)
	}
	if !check.Summarize(results).OK() {
		r.State = store.StateFailed
	}
	require.NoError(t, st.Update(ctx, &r))
	return r
}

// servePage serves the status page of st on loopback; its URL ends in "/".
func servePage(t *testing.T, st store.Store) string {
	t.Helper()
	srv := httptest.NewServer(status.Handler(st, status.Options{Refresh: -1}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// startBrowser starts headless Chromium with a fresh profile, ended at cleanup.
func startBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	var out strings.Builder
	bctx, stop, err := browser.Start(ctx, browser.Options{UserDataDir: t.TempDir(), Output: &out})
	require.NoError(t, err, "Chromium: %s", lastLines(out.String(), 20))
	t.Cleanup(stop)
	return bctx
}

// browserStep runs browser actions within browserWait.
func browserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	require.NoError(t, chromedp.Do(sctx, actions...), what)
}

func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

// failingCheckSeen is what the browser must show for a run with a failed check.
type failingCheckSeen struct {
	cloud, family, check string
	message              string // the check's message, as the history holds it
	run                  string // the handle of the run that failed
	overviewPNG, runPNG  string // screenshots
}

// seeFailingCheck loads the overview in the browser, finds the check shown as
// failing with its message (as text, in the family's row), saves a
// screenshot, follows the failed run's strip cell to its detail page and
// finds the check there too, failed, with its message.
func seeFailingCheck(t *testing.T, ctx context.Context, pageURL string, want failingCheckSeen) {
	t.Helper()
	row := fmt.Sprintf(`section[data-cloud=%q] tr[data-family=%q]`, want.cloud, want.family)
	item := fmt.Sprintf(`%s li.failing[data-check=%q]`, row, want.check)
	browserStep(t, ctx, "load the overview", chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(item)))

	got := pageText(t, ctx, item)
	assert.Equal(t, want.check+" failed: "+oneLine(want.message), oneLine(got), "the failing check in the overview")
	assert.Equal(t, "failed", pageText(t, ctx, item+" .state-failed-text"))
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
	require.NoError(t, err)
	assert.Zero(t, scripts, "the page runs no script")
	require.NoError(t, browser.Screenshot(ctx, want.overviewPNG))
	t.Logf("overview screenshot: %s", want.overviewPNG)

	cell := fmt.Sprintf(`%s a.cell[href="runs/%s"]`, row, want.run)
	assert.Contains(t, pageText(t, ctx, cell), "failed", "the strip cell says its state in text")
	sctx, cancel := context.WithTimeout(ctx, browserWait)
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(cell)))
	cancel()
	require.NoError(t, err, "click the failed run in the strip")
	assert.EqualValues(t, 200, resp.Status)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, pageURL+"runs/"+want.run, loc)

	detail := fmt.Sprintf(`table.checks tr[data-check=%q]`, want.check)
	browserStep(t, ctx, "the run's detail page", chromedp.WaitVisible(chromedp.CSS(detail)))
	assert.Equal(t, "failed", pageText(t, ctx, detail+" td.status"))
	assert.Equal(t, oneLine(want.message), oneLine(pageText(t, ctx, detail+" td.message")))
	assert.Contains(t, pageText(t, ctx, "#run-state"), "failed")
	require.NoError(t, browser.Screenshot(ctx, want.runPNG))
	t.Logf("run detail screenshot: %s", want.runPNG)
}

// oneLine folds whitespace, as innerText and the page's wrapping may differ in it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
