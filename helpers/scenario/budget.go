package scenario

import (
	"context"
	"fmt"
	"time"
)

// Budget shares a run's time between its phases. Destroy, the grace of an
// interrupted apply and the leftover check run after the run's context ends,
// so a run that must end by a deadline keeps them out of it.
type Budget struct {
	Run       time.Duration // init, apply, outputs and every validation
	Grace     time.Duration // an interrupted apply goes on this long to record what it made
	Destroy   time.Duration // destroy, retries included
	Leftovers time.Duration // the look for anything tagged left (and its deletion)
}

// Total is the longest the run can take.
func (b Budget) Total() time.Duration { return b.Run + b.Grace + b.Destroy + b.Leftovers }

// Floors of a fitted budget: below them a run on a healthy cloud cannot finish
// (the lab's Functional run: apply ≈ 1 min, validations ≈ 30 s, destroy ≈ 30 s).
const (
	minRun       = 2 * time.Minute
	minDestroy   = 2 * time.Minute
	minGrace     = 30 * time.Second
	minLeftovers = 30 * time.Second
	maxGrace     = 2 * time.Minute
	maxLeftovers = 2 * time.Minute
)

// FitBudget shares the time until deadline (zero: none) between the phases.
// Without a deadline each phase gets its option (ApplyTimeout + 6 ×
// ValidateTimeout to run, DestroyTimeout to destroy). With one, the options
// are upper bounds: destroy gets a quarter of the time left (at least 2
// minutes), the grace and the leftover check a twelfth each (30 s to 2 min),
// and the run the rest. When the rest is under 2 minutes the error says so in
// one line that names go test's -timeout.
func FitBudget(name string, t Timeouts, deadline, now time.Time) (Budget, error) {
	t = t.withDefaults()
	b := Budget{Run: t.Apply + 6*t.Validate, Grace: maxGrace, Destroy: t.Destroy, Leftovers: maxLeftovers}
	if deadline.IsZero() {
		return b, nil
	}
	left := deadline.Sub(now)
	b.Destroy = min(t.Destroy, max(minDestroy, left/4))
	b.Grace = min(maxGrace, max(minGrace, left/12))
	b.Leftovers = min(maxLeftovers, max(minLeftovers, left/12))
	b.Run = min(b.Run, left-b.Destroy-b.Grace-b.Leftovers)
	if b.Run < minRun {
		need := minRun + b.Destroy + b.Grace + b.Leftovers
		return Budget{}, fmt.Errorf("%s: %s left before the deadline, a run needs at least %s (%s to build and validate, %s to destroy, %s of apply grace and %s to look for leftovers): give it more time, e.g. go test -timeout 30m",
			name, left.Round(time.Second), need.Round(time.Second), minRun, b.Destroy.Round(time.Second), b.Grace.Round(time.Second), b.Leftovers.Round(time.Second))
	}
	return b, nil
}

// BudgetFor is FitBudget for ctx's deadline.
func BudgetFor(ctx context.Context, name string, t Timeouts) (Budget, error) {
	dl, _ := ctx.Deadline()
	return FitBudget(name, t, dl, time.Now())
}

// withDefaults fills the zero timeouts: apply 20m, each validation 5m, destroy 15m.
func (t Timeouts) withDefaults() Timeouts {
	if t.Apply == 0 {
		t.Apply = 20 * time.Minute
	}
	if t.Validate == 0 {
		t.Validate = 5 * time.Minute
	}
	if t.Destroy == 0 {
		t.Destroy = 15 * time.Minute
	}
	return t
}
