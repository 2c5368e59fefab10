package status_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// now is the page's clock in these tests.
var now = time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// add stores r through the store API: created queued, then updated to its state.
func add(t *testing.T, st store.Store, r store.Run) store.Run {
	t.Helper()
	ctx := context.Background()
	final := r
	r.State, r.Checks, r.Failed, r.Passed, r.Steps = store.StateQueued, nil, nil, nil, nil
	require.NoError(t, st.Create(ctx, &r))
	final.Handle = r.Handle
	final.Queued = r.Queued
	require.NoError(t, st.Update(ctx, &final))
	return final
}

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func page(st store.Store) http.Handler {
	return status.Handler(st, status.Options{Now: func() time.Time { return now }})
}

// operatorHistory: passed 30 min ago, failed 10 min ago, running since 1 min.
func operatorHistory(t *testing.T, st store.Store) (passed, failed, running store.Run) {
	passed = add(t, st, store.Run{Cloud: "lab-admin", Type: "operator", State: store.StatePassed, Trigger: "schedule",
		Queued: now.Add(-30 * time.Minute), Started: now.Add(-30 * time.Minute), Finished: now.Add(-30*time.Minute + 4200*time.Millisecond),
		Passed: []string{"pacemaker", "haproxy"},
		Checks: []store.Check{{Name: "pacemaker", Status: "ok", Seconds: 0.8}, {Name: "haproxy", Status: "ok", Seconds: 0.2}}})
	failed = add(t, st, store.Run{Cloud: "lab-admin", Type: "operator", State: store.StateFailed, Trigger: "schedule",
		Queued: now.Add(-10 * time.Minute), Started: now.Add(-10 * time.Minute), Finished: now.Add(-10*time.Minute + 5*time.Second),
		Passed: []string{"haproxy"},
		Failed: []store.Failure{{Name: "pacemaker", Details: "resource cp-dummy (ocf:pacemaker:Dummy) is Stopped"}},
		Checks: []store.Check{
			{Name: "pacemaker", Status: "FAIL", Seconds: 1.25, Error: "resource cp-dummy (ocf:pacemaker:Dummy) is Stopped"},
			{Name: "haproxy", Status: "ok", Seconds: 0.3},
			{Name: "cinder-services", Status: "skip", Seconds: 0, Error: "needs the admin role"},
		}})
	running = add(t, st, store.Run{Cloud: "lab-admin", Type: "operator", State: store.StateRunning, Trigger: "api",
		Queued: now.Add(-time.Minute), Started: now.Add(-time.Minute)})
	return passed, failed, running
}

func TestOverview(t *testing.T) {
	st := openStore(t)
	passed, failed, running := operatorHistory(t, st)
	add(t, st, store.Run{Cloud: "lab-member", Type: "functional", State: store.StateInterrupted,
		Queued: now.Add(-3 * time.Hour), Started: now.Add(-3 * time.Hour)})

	code, body, hdr := get(t, page(st), "/")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
	assert.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'none'")

	row := section(t, body, `<tr data-family="operator">`, `</tr>`)
	// the last run is the running one: its state in words, since when, for how long
	assert.Contains(t, row, `<a class="state state-running" href="runs/`+running.Handle+`"><span aria-hidden="true">▶</span> running</a>`)
	assert.Contains(t, row, `started <time datetime="2026-12-02T20:59:00Z" title="2026-12-02 20:59:00 UTC">1m ago</time>`)
	assert.Contains(t, row, `1m00s so far`)
	// the strip: oldest to newest, each a link, the state as text too
	cells := regexp.MustCompile(`<a class="cell state-(\w+)" href="runs/([0-9a-f]{16})"`).FindAllStringSubmatch(row, -1)
	require.Len(t, cells, 3)
	assert.Equal(t, []string{"passed", passed.Handle}, cells[0][1:])
	assert.Equal(t, []string{"failed", failed.Handle}, cells[1][1:])
	assert.Equal(t, []string{"running", running.Handle}, cells[2][1:])
	assert.Contains(t, row, `<span class="sr-only">failed, 2026-12-02 20:50:00 UTC</span>`)
	// the failing checks of the last finished run, with their messages; a skip is not failing
	assert.Contains(t, row, `<li class="failing" data-check="pacemaker"><span class="check-name">pacemaker</span> <span class="state-failed-text">failed</span>: <span class="message">resource cp-dummy (ocf:pacemaker:Dummy) is Stopped</span></li>`)
	assert.Contains(t, row, `in run <a href="runs/`+failed.Handle+`">`+failed.Handle+`</a> (9m ago)`)
	assert.NotContains(t, row, "cinder-services")
	assert.NotContains(t, row, "haproxy")

	other := section(t, body, `<tr data-family="functional">`, `</tr>`)
	assert.Contains(t, other, `<span aria-hidden="true">!</span> interrupted</a>`)
	assert.Contains(t, body, `<h2 id="cloud-lab-member">Cloud lab-member</h2>`)
	assert.Contains(t, body, `<meta http-equiv="refresh" content="60">`)
	assert.Contains(t, body, `<th scope="col">Failing checks</th>`)
}

