package check

import (
	"context"
	"errors"
	"fmt"
)

// Check is one named health check. Run returns nil when the check passes, an
// error saying what was being done when it fails, or an error made by Skip when
// the check cannot say anything here (for example an admin-only check run with
// member credentials). Run must honour ctx: the Runner cancels it at the
// check's deadline.
type Check struct {
	// Name is stable across runs ("ping/compute-1"), so that history and
	// metrics can follow one check over time: addresses and run ids go in
	// Details, not in the name.
	Name string
	Run  func(ctx context.Context) error
	// Details are copied into the Result (with what the check adds by
	// SetDetail while it runs).
	Details map[string]string
}

// SkipError reports that a check did not run to a verdict. A Runner turns it
// into a Result with Skipped set and Reason filled.
type SkipError struct {
	Reason string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns the error a check returns to report "skipped" with reason
// instead of passed or failed.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// Skipf is Skip with a format string.
func Skipf(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// IsSkip reports whether err is, or wraps, a SkipError, and returns its reason.
func IsSkip(err error) (reason string, ok bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}
