package probe

import (
	"encoding/json"
	"math"
	"time"
)

// A WatchReport in JSON gives durations in seconds (keys ending in _s) and times in RFC 3339; a sample's time is
// its offset from the start of the watch ("t_s"), which keeps a long watch's file small:
//
//	{"started": "...", "ended": "...", "duration_s": 61.2, "interval_s": 0.2, "paths": [
//	  {"name": "http/vm-1", "probes": 306, "failed": 8, "downtime_s": 1.6, "longest_gap_s": 1.6,
//	   "threshold_s": 5, "exceeded": false,
//	   "outages": [{"start": "...", "end": "...", "start_s": 20.2, "end_s": 21.8, "duration_s": 1.6,
//	                "error": "http GET ...: status 503, ...", "open": false}],
//	   "samples": [{"t_s": 0, "ok": true, "latency_s": 0.0012}, ...]}]}
//
// It reads back with json.Unmarshal (to microseconds).

type watchReportJSON struct {
	Started   time.Time        `json:"started"`
	Ended     time.Time        `json:"ended"`
	DurationS float64          `json:"duration_s"`
	IntervalS float64          `json:"interval_s"`
	Paths     []pathReportJSON `json:"paths"`
}

type pathReportJSON struct {
	Name         string       `json:"name"`
	Probes       int          `json:"probes"`
	Failed       int          `json:"failed"`
	Inconclusive int          `json:"inconclusive"`
	DowntimeS    float64      `json:"downtime_s"`
	LongestGapS  float64      `json:"longest_gap_s"`
	ThresholdS   float64      `json:"threshold_s"` // 0: none
	Exceeded     bool         `json:"exceeded"`
	Outages      []outageJSON `json:"outages"`
	Samples      []sampleJSON `json:"samples"`
}

type outageJSON struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	StartS    float64   `json:"start_s"` // from the start of the watch
	EndS      float64   `json:"end_s"`
	DurationS float64   `json:"duration_s"`
	Error     string    `json:"error"`
	Open      bool      `json:"open"`
}

type sampleJSON struct {
	TS       float64 `json:"t_s"`
	OK       bool    `json:"ok"`
	LatencyS float64 `json:"latency_s"`
}

// MarshalJSON writes the report with durations in seconds (see the package's JSON shape above).
func (r WatchReport) MarshalJSON() ([]byte, error) {
	out := watchReportJSON{Started: r.Started, Ended: r.Ended, DurationS: jsonSeconds(r.Ended.Sub(r.Started)),
		IntervalS: jsonSeconds(r.Interval), Paths: make([]pathReportJSON, 0, len(r.Paths))}
	for _, p := range r.Paths {
		pj := pathReportJSON{Name: p.Name, Probes: p.Probes, Failed: p.Failed, Inconclusive: p.Inconclusive, DowntimeS: jsonSeconds(p.Downtime),
			LongestGapS: jsonSeconds(p.LongestGap), ThresholdS: jsonSeconds(p.Threshold), Exceeded: p.Exceeded(),
			Outages: make([]outageJSON, 0, len(p.Outages)), Samples: make([]sampleJSON, 0, len(p.Samples))}
		for _, o := range p.Outages {
			pj.Outages = append(pj.Outages, outageJSON{Start: o.Start, End: o.End, StartS: jsonSeconds(o.Start.Sub(r.Started)),
				EndS: jsonSeconds(o.End.Sub(r.Started)), DurationS: jsonSeconds(o.Duration), Error: o.Error, Open: o.Open})
		}
		for _, s := range p.Samples {
			pj.Samples = append(pj.Samples, sampleJSON{TS: jsonSeconds(s.At.Sub(r.Started)), OK: s.OK, LatencyS: jsonSeconds(s.Latency)})
		}
		out.Paths = append(out.Paths, pj)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *WatchReport) UnmarshalJSON(data []byte) error {
	var in watchReportJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = WatchReport{Started: in.Started, Ended: in.Ended, Interval: jsonDuration(in.IntervalS)}
	for _, pj := range in.Paths {
		p := PathReport{Name: pj.Name, Probes: pj.Probes, Failed: pj.Failed, Inconclusive: pj.Inconclusive, Downtime: jsonDuration(pj.DowntimeS),
			LongestGap: jsonDuration(pj.LongestGapS), Threshold: jsonDuration(pj.ThresholdS)}
		for _, o := range pj.Outages {
			p.Outages = append(p.Outages, Outage{Start: o.Start, End: o.End, Duration: jsonDuration(o.DurationS), Error: o.Error, Open: o.Open})
		}
		for _, s := range pj.Samples {
			p.Samples = append(p.Samples, Sample{At: in.Started.Add(jsonDuration(s.TS)), OK: s.OK, Latency: jsonDuration(s.LatencyS)})
		}
		r.Paths = append(r.Paths, p)
	}
	return nil
}

// secs is d in seconds, to the microsecond.
func jsonSeconds(d time.Duration) float64 { return math.Round(d.Seconds()*1e6) / 1e6 }

func jsonDuration(s float64) time.Duration {
	return time.Duration(math.Round(s*1e6)) * time.Microsecond
}
