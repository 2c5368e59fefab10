package check

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults used when a Runner field is zero.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultConcurrency = 4
)

// grace is how long the Runner waits, after a check's deadline, for the check
// to return its own (usually more precise) error before it reports a timeout
// itself and moves on.
const grace = 250 * time.Millisecond

// Runner runs checks. It owns each check's deadline, timing, panic recovery
// and result; checks only say what they found. The zero Runner is ready to
// use with DefaultTimeout and DefaultConcurrency.
type Runner struct {
	// Timeout bounds each check. A deadline already on the parent context
	// still applies when it is earlier. Zero means DefaultTimeout.
	Timeout time.Duration
	// Concurrency is how many checks run at once. Zero means
	// DefaultConcurrency; 1 runs them one after another.
	Concurrency int
	// OnResult, when set, is called with each result as soon as its check
	// ends (from the goroutine that ran it; it must be safe for concurrent
	// use). Useful for logging and metrics while a long set still runs.
	OnResult func(Result)
}

// PanicError is the error of a check that panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Run runs all checks, at most Concurrency at a time, and returns their
// results in the order of checks. If ctx ends before a check could start, that
// check fails with ctx's error without running.
func (r Runner) Run(ctx context.Context, checks ...Check) []Result {
	results := make([]Result, len(checks))
	n := r.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, c := range checks {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			res := notStarted(c, ctx.Err())
			res.Details = c.Details
			results[i] = r.finish(res)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			results[i] = r.RunOne(ctx, c)
		}()
	}
	wg.Wait()
	return results
}

// RunOne runs one check under the Runner's timeout and returns its result.
func (r Runner) RunOne(ctx context.Context, c Check) Result {
	ctx, det := withDetails(ctx, c.Details)
	res := r.run(ctx, c)
	res.Details = det.snapshot()
	return r.finish(res)
}

// run runs c and returns its result with Err set, verdict not yet filled in.
func (r Runner) run(ctx context.Context, c Check) Result {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	res := Result{Name: c.Name, StartedAt: time.Now()}
	if c.Run == nil {
		res.Err = fmt.Errorf("check %q has no Run function", c.Name)
		res.Duration = time.Since(res.StartedAt)
		return res
	}
	if err := ctx.Err(); err != nil {
		return notStarted(c, err)
	}

	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: a late check must not block forever
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- &PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		done <- c.Run(cctx)
	}()

	var err error
	select {
	case err = <-done:
	case <-cctx.Done():
		select {
		case err = <-done:
		case <-time.After(grace):
			err = fmt.Errorf("%w (the check did not return)", cctx.Err())
		}
	}
	res.Duration = time.Since(res.StartedAt)
	if errors.Is(cctx.Err(), context.DeadlineExceeded) && err != nil {
		if _, skip := IsSkip(err); !skip {
			err = fmt.Errorf("timed out after %s: %w", res.Duration.Round(time.Millisecond), err)
		}
	}
	res.Err = err
	return res
}

// finish fills the verdict fields from Err and calls OnResult.
func (r Runner) finish(res Result) Result {
	switch reason, skip := IsSkip(res.Err); {
	case res.Err == nil:
		res.OK = true
	case skip:
		res.Skipped, res.Reason, res.Err = true, reason, nil
	default:
		res.Error = res.Err.Error()
	}
	if r.OnResult != nil {
		r.OnResult(res)
	}
	return res
}

func notStarted(c Check, err error) Result {
	return Result{Name: c.Name, StartedAt: time.Now(), Err: fmt.Errorf("not started: %w", err)}
}
