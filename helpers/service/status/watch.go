package status

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// A downtime check's Error holds its summary line and, on a second line after
// watchMarker, the path's watch as JSON (pathJSON): the watch window and the
// gap intervals, so the history keeps the timeline without a column of its
// own. The probes' samples are not kept (a 6 h watch has 20 000 per path).
const watchMarker = "watch "

// MaxGaps bounds the gaps kept per path (a flapping path over hours); the
// rest are counted in MoreGaps.
const MaxGaps = 200

// Watch is an upgrade watch as a run keeps it: its window and, per path,
// the downtime and the gaps.
type Watch struct {
	From  time.Time   `json:"from"` // the window: from all paths up (or the start)
	To    time.Time   `json:"to"`   // to the stop (the upgrade check, or the watch's limit)
	Paths []PathWatch `json:"paths"`
}

// PathWatch is one watched path.
type PathWatch struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"` // ok | FAIL (over its threshold)
	DowntimeS  float64 `json:"downtime_s"`
	LongestGap float64 `json:"longest_gap_s"`
	ThresholdS float64 `json:"threshold_s"` // 0: none
	Probes     int     `json:"probes"`
	Gaps       []Gap   `json:"gaps"`
	MoreGaps   int     `json:"more_gaps,omitempty"` // gaps not kept (MaxGaps)
}

// Gap is one interval a path was down.
type Gap struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	DurationS float64   `json:"duration_s"`
	Open      bool      `json:"open,omitempty"` // still down when the watch stopped
	Error     string    `json:"error,omitempty"`
}

// pathJSON is the second line of a downtime check's Error.
type pathJSON struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Probes     int       `json:"probes"`
	LongestGap float64   `json:"longest_gap_s"`
	ThresholdS float64   `json:"threshold_s,omitempty"`
	Gaps       []Gap     `json:"gaps"`
	MoreGaps   int       `json:"more_gaps,omitempty"`
}

// maxGapError bounds a gap's kept error text.
const maxGapError = 200

func watchLine(rep probe.WatchReport, p probe.PathReport) string {
	pj := pathJSON{From: rep.Started.UTC(), To: rep.Ended.UTC(), Probes: p.Probes, LongestGap: p.LongestGap.Seconds(),
		ThresholdS: p.Threshold.Seconds(), Gaps: []Gap{}}
	for i, o := range p.Outages {
		if i == MaxGaps {
			pj.MoreGaps = len(p.Outages) - MaxGaps
			break
		}
		e := o.Error
		if len(e) > maxGapError {
			e = e[:maxGapError] + "…"
		}
		pj.Gaps = append(pj.Gaps, Gap{Start: o.Start.UTC(), End: o.End.UTC(), DurationS: o.Duration.Seconds(), Open: o.Open, Error: e})
	}
	b, _ := json.Marshal(pj) // plain values: cannot fail
	return watchMarker + string(b)
}

// splitDetail is a downtime check's summary line and its watch (nil: none,
// a check stored before the watch was kept).
func splitDetail(detail string) (string, *pathJSON) {
	summary, rest, _ := strings.Cut(detail, "\n")
	if !strings.HasPrefix(rest, watchMarker) {
		return summary, nil
	}
	var pj pathJSON
	if err := json.Unmarshal([]byte(strings.TrimPrefix(rest, watchMarker)), &pj); err != nil {
		return summary, nil
	}
	return summary, &pj
}

// WatchOf is the watch a run's downtime checks keep; nil when it has none
// (or they were stored without their gaps).
func WatchOf(checks []store.Check) *Watch {
	var w *Watch
	for _, c := range checks {
		name, ok := strings.CutPrefix(c.Name, DowntimePrefix)
		if !ok {
			continue
		}
		_, pj := splitDetail(c.Error)
		if pj == nil {
			continue
		}
		if w == nil {
			w = &Watch{From: pj.From, To: pj.To, Paths: []PathWatch{}}
		}
		w.Paths = append(w.Paths, PathWatch{Name: name, Status: c.Status, DowntimeS: c.Seconds, LongestGap: pj.LongestGap,
			ThresholdS: pj.ThresholdS, Probes: pj.Probes, Gaps: pj.Gaps, MoreGaps: pj.MoreGaps})
	}
	return w
}

// DowntimeSummary is a downtime check's detail without its watch line: the
// summary an API or a message shows.
func DowntimeSummary(detail string) string {
	summary, _ := splitDetail(detail)
	return summary
}
