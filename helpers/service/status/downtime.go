package status

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// DowntimePrefix starts the name of a check that carries one watched path's
// upgrade downtime: "downtime/ping/vm-1".
const DowntimePrefix = "downtime/"

// DowntimeChecks are an upgrade watch's results as checks a Run can store:
// one per path, named DowntimePrefix+path, Seconds its total downtime,
// Status FAIL when over its threshold (else ok), Error its summary line and
// the path's watch (DowntimeDetail).
func DowntimeChecks(rep probe.WatchReport) []store.Check {
	out := make([]store.Check, 0, len(rep.Paths))
	for _, p := range rep.Paths {
		c := store.Check{Name: DowntimePrefix + p.Name, Status: "ok", Seconds: p.Downtime.Seconds(), Error: DowntimeDetail(rep, p)}
		if p.Exceeded() {
			c.Status = "FAIL"
		}
		out = append(out, c)
	}
	return out
}

// DowntimeDetail is what a downtime check of path p keeps as its detail: the
// summary line, then the watch window and p's gaps (WatchOf reads them back).
func DowntimeDetail(rep probe.WatchReport, p probe.PathReport) string {
	return downtimeSummary(p) + "\n" + watchLine(rep, p)
}

func downtimeSummary(p probe.PathReport) string {
	s := fmt.Sprintf("down %s, longest %s, %d outage(s) in %d probes", formatDuration(p.Downtime),
		formatDuration(p.LongestGap), len(p.Outages), p.Probes)
	if p.Threshold > 0 {
		s += fmt.Sprintf(" (threshold %s)", p.Threshold)
	}
	return s
}

// Geometry of the downtime bars, in pixels.
const (
	barWidth  = 480
	barHeight = 16
	barMin    = 2 // a path that was down at all shows
)

// downtimeView is one upgrade run's downtime per path.
type downtimeView struct {
	Run   RunView
	Scale string // what a full bar means: "full bar = 12.3s"
	Paths []pathView
	Width int
	// Window is the watch's window when the run kept its gaps: then each
	// path has a timeline (Gaps); nil: only the bars.
	Window *windowView
}

// windowView is a watch's window, the timeline's x axis.
type windowView struct {
	From, To When
	Length   string
	Ticks    []tickView
}

// tickView is a mark on the timeline's axis.
type tickView struct {
	X     int
	Label string
}

// pathView is one path's bar: Down is its red part's width.
type pathView struct {
	Name, Status, Class, Downtime, Summary string
	Down                                   int
	Gaps                                   []gapView
	MoreGaps                               int
}

// gapView is one down interval on a path's timeline, X and W in pixels.
type gapView struct {
	X, W                   int
	Start, End, Duration   string // 15:04:05.000 UTC; 2.1s
	StartOffset, EndOffset string // from the window's start: +1m02.3s
	Open                   bool
	Error                  string
}

// downtimeOf reads a run's downtime checks; nil when it has none.
func downtimeOf(r *store.Run, now time.Time) *downtimeView {
	var checks []store.Check
	longest := 0.0
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Name, DowntimePrefix) {
			checks = append(checks, c)
			longest = max(longest, c.Seconds)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	v := &downtimeView{Run: runView(r, now), Width: barWidth}
	if longest > 0 {
		v.Scale = "full bar = " + formatSeconds(longest) + " (the longest downtime)"
	} else {
		v.Scale = "no path was down"
	}
	for _, c := range checks {
		cv := checkView(c)
		summary, pj := splitDetail(c.Error)
		pv := pathView{Name: strings.TrimPrefix(c.Name, DowntimePrefix), Status: cv.Status, Class: cv.Class,
			Downtime: cv.Seconds, Summary: summary}
		if longest > 0 && c.Seconds > 0 {
			pv.Down = max(int(c.Seconds/longest*barWidth), barMin)
		}
		if pj != nil && pj.To.After(pj.From) {
			if v.Window == nil {
				v.Window = window(pj.From, pj.To, now)
			}
			pv.Gaps, pv.MoreGaps = gaps(pj, barWidth), pj.MoreGaps
		}
		v.Paths = append(v.Paths, pv)
	}
	return v
}
