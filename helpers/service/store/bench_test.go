package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seedBulk stores n realistic runs in one transaction: the five families in
// turn on two clouds, one in ten failed, eight checks and (scenarios) five
// steps each, one per minute back from t0. It returns their handles.
func seedBulk(tb testing.TB, s *SQLite, n int) []string {
	tb.Helper()
	types := []string{"operator", "endpoint", "functional", "comprehensive", "upgrade"}
	tx, err := s.db.Begin()
	require.NoError(tb, err)
	stmt, err := tx.Prepare(s.q(`INSERT INTO runs (` + columns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	require.NoError(tb, err)
	handles := make([]string, n)
	for i := 0; i < n; i++ {
		q := t0.Add(-time.Duration(i) * time.Minute)
		r := &Run{Handle: NewHandle(), Cloud: []string{"lab-member", "lab-admin"}[i%2], Type: types[i%5],
			State: StatePassed, Trigger: "schedule", Queued: q, Started: q.Add(time.Second),
			Finished: q.Add(40 * time.Second), Owner: "host-1/1"}
		for c := 0; c < 8; c++ {
			name := fmt.Sprintf("%s check %d", r.Type, c)
			r.Checks = append(r.Checks, Check{Name: name, Status: "ok", Seconds: 0.1 * float64(c)})
			r.Passed = append(r.Passed, name)
		}
		if i%10 == 3 {
			r.State = StateFailed
			r.Failed = []Failure{{Name: r.Checks[7].Name, Details: "connection refused"}}
			r.Checks[7].Status, r.Checks[7].Error = "FAIL", "connection refused"
			r.Passed = r.Passed[:7]
		}
		if i%5 >= 2 {
			r.RunIDs = []string{"cp-" + r.Handle[:6]}
			for _, st := range []string{"init", "apply", "validate", "destroy", "cleanup"} {
				r.Steps = append(r.Steps, Step{Name: st, Seconds: 12.5})
			}
		}
		a, err := args(r)
		require.NoError(tb, err)
		_, err = stmt.Exec(a...)
		require.NoError(tb, err)
		handles[i] = r.Handle
	}
	require.NoError(tb, stmt.Close())
	require.NoError(tb, tx.Commit())
	return handles
}

// The benchmarks share one seeded database of 10 000 runs per process.
var (
	big struct {
		s       *SQLite
		handles []string
		dir     string
	}
	bigOnce sync.Once
)

const bigRuns = 10000

func bigStore(tb testing.TB) (*SQLite, []string) {
	tb.Helper()
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cpulse-store-bench")
		require.NoError(tb, err)
		s, err := Open(context.Background(), filepath.Join(dir, "history.db"))
		require.NoError(tb, err)
		big.s, big.dir, big.handles = s, dir, seedBulk(tb, s, bigRuns)
	})
	require.NotNil(tb, big.s)
	return big.s, big.handles
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.s != nil {
		big.s.Close()
		os.RemoveAll(big.dir)
	}
	if pgBig.s != nil {
		pgBig.s.Close()
	}
	if pgSrv != nil {
		pgSrv.Stop()
	}
	os.Exit(code)
}

// latencies are the read paths the API serves, on the 10 000-run store.
func latencies(s *SQLite, handles []string) []struct {
	name string
	call func(ctx context.Context, i int) error
} {
	return []struct {
		name string
		call func(ctx context.Context, i int) error
	}{
		{"Get", func(ctx context.Context, i int) error {
			_, err := s.Get(ctx, handles[(i*7919)%len(handles)])
			return err
		}},
		{"List50", func(ctx context.Context, i int) error {
			_, _, err := s.List(ctx, Filter{Limit: 50})
			return err
		}},
		{"List50Failed", func(ctx context.Context, i int) error {
			_, _, err := s.List(ctx, Filter{Limit: 50, Failed: true})
			return err
		}},
		{"List50TypeSince", func(ctx context.Context, i int) error {
			_, _, err := s.List(ctx, Filter{Limit: 50, Type: "functional", Since: t0.Add(-24 * time.Hour)})
			return err
		}},
	}
}

func BenchmarkRead10k(b *testing.B) {
	s, handles := bigStore(b)
	ctx := context.Background()
	for _, l := range latencies(s, handles) {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := l.call(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// P99 calls fn n times and returns the 50th and 99th percentile latency.
func P99(ctx context.Context, n int, fn func(ctx context.Context, i int) error) (p50, p99 time.Duration, err error) {
	d := make([]time.Duration, n)
	for i := range d {
		start := time.Now()
		if err := fn(ctx, i); err != nil {
			return 0, 0, err
		}
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return d[n/2], d[n*99/100], nil
}

// TestReadLatency10k logs the p50/p99 of 1000 calls of each read path on
// 10 000 stored runs (the budget is 10 ms p99 for the HTTP call; no
// assertion here: a shared CI machine's timing is not a test result).
func TestReadLatency10k(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10 000 runs")
	}
	s, handles := bigStore(t)
	logReadLatency(t, "sqlite", s, handles)
}

// logReadLatency logs the p50/p99 of 1000 calls of each read path of s.
func logReadLatency(t *testing.T, db string, s *DB, handles []string) {
	t.Helper()
	for _, l := range latencies(s, handles) {
		p50, p99, err := P99(context.Background(), 1000, l.call)
		require.NoError(t, err)
		t.Logf("%-16s %s, 10k runs, 1000 calls: p50 %v p99 %v", l.name, db, p50, p99)
	}
}
