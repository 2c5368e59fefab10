package service_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/service"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// memStore is the store contract in memory.
type memStore struct {
	mu   sync.Mutex
	runs []store.Run // in creation order
}

func (m *memStore) Create(_ context.Context, r *store.Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs = append(m.runs, *r)
	return nil
}

func (m *memStore) Update(_ context.Context, r *store.Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.runs {
		if m.runs[i].Handle == r.Handle {
			m.runs[i] = *r
			return nil
		}
	}
	return store.ErrNotFound
}

func (m *memStore) Get(_ context.Context, h string) (*store.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.runs {
		if r.Handle == h {
			return &r, nil
		}
	}
	return nil, store.ErrNotFound
}

func (m *memStore) List(_ context.Context, f store.Filter) ([]store.Run, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Run
	for i := len(m.runs) - 1; i >= 0; i-- {
		r := m.runs[i]
		if (f.Type != "" && r.Type != f.Type) || (f.Cloud != "" && r.Cloud != f.Cloud) ||
			(f.Failed && r.State != service.Failed) || r.Queued.Before(f.Since) {
			continue
		}
		out = append(out, r)
	}
	off, _ := strconv.Atoi(f.Cursor)
	out = out[min(off, len(out)):]
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out, next = out[:f.Limit], strconv.Itoa(off+f.Limit)
	}
	return out, next, nil
}

func (m *memStore) Interrupt(context.Context) ([]store.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Run
	for i, r := range m.runs {
		if r.State == service.Queued || r.State == service.Running {
			m.runs[i].State = service.Interrupted
			out = append(out, m.runs[i])
		}
	}
	return out, nil
}

func (m *memStore) Prune(_ context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.runs)
	m.runs = slices.DeleteFunc(m.runs, func(r store.Run) bool { return !r.Finished.IsZero() && r.Finished.Before(before) })
	return n - len(m.runs), nil
}

func (m *memStore) Close() error { return nil }

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.runs)
}

// fakeRunner runs nothing: each run waits until released (or cancelled, then
// "destroys"), and it counts what it ran and how many ran at once per cloud.
type fakeRunner struct {
	mu        sync.Mutex
	release   map[string]chan struct{} // per type; closed: runs of the type end
	started   []string                 // "type/cloud" in start order
	destroyed []string                 // scenarios cancelled, which destroyed
	running   map[string]int           // scenario runs per cloud now
	maxRun    atomic.Int32             // the most scenario runs on one cloud at once
	fail      map[string]bool          // types whose check fails
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{release: map[string]chan struct{}{}, running: map[string]int{}, fail: map[string]bool{}}
}

func (f *fakeRunner) gate(typ string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.release[typ]
	if !ok {
		c = make(chan struct{})
		f.release[typ] = c
	}
	return c
}

// open lets runs of typ end (now and from now on).
func (f *fakeRunner) open(typ string) { close(f.gate(typ)) }

func (f *fakeRunner) startedList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.started)
}

func (f *fakeRunner) destroyedList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.destroyed)
}

func (f *fakeRunner) Run(ctx context.Context, cloud, family string, p service.Progress) (families.Outcome, error) {
	scen := families.IsScenario(family)
	gate := f.gate(family)
	f.mu.Lock()
	f.started = append(f.started, family+"/"+cloud)
	if scen {
		f.running[cloud]++
		if n := int32(f.running[cloud]); n > f.maxRun.Load() {
			f.maxRun.Store(n)
		}
	}
	f.mu.Unlock()
	defer func() {
		if scen {
			f.mu.Lock()
			f.running[cloud]--
			f.mu.Unlock()
		}
	}()
	runID := ""
	if scen {
		runID = "cp12021200-0000abcd"
		p.OnRunID(runID)
	}
	first := check.Result{Name: family + "-first", OK: true, Duration: 1500 * time.Millisecond}
	p.OnResult(first)
	out := families.Outcome{Results: []check.Result{first}}
	if scen {
		out.RunIDs = []string{runID}
		out.Steps = []report.Step{{Name: "apply", Seconds: 12.5}}
	}
	select {
	case <-gate:
	case <-ctx.Done():
		if scen {
			f.mu.Lock()
			f.destroyed = append(f.destroyed, family+"/"+cloud)
			f.mu.Unlock()
		}
		out.Results = append(out.Results, check.Result{Name: family, Err: ctx.Err(), Error: ctx.Err().Error()})
		return out, nil
	}
	second := check.Result{Name: family + "-second", OK: !f.fail[family], Duration: time.Second}
	if f.fail[family] {
		second.Error = "router: HTTP 503\nmore"
	}
	out.Results = append(out.Results, second, check.Result{Name: family + "-skipped", Skipped: true, Reason: "not here"})
	return out, nil
}