func TestOverviewPassedRun(t *testing.T) {
	st := openStore(t)
	add(t, st, store.Run{Cloud: "c1", Type: "endpoint", State: store.StatePassed,
		Queued: now.Add(-2 * time.Hour), Started: now.Add(-2 * time.Hour), Finished: now.Add(-2*time.Hour + 95*time.Second),
		Checks: []store.Check{{Name: "compute", Status: "ok", Seconds: 0.4}}})
	_, body, _ := get(t, page(st), "/")
	row := section(t, body, `<tr data-family="endpoint">`, `</tr>`)
	assert.Contains(t, row, `<time datetime="2026-12-02T19:01:35Z">1h ago</time>`)
	assert.Contains(t, row, `<div class="abs">2026-12-02 19:01:35 UTC</div>`)
	assert.Contains(t, row, `<td>1m35s</td>`)
	assert.Contains(t, row, `<div class="summary">1 passed, 0 failed</div>`)
	assert.Contains(t, row, `<span class="none">none</span>`)
}

func TestOverviewFailingSkipsRunsWithoutResults(t *testing.T) {
	st := openStore(t)
	_, failed, running := operatorHistory(t, st)
	running.State, running.Finished, running.Error = store.StateInterrupted, time.Time{}, ""
	require.NoError(t, st.Update(context.Background(), &running))
	add(t, st, store.Run{Cloud: "lab-admin", Type: "operator", State: store.StateCancelled, Queued: now.Add(-10 * time.Second)})
	add(t, st, store.Run{Cloud: "lab-admin", Type: "functional", State: store.StateFailed, Queued: now.Add(-time.Hour),
		Error: "tofu apply: exit status 1"})
	_, body, _ := get(t, page(st), "/")
	row := section(t, body, `<tr data-family="operator">`, `</tr>`)
	assert.Contains(t, row, `<span aria-hidden="true">−</span> cancelled</a>`)
	assert.Contains(t, row, `data-check="pacemaker"`)
	assert.Contains(t, row, `in run <a href="runs/`+failed.Handle+`">`)
	fn := section(t, body, `<tr data-family="functional">`, `</tr>`)
	assert.Contains(t, fn, `<li class="failing" data-check="run"><span class="check-name">run</span> <span class="state-failed-text">failed</span>: <span class="message">tofu apply: exit status 1</span></li>`)
}

func TestOverviewConfiguredNeverRan(t *testing.T) {
	st := openStore(t)
	h := status.Handler(st, status.Options{Clouds: []string{"lab-admin"}, Families: []string{"operator", "upgrade"}, Refresh: -1})
	_, body, _ := get(t, h, "/")
	assert.Contains(t, section(t, body, `<tr data-family="upgrade">`, `</tr>`), `<span class="state state-none">never ran</span>`)
	assert.NotContains(t, body, "No runs yet.")
	assert.NotContains(t, body, `http-equiv="refresh"`)

	_, body, _ = get(t, status.Handler(st, status.Options{}), "/")
	assert.Contains(t, body, `<p class="empty">No runs yet.</p>`)
}

func TestStripLength(t *testing.T) {
	st := openStore(t)
	for i := range 5 {
		add(t, st, store.Run{Cloud: "c", Type: "operator", State: store.StatePassed, Queued: now.Add(time.Duration(i-10) * time.Minute)})
	}
	_, body, _ := get(t, status.Handler(st, status.Options{Strip: 3}), "/")
	assert.Equal(t, 3, strings.Count(body, `<a class="cell state-passed"`))
}

