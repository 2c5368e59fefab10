package status_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// timelineReport is a 100 s watch: ping/vm-1 down 20 s..30 s and from 95 s
// to the end, http/<b>evil</b> down 50 s..52 s with a hostile error, ssh never.
func timelineReport(start time.Time) probe.WatchReport {
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	return probe.WatchReport{Started: start, Ended: at(100), Interval: time.Second, Paths: []probe.PathReport{
		{Name: "ping/vm-1", Probes: 100, Failed: 15, Downtime: 15 * time.Second, LongestGap: 10 * time.Second, Threshold: 5 * time.Second,
			Outages: []probe.Outage{
				{Start: at(20), End: at(30), Duration: 10 * time.Second, Error: "ping 172.24.4.10: timeout"},
				{Start: at(95), End: at(100), Duration: 5 * time.Second, Error: "ping 172.24.4.10: timeout", Open: true},
			}},
		{Name: "http/<b>evil</b>", Probes: 100, Failed: 2, Downtime: 2 * time.Second, LongestGap: 2 * time.Second, Threshold: 5 * time.Second,
			Outages: []probe.Outage{{Start: at(50), End: at(52), Duration: 2 * time.Second, Error: `<script>alert(1)</script>`}}},
		{Name: "ssh/vm-1", Probes: 100, Threshold: 5 * time.Second},
	}}
}

func TestDowntimeTimeline(t *testing.T) {
	st := openStore(t)
	start := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	checks := status.DowntimeChecks(timelineReport(start))
	up := add(t, st, store.Run{Cloud: "lab-admin", Type: "upgrade", State: store.StateFailed,
		Queued: start, Started: start.Add(100 * time.Second), Finished: start.Add(110 * time.Second), Checks: checks})

	// the watch reads back from the stored checks
	w := status.WatchOf(up.Checks)
	require.NotNil(t, w)
	assert.Equal(t, start, w.From)
	assert.Equal(t, start.Add(100*time.Second), w.To)
	require.Len(t, w.Paths, 3)
	assert.Equal(t, status.PathWatch{Name: "ping/vm-1", Status: "FAIL", DowntimeS: 15, LongestGap: 10, ThresholdS: 5, Probes: 100,
		Gaps: []status.Gap{
			{Start: start.Add(20 * time.Second), End: start.Add(30 * time.Second), DurationS: 10, Error: "ping 172.24.4.10: timeout"},
			{Start: start.Add(95 * time.Second), End: start.Add(100 * time.Second), DurationS: 5, Open: true, Error: "ping 172.24.4.10: timeout"},
		}}, w.Paths[0])
	assert.Equal(t, []status.Gap{}, w.Paths[2].Gaps)

	for _, path := range []string{"/", "/runs/" + up.Handle} {
		code, body, _ := get(t, page(st), path)
		require.Equal(t, http.StatusOK, code)
		tl := section(t, body, `<div class="timeline">`, `</div>`)
		assert.Contains(t, tl, `Watched from <time datetime="2026-12-03T07:00:00Z">2026-12-03 07:00:00 UTC</time> to <time datetime="2026-12-03T07:01:40Z">2026-12-03 07:01:40 UTC</time> (1m40s)`, path)
		// 100 s over 480 px: 20 s..30 s is x 96, 48 px wide; the open gap ends at the right edge
		assert.Contains(t, tl, `<tr data-timeline="ping/vm-1">`, path)
		assert.Contains(t, tl, `<rect class="down" x="96" y="0" width="48" height="16"><title>down 07:00:20.000–07:00:30.000 UTC (10.0s)</title></rect><rect class="down" x="456" y="0" width="24" height="16"><title>down 07:01:35.000–07:01:40.000 UTC (5.0s), still down at the end</title></rect></svg>`, path)
		assert.Contains(t, tl, `aria-label="ssh/vm-1: 0 gap(s), down 0ms"><title>ssh/vm-1: 0 gap(s), down 0ms</title><rect class="up" x="0" y="0" width="480" height="16"/></svg>`, path)
		// the text form: a row per gap
		assert.Contains(t, tl, `<tr data-gap="ping/vm-1"><th scope="row">ping/vm-1</th><td>07:00:20.000 UTC (&#43;20.0s)</td><td>07:00:30.000 UTC (&#43;30.0s)</td><td>10.0s</td><td class="message">ping 172.24.4.10: timeout</td></tr>`, path)
		assert.Contains(t, tl, `<td>still down at 07:01:40.000 UTC</td>`, path)
		// everything escaped
		assert.Contains(t, tl, `<tr data-gap="http/&lt;b&gt;evil&lt;/b&gt;"><th scope="row">http/&lt;b&gt;evil&lt;/b&gt;</th>`, path)
		assert.Contains(t, tl, `<td class="message">&lt;script&gt;alert(1)&lt;/script&gt;</td>`, path)
		assert.NotContains(t, body, "<script")
		assert.NotContains(t, body, `watch {`, "the check's stored watch line is not shown as text")
		assert.NotContains(t, body, "<b>evil")
		// axis: five ticks
		assert.Contains(t, tl, `>&#43;0ms</text>`, path)
		assert.Contains(t, tl, `>&#43;50.0s</text>`, path)
		assert.Contains(t, tl, `text-anchor="end" fill="currentColor">&#43;1m40s</text>`, path)
	}
}

// A run stored before the gaps were kept (summary only) shows the bars and no timeline.
func TestDowntimeWithoutTimeline(t *testing.T) {
	st := openStore(t)
	start := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	checks := status.DowntimeChecks(timelineReport(start))
	for i := range checks {
		checks[i].Error, _, _ = strings.Cut(checks[i].Error, "\n")
	}
	up := add(t, st, store.Run{Cloud: "lab-admin", Type: "upgrade", State: store.StateFailed, Queued: start, Checks: checks})
	assert.Nil(t, status.WatchOf(up.Checks))
	_, body, _ := get(t, page(st), "/runs/"+up.Handle)
	assert.Contains(t, body, `<div class="downtime">`)
	assert.NotContains(t, body, `class="timeline"`)
}

// Many gaps keep MaxGaps and count the rest.
func TestDowntimeManyGaps(t *testing.T) {
	start := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	p := probe.PathReport{Name: "ping/vm-1", Probes: 1000}
	for i := range status.MaxGaps + 5 {
		s := start.Add(time.Duration(2*i) * time.Second)
		p.Outages = append(p.Outages, probe.Outage{Start: s, End: s.Add(time.Second), Duration: time.Second})
	}
	rep := probe.WatchReport{Started: start, Ended: start.Add(time.Hour), Paths: []probe.PathReport{p}}
	w := status.WatchOf(status.DowntimeChecks(rep))
	require.NotNil(t, w)
	assert.Len(t, w.Paths[0].Gaps, status.MaxGaps)
	assert.Equal(t, 5, w.Paths[0].MoreGaps)
	st := openStore(t)
	up := add(t, st, store.Run{Cloud: "c", Type: "upgrade", State: store.StatePassed, Queued: start, Checks: status.DowntimeChecks(rep)})
	_, body, _ := get(t, page(st), "/runs/"+up.Handle)
	assert.Contains(t, body, `<td colspan="4">and 5 more gap(s) not kept</td>`)
}
