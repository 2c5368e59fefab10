package service_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/metrics"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service"
)

// loopbackWeb is a web server on loopback that can be taken down (503) and
// brought back; paths is a WatchPathsFunc watching it as http/web with a
// threshold of one second, and counts the watches it gave.
type loopbackWeb struct {
	down    atomic.Bool
	hits    atomic.Int64
	watches atomic.Int64
	url     string
}

func newLoopbackWeb(t *testing.T) *loopbackWeb {
	w := &loopbackWeb{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		w.hits.Add(1)
		if w.down.Load() {
			http.Error(rw, "down for the upgrade", http.StatusServiceUnavailable)
			return
		}
		_, _ = rw.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *loopbackWeb) paths(string) ([]probe.WatchPath, error) {
	w.watches.Add(1)
	p := probe.HTTPPath("http/web", w.url+"/")
	p.Threshold = time.Second
	return []probe.WatchPath{p}, nil
}

func watchOptions(web *loopbackWeb) service.Options {
	return service.Options{WatchPaths: web.paths, WatchInterval: 25 * time.Millisecond, WatchTimeout: 500 * time.Millisecond,
		WatchUpWait: 5 * time.Second, Metrics: metrics.New(), OpenReads: []string{"metrics"}}
}

// A passed snapshot is watched until the check of type upgrade on it: the
// web server down for 2 s is a failed downtime/http/web check (threshold
// 1 s) whose result carries the gap and the window, and /metrics has the
// downtime and threshold per path. A second check has no watch left.
func TestUpgradeWatchInService(t *testing.T) {
	web := newLoopbackWeb(t)
	e, _ := newUpgradeEnv(t, watchOptions(web))
	code, a := e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web-1"]}}`)
	require.Equal(t, 202, code, "%v", a)
	snap := a["handle"].(string)
	s := e.waitState(t, snap, "passed")
	require.Eventually(t, func() bool {
		_, s = e.do(t, "GET", "/cpulse/result?handle="+snap, "")
		return s["watching"] != nil
	}, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, float64(1), s["watching"].(map[string]any)["paths"])
	require.Eventually(t, func() bool { return web.hits.Load() > 4 }, 2*time.Second, 5*time.Millisecond, "probed")

	time.Sleep(300 * time.Millisecond)
	down := time.Now()
	web.down.Store(true)
	time.Sleep(2 * time.Second)
	web.down.Store(false)
	up := time.Now()
	time.Sleep(300 * time.Millisecond)

	code, v := e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+snap+`"}`)
	require.Equal(t, 202, code, "%v", v)
	stopped := time.Now()
	hits := web.hits.Load()
	res := e.waitState(t, v["handle"].(string), "failed")
	_, s = e.do(t, "GET", "/cpulse/result?handle="+snap, "")
	assert.Nil(t, s["watching"], "the check stopped the watch")
	time.Sleep(100 * time.Millisecond)
	assert.LessOrEqual(t, web.hits.Load(), hits+1, "no probe after the stop")

	assert.Equal(t, []any{"existing/vm-1/status"}, res["tests_passed"])
	require.Len(t, res["tests_failed"], 1)
	msg := res["tests_failed"].([]any)[0].(map[string]any)["downtime/http/web"].(string)
	assert.Regexp(t, `^down (1\.9|2\.[0-2])s, longest (1\.9|2\.[0-2])s, 1 outage\(s\) in \d+ probes \(threshold 1s\)$`, msg)
	var dc map[string]any
	for _, c := range res["checks"].([]any) {
		if c.(map[string]any)["name"] == "downtime/http/web" {
			dc = c.(map[string]any)
		}
	}
	require.NotNil(t, dc, "%v", res["checks"])
	assert.Equal(t, "FAIL", dc["status"])
	assert.Equal(t, msg, dc["error"], "the check's error is the summary; the gaps are in watch")
	assert.InDelta(t, 2.0, dc["seconds"], 0.2)

	w := res["watch"].(map[string]any)
	from, to := parseTime(t, w["from"]), parseTime(t, w["to"])
	assert.WithinDuration(t, stopped, to, 300*time.Millisecond, "the window ends at the check")
	assert.True(t, from.Before(down), "the window starts before the outage: %s %s", from, down)
	paths := w["paths"].([]any)
	require.Len(t, paths, 1)
	p := paths[0].(map[string]any)
	assert.Equal(t, "http/web", p["name"])
	assert.Equal(t, "FAIL", p["status"])
	assert.Equal(t, float64(1), p["threshold_s"])
	assert.InDelta(t, 2.0, p["downtime_s"], 0.2)
	assert.InDelta(t, 2.0, p["longest_gap_s"], 0.2)
	gaps := p["gaps"].([]any)
	require.Len(t, gaps, 1)
	g := gaps[0].(map[string]any)
	assert.WithinDuration(t, down, parseTime(t, g["start"]), 100*time.Millisecond)
	assert.WithinDuration(t, up, parseTime(t, g["end"]), 100*time.Millisecond)
	assert.Equal(t, "http GET "+web.url+"/: status 503", strings.SplitN(g["error"].(string), ",", 2)[0])
	t.Logf("measured %.3fs down (2s injected), window %s", p["downtime_s"], to.Sub(from))

	_, m := e.raw(t, "GET", "/metrics", "", "")
	assert.Regexp(t, `cloudpulse_upgrade_downtime_seconds\{cloud="lab-member",path="http/web"\} (1\.9|2\.[0-2])\d*\n`, string(m))
	assert.Contains(t, string(m), `cloudpulse_upgrade_downtime_threshold_seconds{cloud="lab-member",path="http/web"} 1`)

	// the snapshot is still kept: a second check verifies it, without a watch
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+snap+`"}`)
	require.Equal(t, 202, code, "%v", v)
	res = e.waitState(t, v["handle"].(string), "passed")
	assert.Nil(t, res["watch"])
	assert.Equal(t, int64(1), web.watches.Load())
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err, "%v", v)
	return at
}

