package scenario

import (
	"context"
	"fmt"
	"os"
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
func FitBudget(o FunctionalOptions, deadline, now time.Time) (Budget, error) {
	o = withDefaultTimeouts(o)
	b := Budget{Run: o.ApplyTimeout + 6*o.ValidateTimeout, Grace: maxGrace, Destroy: o.DestroyTimeout, Leftovers: maxLeftovers}
	if deadline.IsZero() {
		return b, nil
	}
	left := deadline.Sub(now)
	b.Destroy = min(o.DestroyTimeout, max(minDestroy, left/4))
	b.Grace = min(maxGrace, max(minGrace, left/12))
	b.Leftovers = min(maxLeftovers, max(minLeftovers, left/12))
	b.Run = min(b.Run, left-b.Destroy-b.Grace-b.Leftovers)
	if b.Run < minRun {
		need := minRun + b.Destroy + b.Grace + b.Leftovers
		return Budget{}, fmt.Errorf("functional: %s left before the deadline, a run needs at least %s (%s to build and validate, %s to destroy, %s of apply grace and %s to look for leftovers): give it more time, e.g. go test -timeout 30m",
			left.Round(time.Second), need.Round(time.Second), minRun, b.Destroy.Round(time.Second), b.Grace.Round(time.Second), b.Leftovers.Round(time.Second))
	}
	return b, nil
}

// Budget is FitBudget for the run's options and ctx's deadline.
func (f *Functional) Budget(ctx context.Context) (Budget, error) {
	dl, _ := ctx.Deadline()
	return FitBudget(f.o, dl, time.Now())
}

// withDefaultTimeouts fills the zero timeouts (NewFunctional's defaults).
func withDefaultTimeouts(o FunctionalOptions) FunctionalOptions {
	if o.ApplyTimeout == 0 {
		o.ApplyTimeout = 20 * time.Minute
	}
	if o.ValidateTimeout == 0 {
		o.ValidateTimeout = 5 * time.Minute
	}
	if o.DestroyTimeout == 0 {
		o.DestroyTimeout = 15 * time.Minute
	}
	return o
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
