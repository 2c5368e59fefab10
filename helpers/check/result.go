package check

import (
	"encoding/json"
	"time"
)

// Status is the verdict of one check.
type Status string

// The three verdicts a Result can carry.
const (
	Passed  Status = "pass"
	Failed  Status = "fail"
	Skipped Status = "skip"
)

// Result is what a Runner returns for one Check.
type Result struct {
	Name      string
	OK        bool              // true only when the check passed
	Skipped   bool              // the check returned a Skip error
	Reason    string            // why it was skipped
	Err       error             // the check's error (nil when passed or skipped)
	Error     string            // Err's message, kept for JSON round trips
	StartedAt time.Time         // when the Runner started the check
	Duration  time.Duration     // how long the check ran (up to its deadline)
	Details   map[string]string // what the check was about and found: addresses, run id, sizes
}

// Status returns Passed, Failed or Skipped.
func (r Result) Status() Status {
	switch {
	case r.Skipped:
		return Skipped
	case r.OK:
		return Passed
	default:
		return Failed
	}
}

// Detail is the one line that explains the result: the error when failed, the
// reason when skipped, empty when passed.
func (r Result) Detail() string {
	switch r.Status() {
	case Skipped:
		return r.Reason
	case Failed:
		return r.Error
	}
	return ""
}

type resultJSON struct {
	Name            string            `json:"name"`
	Status          Status            `json:"status"`
	OK              bool              `json:"ok"`
	Skipped         bool              `json:"skipped,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	Error           string            `json:"error,omitempty"`
	StartedAt       time.Time         `json:"started_at"`
	DurationSeconds float64           `json:"duration_seconds"`
	Details         map[string]string `json:"details,omitempty"`
}

// MarshalJSON writes the result with its status and its duration in seconds.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{
		Name:            r.Name,
		Status:          r.Status(),
		OK:              r.OK,
		Skipped:         r.Skipped,
		Reason:          r.Reason,
		Error:           r.Error,
		StartedAt:       r.StartedAt,
		DurationSeconds: r.Duration.Seconds(),
		Details:         r.Details,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote. Err stays nil: only the message
// survives a round trip.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Result{
		Name:      j.Name,
		OK:        j.OK,
		Skipped:   j.Skipped,
		Reason:    j.Reason,
		Error:     j.Error,
		StartedAt: j.StartedAt,
		Duration:  time.Duration(j.DurationSeconds * float64(time.Second)),
		Details:   j.Details,
	}
	return nil
}

// Summary counts results by verdict.
type Summary struct {
	Passed, Failed, Skipped int
}

// Summarize counts results by verdict.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status() {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
		case Skipped:
			s.Skipped++
		}
	}
	return s
}

// OK reports whether no result failed (skipped results do not fail a run).
func (s Summary) OK() bool { return s.Failed == 0 }

// Failures returns the failed results, in order.
func Failures(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Status() == Failed {
			out = append(out, r)
		}
	}
	return out
}
