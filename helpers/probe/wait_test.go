package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitForSucceedsAfterRetries(t *testing.T) {
	calls := 0
	err := WaitFor(t.Context(), 10*time.Millisecond, func(context.Context) (bool, error) {
		calls++
		if calls < 3 {
			return false, errors.New("not yet")
		}
		return true, nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestWaitForStopsOnPermanentError(t *testing.T) {
	fatal := errors.New("image is gone")
	calls := 0
	err := WaitFor(t.Context(), 10*time.Millisecond, func(context.Context) (bool, error) {
		calls++
		return false, Permanent(fatal)
	})
	if !errors.Is(err, fatal) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want the permanent error after 1", err, calls)
	}
}

func TestWaitForDeadlineReportsLastError(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 250*time.Millisecond)
	defer cancel()
	err := WaitFor(ctx, 100*time.Millisecond, func(context.Context) (bool, error) {
		return false, errors.New("server is BUILD")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	for _, want := range []string{"gave up after ", " attempts in ", "last error: server is BUILD"} { // how many fit depends on the machine's load
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestWaitForRejectsBadInterval(t *testing.T) {
	err := WaitFor(t.Context(), 0, func(context.Context) (bool, error) { return true, nil })
	if err == nil || !strings.Contains(err.Error(), "interval must be positive") {
		t.Fatalf("err = %v", err)
	}
}

func TestPermanentOfNilIsNil(t *testing.T) {
	if Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
}

// An attempt cut short by the end of ctx (a dial that times out with it) does
// not hide why the earlier attempts failed.
func TestWaitForKeepsTheErrorOfAnAttemptThatRanToItsEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	err := WaitFor(ctx, 10*time.Millisecond, func(ctx context.Context) (bool, error) {
		calls++
		if calls == 1 {
			return false, errors.New("ssh: unable to authenticate")
		}
		<-ctx.Done() // this attempt runs into the deadline
		return false, errors.New("dial tcp 127.0.0.1:22: i/o timeout")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "last error: ssh: unable to authenticate") {
		t.Errorf("error %q does not keep the first attempt's error", err)
	}
}
