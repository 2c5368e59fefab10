package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunOnePass(t *testing.T) {
	res := Runner{}.RunOne(context.Background(), Check{Name: "ok", Run: func(ctx context.Context) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	}})
	assert.True(t, res.OK)
	assert.Equal(t, Passed, res.Status())
	assert.Equal(t, "ok", res.Name)
	assert.GreaterOrEqual(t, res.Duration, 20*time.Millisecond)
	assert.False(t, res.StartedAt.IsZero())
	assert.Empty(t, res.Error)
}

func TestRunOneFailKeepsError(t *testing.T) {
	sentinel := errors.New("boom")
	res := Runner{}.RunOne(context.Background(), Check{Name: "f", Run: func(ctx context.Context) error {
		return fmt.Errorf("list servers: %w", sentinel)
	}})
	assert.False(t, res.OK)
	assert.Equal(t, Failed, res.Status())
	assert.ErrorIs(t, res.Err, sentinel)
	assert.Equal(t, "list servers: boom", res.Error)
}

func TestRunOneTimeoutCheckHonoursContext(t *testing.T) {
	res := Runner{Timeout: 50 * time.Millisecond}.RunOne(context.Background(), Check{Name: "slow", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("get /servers: %w", ctx.Err())
	}})
	assert.Equal(t, Failed, res.Status())
	assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
	// how long after 50ms the check returns depends on the machine's load: the message names the measured time
	assert.Regexp(t, `^timed out after \d+ms: get /servers: context deadline exceeded$`, res.Error)
	assert.Contains(t, res.Error, fmt.Sprintf("timed out after %s:", res.Duration.Round(time.Millisecond)))
	assert.GreaterOrEqual(t, res.Duration, 50*time.Millisecond)
	assert.Less(t, res.Duration, time.Second)
}

func TestRunOneTimeoutCheckIgnoresContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	res := Runner{Timeout: 50 * time.Millisecond}.RunOne(context.Background(), Check{Name: "stuck", Run: func(ctx context.Context) error {
		<-release // ignores ctx on purpose
		return nil
	}})
	elapsed := time.Since(start)
	assert.Equal(t, Failed, res.Status())
	assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
	assert.Contains(t, res.Error, "the check did not return")
	assert.Less(t, elapsed, 50*time.Millisecond+grace+2*time.Second, "the runner must not wait for a stuck check")
	assert.GreaterOrEqual(t, elapsed, 50*time.Millisecond+grace, "the runner gives a stuck check its grace")
}

func TestRunOneParentDeadlineWins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	res := Runner{Timeout: time.Hour}.RunOne(ctx, Check{Name: "slow", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	assert.Equal(t, Failed, res.Status())
	assert.Less(t, res.Duration, time.Second)
}

func TestRunOnePanicBecomesFailure(t *testing.T) {
	res := Runner{}.RunOne(context.Background(), Check{Name: "p", Run: func(ctx context.Context) error {
		var m map[string]int
		m["x"] = 1 // nil map write
		return nil
	}})
	assert.Equal(t, Failed, res.Status())
	assert.Equal(t, "panic: assignment to entry in nil map", res.Error)
	var pe *PanicError
	require.ErrorAs(t, res.Err, &pe)
	assert.Contains(t, string(pe.Stack), "runner_test.go")
}

func TestRunOneSkip(t *testing.T) {
	res := Runner{}.RunOne(context.Background(), Check{Name: "s", Run: func(ctx context.Context) error {
		return fmt.Errorf("placement: %w", Skipf("needs admin (got HTTP %d)", 403))
	}})
	assert.Equal(t, Skipped, res.Status())
	assert.True(t, res.Skipped)
	assert.False(t, res.OK)
	assert.Equal(t, "needs admin (got HTTP 403)", res.Reason)
	assert.NoError(t, res.Err)
	assert.Empty(t, res.Error)
	assert.Equal(t, "needs admin (got HTTP 403)", res.Detail())
}

func TestRunOneNilRun(t *testing.T) {
	res := Runner{}.RunOne(context.Background(), Check{Name: "empty"})
	assert.Equal(t, `check "empty" has no Run function`, res.Error)
}

func TestRunKeepsInputOrder(t *testing.T) {
	var checks []Check
	for i := range 20 {
		checks = append(checks, Check{Name: fmt.Sprint("c", i), Run: func(ctx context.Context) error {
			time.Sleep(time.Duration(20-i) * time.Millisecond) // later checks finish first
			if i%3 == 0 {
				return fmt.Errorf("fail %d", i)
			}
			return nil
		}})
	}
	results := Runner{Concurrency: 8}.Run(context.Background(), checks...)
	require.Len(t, results, 20)
	for i, r := range results {
		assert.Equal(t, fmt.Sprint("c", i), r.Name)
		assert.Equal(t, i%3 != 0, r.OK, r.Name)
	}
}

func TestRunRespectsConcurrencyBound(t *testing.T) {
	for _, bound := range []int{1, 3, 0} {
		t.Run(fmt.Sprint("bound=", bound), func(t *testing.T) {
			want := int32(bound)
			if bound == 0 {
				want = DefaultConcurrency
			}
			var running, peak atomic.Int32
			var checks []Check
			for i := range 12 {
				checks = append(checks, Check{Name: fmt.Sprint(i), Run: func(ctx context.Context) error {
					n := running.Add(1)
					defer running.Add(-1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					// Stay until the bound was reached once (not a fixed sleep, which a busy machine
					// can outlast before the next check starts); a runner that starts more goes above it.
					for wait := time.Now(); peak.Load() < want && time.Since(wait) < 5*time.Second; {
						time.Sleep(time.Millisecond)
					}
					time.Sleep(5 * time.Millisecond)
					return nil
				}})
			}
			Runner{Concurrency: bound}.Run(context.Background(), checks...)
			assert.Equal(t, want, peak.Load(), "peak concurrency")
		})
	}
}

func TestRunCancelledParentMarksUnstartedChecks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	checks := []Check{
		{Name: "first", Run: func(ctx context.Context) error {
			ran.Add(1)
			cancel()
			return nil
		}},
		{Name: "second", Run: func(ctx context.Context) error { ran.Add(1); return nil }},
	}
	results := Runner{Concurrency: 1}.Run(ctx, checks...)
	assert.Equal(t, int32(1), ran.Load())
	assert.True(t, results[0].OK)
	assert.Equal(t, "not started: context canceled", results[1].Error)
}

func TestRunOnResultSeesEveryResult(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]Status{}
	r := Runner{OnResult: func(res Result) {
		mu.Lock()
		defer mu.Unlock()
		seen[res.Name] = res.Status()
	}}
	r.Run(context.Background(),
		Check{Name: "a", Run: func(context.Context) error { return nil }},
		Check{Name: "b", Run: func(context.Context) error { return Skip("no") }},
		Check{Name: "c", Run: func(context.Context) error { return errors.New("x") }},
	)
	assert.Equal(t, map[string]Status{"a": Passed, "b": Skipped, "c": Failed}, seen)
}

func TestSummarizeAndFailures(t *testing.T) {
	rs := []Result{{Name: "a", OK: true}, {Name: "b", Error: "x"}, {Name: "c", Skipped: true}, {Name: "d", Error: "y"}}
	assert.Equal(t, Summary{Passed: 1, Failed: 2, Skipped: 1}, Summarize(rs))
	assert.False(t, Summarize(rs).OK())
	assert.True(t, Summarize(rs[2:3]).OK())
	var names []string
	for _, f := range Failures(rs) {
		names = append(names, f.Name)
	}
	assert.Equal(t, "b,d", strings.Join(names, ","))
}
