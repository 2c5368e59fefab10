package status

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"seconds": formatSeconds,
	"anyGaps": func(ps []pathView) bool {
		for _, p := range ps {
			if len(p.Gaps) > 0 || p.MoreGaps > 0 {
				return true
			}
		}
		return false
	},
}

// stateSymbols are the strip cells' text: the state is never colour alone.
var stateSymbols = map[string]string{
	store.StatePassed:      "✓",
	store.StateFailed:      "✗",
	store.StateRunning:     "▶",
	store.StateQueued:      "…",
	store.StateCancelled:   "−",
	store.StateInterrupted: "!",
}

// When is a moment shown both ways.
type When struct {
	Zero     bool
	ISO      string // RFC 3339 UTC, for <time datetime>
	Absolute string // 2006-01-02 15:04:05 UTC
	Relative string // 3m ago
}

func when(t, now time.Time) When {
	if t.IsZero() {
		return When{Zero: true}
	}
	return When{
		ISO:      t.UTC().Format(time.RFC3339),
		Absolute: t.UTC().Format("2006-01-02 15:04:05 UTC"),
		Relative: relative(now.Sub(t)),
	}
}

// relative is an age in its largest unit: "just now", "42s ago", "5m ago", "3h ago", "2d ago".
func relative(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// formatDuration is a run's length: "850ms", "12.3s", "4m05s", "1h02m".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

func formatSeconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		return "—"
	}
	return formatDuration(time.Duration(s * float64(time.Second)))
}

// RunView is one run as the templates show it.
type RunView struct {
	Handle, Cloud, Type, State, Trigger string
	Symbol                              string
	Queued, Started, Finished           When
	Took                                string // how long it ran (so far, when running); "" when it has not started
	Done                                bool   // in a final state
	Error                               string
	Summary                             string // "12 passed, 1 failed, 2 skipped"
	Href                                string // relative to the page root
}

func runView(r *store.Run, now time.Time) RunView {
	v := RunView{Handle: r.Handle, Cloud: r.Cloud, Type: r.Type, State: r.State, Trigger: r.Trigger,
		Symbol: stateSymbols[r.State], Queued: when(r.Queued, now), Started: when(r.Started, now),
		Finished: when(r.Finished, now), Done: final(r.State), Error: r.Error, Href: "runs/" + r.Handle}
	if v.Symbol == "" {
		v.Symbol = "?"
	}
	switch {
	case !r.Started.IsZero() && !r.Finished.IsZero():
		v.Took = formatDuration(r.Finished.Sub(r.Started))
	case !r.Started.IsZero() && !v.Done:
		v.Took = formatDuration(now.Sub(r.Started)) + " so far"
	}
	v.Summary = summary(r)
	return v
}

func final(state string) bool {
	switch state {
	case store.StatePassed, store.StateFailed, store.StateCancelled, store.StateInterrupted:
		return true
	}
	return false
}

func summary(r *store.Run) string {
	var passed, failed, skipped int
	for _, c := range r.Checks {
		switch c.Status {
		case "ok":
			passed++
		case "FAIL":
			failed++
		case "skip":
			skipped++
		}
	}
	if len(r.Checks) == 0 {
		passed, failed = len(r.Passed), len(r.Failed)
	}
	if passed+failed+skipped == 0 {
		return ""
	}
	parts := []string{fmt.Sprintf("%d passed", passed), fmt.Sprintf("%d failed", failed)}
	if skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", skipped))
	}
	return strings.Join(parts, ", ")
}

// Failing is one failed check and its message.
type Failing struct {
	Name, Message string
}

// failing lists a run's failed checks, then its failed tests that no check names.
func failing(r *store.Run) []Failing {
	var out []Failing
	seen := map[string]bool{}
	for _, c := range r.Checks {
		if c.Status == "FAIL" {
			out = append(out, Failing{Name: c.Name, Message: checkView(c).Error})
			seen[c.Name] = true
		}
	}
	for _, f := range r.Failed {
		if !seen[f.Name] {
			out = append(out, Failing{Name: f.Name, Message: f.Details})
		}
	}
	return out
}

// CheckView is one check on the detail page.
type CheckView struct {
	Name, Status, Class, Seconds, Error string
}

// statusWords are the check statuses in words.
var statusWords = map[string]string{"ok": "passed", "FAIL": "failed", "skip": "skipped"}

func checkView(c store.Check) CheckView {
	word := statusWords[c.Status]
	if word == "" {
		word = c.Status
	}
	class := map[string]string{"ok": "passed", "FAIL": "failed", "skip": "skipped"}[c.Status]
	msg := c.Error
	if strings.HasPrefix(c.Name, DowntimePrefix) { // its window and gaps are the timeline's
		msg = DowntimeSummary(msg)
	}
	return CheckView{Name: c.Name, Status: word, Class: class, Seconds: formatSeconds(c.Seconds), Error: msg}
}
