package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// fakeUpgrade is the upgrade gate without a cloud: a snapshot "keeps" its
// directory (its mode in kept) once hold lets it end; verify and finish
// record what they were asked.
type fakeUpgrade struct {
	mu       sync.Mutex
	hold     chan struct{} // nil: snapshots end at once; else when closed (or cancelled)
	fail     bool          // snapshots fail a check and keep nothing
	kept     map[string]bool
	calls    []string // "snapshot <cloud> create=<bool>", "verify <cloud> functional=… destroy=…", "finish <cloud>"
	dirModes []os.FileMode
}

func newFakeUpgrade() *fakeUpgrade { return &fakeUpgrade{kept: map[string]bool{}} }

func (f *fakeUpgrade) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeUpgrade) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeUpgrade) Snapshot(ctx context.Context, cloud string, spec families.SnapshotSpec, dir string, p service.Progress) (families.Outcome, error) {
	f.record(fmt.Sprintf("snapshot %s create=%t", cloud, spec.Create))
	if st, err := os.Stat(filepath.Dir(dir)); err == nil {
		f.mu.Lock()
		f.dirModes = append(f.dirModes, st.Mode().Perm())
		f.mu.Unlock()
	}
	if spec.Create {
		p.OnRunID("cpup12021200-0000abcd")
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return families.Outcome{}, ctx.Err()
		}
	}
	r := check.Result{Name: "existing/vm-1/status", OK: !f.fail, Duration: time.Second}
	if f.fail {
		r.Error = "vm-1 is SHUTOFF"
		return families.Outcome{Results: []check.Result{r}}, nil
	}
	f.mu.Lock()
	f.kept[dir] = spec.Create
	f.mu.Unlock()
	return families.Outcome{Results: []check.Result{r}, Steps: []report.Step{{Name: "tofu init+apply (reads only)", Seconds: 3}}}, nil
}

func (f *fakeUpgrade) Verify(_ context.Context, cloud, dir string, o families.VerifyOptions, p service.Progress) (families.Outcome, error) {
	f.record(fmt.Sprintf("verify %s functional=%t destroy=%t", cloud, o.Functional, o.Destroy))
	if _, err := f.Kept(dir); err != nil {
		return families.Outcome{}, err
	}
	r := check.Result{Name: "existing/vm-1/status", OK: true, Duration: time.Second}
	p.OnResult(r)
	if o.Destroy {
		f.mu.Lock()
		delete(f.kept, dir)
		f.mu.Unlock()
	}
	return families.Outcome{Results: []check.Result{r}}, nil
}

func (f *fakeUpgrade) Finish(_ context.Context, cloud, dir string, _ service.Progress) (families.Outcome, error) {
	f.record("finish " + cloud)
	f.mu.Lock()
	delete(f.kept, dir)
	f.mu.Unlock()
	return families.Outcome{Results: []check.Result{{Name: "finish", OK: true}}}, nil
}

func (f *fakeUpgrade) Kept(dir string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	create, ok := f.kept[dir]
	if !ok {
		return false, errors.New("no snapshot in " + dir)
	}
	return create, nil
}
