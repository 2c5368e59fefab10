package probe

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Condition is polled by WaitFor. It returns true when the wait is over. An error means "not yet" and is
// remembered for the final message, unless it is wrapped with Permanent, which ends the wait at once.
type Condition func(ctx context.Context) (bool, error)

// WaitFor calls cond at once and then every interval until it returns true, returns a permanent error, or ctx
// ends. When ctx ends first the error wraps ctx.Err() and the last error cond returned, and counts the attempts.
func WaitFor(ctx context.Context, every time.Duration, cond Condition) error {
	if every <= 0 {
		return fmt.Errorf("wait: interval must be positive, got %s", every)
	}
	start := time.Now()
	var last error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return waitError(err, attempt-1, time.Since(start), last)
		}
		done, err := cond(ctx)
		if done {
			return nil
		}
		if _, ok := errors.AsType[*permanentError](err); ok {
			return err
		}
		// An attempt that the end of ctx cut short says only that: the error of
		// an earlier attempt that ran to its end says why the wait failed.
		if err != nil && (last == nil || ctx.Err() == nil) {
			last = err
		}
		timer := time.NewTimer(every)
		select {
		case <-ctx.Done():
			timer.Stop()
			return waitError(ctx.Err(), attempt, time.Since(start), last)
		case <-timer.C:
		}
	}
}

func waitError(ctxErr error, attempts int, took time.Duration, last error) error {
	took = took.Round(time.Millisecond)
	if last == nil {
		return fmt.Errorf("gave up after %d attempts in %s: %w", attempts, took, ctxErr)
	}
	return fmt.Errorf("gave up after %d attempts in %s: %w; last error: %w", attempts, took, ctxErr, last)
}

// Permanent marks err as final: WaitFor returns it at once instead of trying again.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