func TestRunDetail(t *testing.T) {
	st := openStore(t)
	_, failed, _ := operatorHistory(t, st)
	failed.Steps = []store.Step{{Name: "apply", Seconds: 61.5}, {Name: "destroy", Seconds: 12}}
	failed.RunIDs = []string{"cp-0123abcd"}
	failed.Error = "1 check failed"
	failed.Failed = append(failed.Failed, store.Failure{Name: "functional", Details: "destroy left 1 port"})
	require.NoError(t, st.Update(context.Background(), &failed))

	code, body, _ := get(t, page(st), "/runs/"+failed.Handle)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `<h1>Run `+failed.Handle+`: operator on lab-admin</h1>`)
	assert.Contains(t, body, `<span class="state state-failed" id="run-state"><span aria-hidden="true">✗</span> failed</span> — 1 passed, 1 failed, 1 skipped`)
	assert.Contains(t, body, `<dt>Started</dt><dd><time datetime="2026-12-02T20:50:00Z">2026-12-02 20:50:00 UTC</time> <span class="rel">(10m ago)</span></dd>`)
	assert.Contains(t, body, `<dt>Took</dt><dd>5.0s</dd>`)
	assert.Contains(t, body, `<dd class="message run-error">1 check failed</dd>`)
	assert.Contains(t, body, "<tr class=\"check-failed\" data-check=\"pacemaker\">\n<th scope=\"row\">pacemaker</th>\n<td class=\"status\">failed</td>\n<td>1.2s</td>\n<td class=\"message\">resource cp-dummy (ocf:pacemaker:Dummy) is Stopped</td>")
	assert.Contains(t, body, "<tr class=\"check-passed\" data-check=\"haproxy\">\n<th scope=\"row\">haproxy</th>\n<td class=\"status\">passed</td>\n<td>300ms</td>")
	assert.Contains(t, body, "<td class=\"status\">skipped</td>\n<td>0ms</td>\n<td class=\"message\">needs the admin role</td>")
	assert.Contains(t, body, `<tr><th scope="row">apply</th><td>1m01s</td></tr>`)
	assert.Contains(t, body, `<tr><th scope="row">destroy</th><td>12.0s</td></tr>`)
	assert.Contains(t, body, `<code>cp-0123abcd</code>`)
	// a failed test that no check names is still shown
	assert.Contains(t, body, `<li class="failing" data-check="functional"><span class="check-name">functional</span> <span class="state-failed-text">failed</span>: <span class="message">destroy left 1 port</span></li>`)
	assert.Contains(t, body, `<link rel="stylesheet" href="../style.css">`)
}

func TestRunNotFound(t *testing.T) {
	st := openStore(t)
	for path, want := range map[string]string{
		"/runs/0123456789abcdef": "The history has no run 0123456789abcdef (it may have been pruned).",
		"/runs/nothex":           "&#34;nothex&#34; is not a run handle (16 hex digits).",
		"/nowhere":               "/nowhere is not a page of the status page.",
	} {
		code, body, _ := get(t, page(st), path)
		assert.Equal(t, http.StatusNotFound, code, path)
		assert.Contains(t, body, `<p class="problem">`+want+`</p>`, path)
	}
}

func TestReadOnly(t *testing.T) {
	srv := httptest.NewServer(page(openStore(t)))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	assert.Contains(t, string(body), `<p class="problem">The status page only reads: POST is not allowed.</p>`)
}

func TestEscapesEverything(t *testing.T) {
	st := openStore(t)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	r := add(t, st, store.Run{Cloud: `c"><b>x</b>`, Type: "operator", State: store.StateFailed,
		Queued: now.Add(-time.Minute), Started: now.Add(-time.Minute), Finished: now,
		Error:  evil,
		Failed: []store.Failure{{Name: "haproxy", Details: evil}},
		Checks: []store.Check{{Name: `<i>n</i>`, Status: "FAIL", Error: evil}, {Name: "haproxy", Status: "FAIL", Error: evil}},
		Steps:  []store.Step{{Name: evil, Seconds: 1}}})
	want := `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`
	for _, path := range []string{"/", "/runs/" + r.Handle} {
		code, body, _ := get(t, page(st), path)
		require.Equal(t, http.StatusOK, code, body)
		assert.NotContains(t, body, "<script", path)
		assert.NotContains(t, body, "<img", path)
		assert.NotContains(t, body, "<b>x</b>", path)
		assert.NotContains(t, body, "<i>n</i>", path)
		assert.Contains(t, body, `class="message">`+want+`</`, path)
	}
	_, body, _ := get(t, page(st), "/runs/"+r.Handle)
	assert.Contains(t, body, `<td class="message">`+want+`</td>`)
	assert.Contains(t, body, `<dd class="message run-error">`+want+`</dd>`)
	assert.Contains(t, body, `<th scope="row">`+want+`</th>`)
	_, body, _ = get(t, page(st), "/")
	assert.Contains(t, body, `<span class="message">`+want+`</span>`)
	assert.Contains(t, body, `<h2 id="cloud-c&#34;&gt;&lt;b&gt;x&lt;/b&gt;">Cloud c&#34;&gt;&lt;b&gt;x&lt;/b&gt;</h2>`)
}