// DELETE of a watched snapshot ends its watch; so does the watch's limit
// (its report then ends there) and the service's shutdown.
func TestUpgradeWatchEnds(t *testing.T) {
	web := newLoopbackWeb(t)
	e, _ := newUpgradeEnv(t, watchOptions(web))
	snapshot := func() string {
		code, a := e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web-1"]}}`)
		require.Equal(t, 202, code, "%v", a)
		h := a["handle"].(string)
		e.waitState(t, h, "passed")
		return h
	}
	stillProbed := func() bool {
		time.Sleep(100 * time.Millisecond) // a request cancelled by the stop may still reach the server
		n := web.hits.Load()
		time.Sleep(150 * time.Millisecond)
		return web.hits.Load() > n
	}
	h := snapshot()
	require.True(t, stillProbed())
	code, d := e.do(t, "DELETE", "/cpulse/check/"+h, "")
	require.Equal(t, 202, code, "%v", d)
	e.waitState(t, d["finish"].(string), "passed")
	assert.False(t, stillProbed(), "DELETE ended the watch")
	_, s := e.do(t, "GET", "/cpulse/result?handle="+h, "")
	assert.Nil(t, s["watching"])

	// shutdown
	snapshot()
	require.True(t, stillProbed())
	require.NoError(t, e.svc.Shutdown(t.Context()))
	assert.False(t, stillProbed(), "shutdown ended the watch")

	// the limit
	web2 := newLoopbackWeb(t)
	o := watchOptions(web2)
	o.WatchMax = 400 * time.Millisecond
	e2, _ := newUpgradeEnv(t, o)
	code, a := e2.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web-1"]}}`)
	require.Equal(t, 202, code, "%v", a)
	h2 := a["handle"].(string)
	e2.waitState(t, h2, "passed")
	time.Sleep(600 * time.Millisecond)
	n := web2.hits.Load()
	time.Sleep(150 * time.Millisecond)
	assert.Equal(t, n, web2.hits.Load(), "the watch stopped at its limit")
	code, v := e2.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+h2+`"}`)
	require.Equal(t, 202, code, "%v", v)
	res := e2.waitState(t, v["handle"].(string), "passed")
	w := res["watch"].(map[string]any)
	window := parseTime(t, w["to"]).Sub(parseTime(t, w["from"]))
	assert.LessOrEqual(t, window, 450*time.Millisecond, "the report ends at the limit")
}
