package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Step is one timed part of a run.
type Step struct {
	Name     string        `json:"name"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Seconds  float64       `json:"seconds"`
	OK       bool          `json:"ok"`
	Skipped  bool          `json:"skipped,omitempty"` // a check that did not run to a verdict (OK stays true: nothing failed)
	Error    string        `json:"error,omitempty"`   // the error, or why it was skipped
}

// Timeline collects steps in the order they end; safe for concurrent use.
type Timeline struct {
	mu    sync.Mutex
	steps []Step
}

// Start begins a step; call the returned func with the step's error when it ends.
func (tl *Timeline) Start(name string) func(err error) {
	start := time.Now()
	return func(err error) { tl.Add(name, start, time.Since(start), err) }
}

// Add records a step that was timed elsewhere.
func (tl *Timeline) Add(name string, started time.Time, d time.Duration, err error) {
	s := Step{Name: name, Started: started, Duration: d, Seconds: d.Seconds(), OK: err == nil}
	if reason, skip := check.IsSkip(err); skip {
		s.OK, s.Skipped, s.Error = true, true, reason
	} else if err != nil {
		s.Error = err.Error()
	}
	tl.mu.Lock()
	tl.steps = append(tl.steps, s)
	tl.mu.Unlock()
}

// Steps returns a copy of the steps.
func (tl *Timeline) Steps() []Step {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]Step(nil), tl.steps...)
}

// Table renders the steps as an aligned text table with a total line.
func (tl *Timeline) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STEP\tRESULT\tSECONDS\tERROR")
	var total time.Duration
	var first, last time.Time
	for _, s := range tl.Steps() {
		res := "ok"
		switch {
		case s.Skipped:
			res = "skip"
		case !s.OK:
			res = "FAIL"
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f\t%s\n", s.Name, res, s.Seconds, firstLine(s.Error))
		total += s.Duration
		if first.IsZero() || s.Started.Before(first) {
			first = s.Started
		}
		if end := s.Started.Add(s.Duration); end.After(last) {
			last = end
		}
	}
	if !first.IsZero() {
		fmt.Fprintf(w, "wall\t\t%.2f\t\n", last.Sub(first).Seconds())
	}
	w.Flush()
	return b.String()
}

// Summary is the JSON document written for a run.
type Summary struct {
	Name     string    `json:"name"`
	RunID    string    `json:"run_id,omitempty"`
	Cloud    string    `json:"cloud,omitempty"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	OK       bool      `json:"ok"`
	Steps    []Step    `json:"steps"`
	Overhead *Overhead `json:"overhead,omitempty"`
	// Checks are the scenario's verdicts, one per check (stable names).
	Checks []check.Result `json:"checks,omitempty"`
	// Hosts groups the checks by VM/host when the scenario does (comprehensive).
	Hosts any `json:"hosts,omitempty"`
}

// Overhead splits a run's wall time into the time spent waiting on the cloud
// and the time the harness itself spent (OpenTofu start-up, planning, Go).
type Overhead struct {
	WallSeconds    float64 `json:"wall_seconds"`
	CloudSeconds   float64 `json:"cloud_seconds"`
	HarnessSeconds float64 `json:"harness_seconds"`
	Percent        float64 `json:"percent"`
}

// WriteJSON writes the summary to path (creating or replacing it).
func (s Summary) WriteJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