func TestDowntime(t *testing.T) {
	st := openStore(t)
	start := now.Add(-20 * time.Minute)
	rep := probe.WatchReport{Started: start, Ended: start.Add(10 * time.Minute), Interval: time.Second, Paths: []probe.PathReport{
		{Name: "ping/vm-1", Probes: 600, Downtime: 8 * time.Second, LongestGap: 6 * time.Second, Threshold: 5 * time.Second,
			Outages: []probe.Outage{{}, {}}},
		{Name: "ssh/vm-1", Probes: 600, Downtime: 2 * time.Second, LongestGap: 2 * time.Second, Threshold: 5 * time.Second,
			Outages: []probe.Outage{{}}},
		{Name: "metadata/vm-1", Probes: 100, Threshold: 6 * time.Second},
	}}
	checks := status.DowntimeChecks(rep)
	for i := range checks { // the summary line; the watch line is TestDowntimeTimeline's
		first, watch, ok := strings.Cut(checks[i].Error, "\n")
		require.True(t, ok, checks[i].Error)
		assert.True(t, strings.HasPrefix(watch, `watch {"from":"`), watch)
		checks[i].Error = first
	}
	assert.Equal(t, []store.Check{
		{Name: "downtime/ping/vm-1", Status: "FAIL", Seconds: 8, Error: "down 8.0s, longest 6.0s, 2 outage(s) in 600 probes (threshold 5s)"},
		{Name: "downtime/ssh/vm-1", Status: "ok", Seconds: 2, Error: "down 2.0s, longest 2.0s, 1 outage(s) in 600 probes (threshold 5s)"},
		{Name: "downtime/metadata/vm-1", Status: "ok", Seconds: 0, Error: "down 0ms, longest 0ms, 0 outage(s) in 100 probes (threshold 6s)"},
	}, checks)
	up := add(t, st, store.Run{Cloud: "lab-admin", Type: "upgrade", State: store.StateFailed,
		Queued: start, Started: start, Finished: start.Add(10 * time.Minute), Checks: checks})

	for _, path := range []string{"/", "/runs/" + up.Handle} {
		_, body, _ := get(t, page(st), path)
		d := section(t, body, `<div class="downtime">`, `</div>`)
		assert.Contains(t, d, `full bar = 8.0s (the longest downtime)`, path)
		assert.Contains(t, d, `<td class="check-failed">failed</td>`, path)
		assert.Contains(t, d, `<svg class="bar" width="480" height="16" viewBox="0 0 480 16" role="img" aria-label="ping/vm-1 down 8.0s"><rect class="up" x="0" y="0" width="480" height="16"/><rect class="down" x="0" y="0" width="480" height="16"><title>down 8.0s</title></rect></svg>`, path)
		assert.Contains(t, d, `aria-label="ssh/vm-1 down 2.0s"><rect class="up" x="0" y="0" width="480" height="16"/><rect class="down" x="0" y="0" width="120" height="16">`, path)
		assert.Contains(t, d, `aria-label="metadata/vm-1 down 0ms"><rect class="up" x="0" y="0" width="480" height="16"/></svg>`, path)
		assert.Contains(t, d, `<td class="message">down 8.0s, longest 6.0s, 2 outage(s) in 600 probes (threshold 5s)</td>`, path)
	}
	// no downtime section without downtime checks
	_, body, _ := get(t, page(openStore(t)), "/")
	assert.NotContains(t, body, `class="downtime"`)
}

func TestAuthMiddleware(t *testing.T) {
	st := openStore(t)
	deny := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="cloudpulse"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		})
	}
	for _, path := range []string{"/", "/runs/0123456789abcdef", "/style.css"} {
		code, _, hdr := get(t, status.Handler(st, status.Options{Auth: deny}), path)
		assert.Equal(t, http.StatusUnauthorized, code, path)
		assert.Equal(t, `Basic realm="cloudpulse"`, hdr.Get("WWW-Authenticate"))
	}
}

func TestStyleSheet(t *testing.T) {
	code, body, hdr := get(t, page(openStore(t)), "/style.css")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "text/css; charset=utf-8", hdr.Get("Content-Type"))
	assert.Contains(t, body, ".state-failed")
}

// section is body from the first from up to the next to (inclusive).
func section(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	require.GreaterOrEqual(t, i, 0, "no %q in:\n%s", from, body)
	j := strings.Index(body[i:], to)
	require.GreaterOrEqual(t, j, 0, "no %q after %q", to, from)
	return body[i : i+j+len(to)]
}
