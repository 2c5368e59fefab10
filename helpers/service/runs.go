package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// Run states.
const (
	Queued      = "queued"
	Running     = "running"
	Passed      = "passed"
	Failed      = "failed"
	Cancelled   = "cancelled"
	Interrupted = "interrupted"
)

// ErrStopping is returned for requests once the service stops.
var ErrStopping = errors.New("the service is stopping")

// Service runs checks on request and on schedule and keeps their history.
type Service struct {
	o     Options
	store store.Store
	run   RunFunc
	log   *slog.Logger

	mu       sync.Mutex
	active   map[jobKey]*job        // queued or running, by type+cloud
	byHandle map[string]*job        // queued or running, by handle
	queues   map[string]*cloudQueue // per cloud: one scenario run at a time, first come first served
	stopping bool
	watches  map[string]*snapWatch     // by snapshot handle: passed snapshots being watched
	stopped  map[string][]check.Result // by snapshot handle: stopped watches' results, for the upgrade run
	wg       sync.WaitGroup            // jobs
	bg       sync.WaitGroup            // scheduler, retention, recovery
	stopBg   context.CancelFunc
	leave    func() // shared history: stop the heartbeat (lease.go); nil otherwise
}

// jobKey is what a request joins: a type on a cloud, and for the upgrade
// gate's runs the snapshot they are about (a new snapshot's own handle: never
// joined).
type jobKey struct{ typ, cloud, target string }

type job struct {
	run      store.Run // guarded by Service.mu
	ctx      context.Context
	cancel   context.CancelCauseFunc
	key      jobKey
	scenario bool          // builds resources: one at a time per cloud
	turn     chan struct{} // scenarios: closed when the cloud's queue gives this job its turn
	// do runs the job; nil: the RunFunc with the run's type.
	do func(ctx context.Context, p Progress) (families.Outcome, error)
}

// spec is a run to submit.
type spec struct {
	typ, cloud, trigger string
	target              string // see jobKey
	handle              string // "": a new one
	scenario            bool
	do                  func(ctx context.Context, p Progress) (families.Outcome, error)
}

// New makes a service; Start begins its background work, Handler serves its API.
func New(o Options, st store.Store, run RunFunc) *Service {
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.WatchMax = cmp.Or(max(o.WatchMax, 0), DefaultWatchMax)
	o.WatchInterval = cmp.Or(max(o.WatchInterval, 0), DefaultWatchInterval)
	o.WatchTimeout = cmp.Or(max(o.WatchTimeout, 0), scenario.WatchProbeTimeout)
	o.WatchUpWait = cmp.Or(max(o.WatchUpWait, 0), DefaultWatchUpWait)
	if o.Metrics != nil { // "no successful run for two intervals" needs the interval
		for _, c := range o.Clouds {
			for f, every := range o.Intervals {
				if every > 0 {
					o.Metrics.SetInterval(c, f, every)
				}
			}
		}
	}
	return &Service{o: o, store: st, run: run, log: o.Logger,
		active: map[jobKey]*job{}, byHandle: map[string]*job{}, queues: map[string]*cloudQueue{},
		watches: map[string]*snapWatch{}, stopped: map[string][]check.Result{}}
}

func newHandle() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Submit queues a run of typ on cloud, or joins the one already queued or
// running for them (joined true, same handle).
func (s *Service) Submit(ctx context.Context, typ, cloud, trigger string) (store.Run, bool, error) {
	return s.submit(ctx, spec{typ: typ, cloud: cloud, trigger: trigger, scenario: families.IsScenario(typ)})
}

// submit queues sp, or joins the run of its key already queued or running.
func (s *Service) submit(ctx context.Context, sp spec) (store.Run, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return store.Run{}, false, ErrStopping
	}
	key := jobKey{sp.typ, sp.cloud, sp.target}
	if j, ok := s.active[key]; ok {
		return cloneRun(j.run), true, nil
	}
	if sp.handle == "" {
		sp.handle = newHandle()
	}
	r := store.Run{Handle: sp.handle, Cloud: sp.cloud, Type: sp.typ, State: Queued, Trigger: sp.trigger,
		Queued: time.Now().UTC(), Owner: s.o.Owner}
	if err := s.store.Create(ctx, &r); err != nil {
		return store.Run{}, false, fmt.Errorf("record the run: %w", err)
	}
	jctx, cancel := context.WithCancelCause(context.Background())
	j := &job{run: r, ctx: jctx, cancel: cancel, key: key, scenario: sp.scenario, do: sp.do}
	s.active[key] = j
	s.byHandle[r.Handle] = j
	if j.scenario {
		s.enqueue(j) // here, under s.mu: the queue's order is the order of submission
	}
	s.wg.Add(1)
	go s.execute(j)
	s.log.Info("run queued", "handle", r.Handle, "type", sp.typ, "cloud", sp.cloud, "trigger", sp.trigger, "target", sp.target)
	return cloneRun(r), false, nil
}

// activeFor is the queued or running job of key, if any.
func (s *Service) activeFor(key jobKey) (store.Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.active[key]; ok {
		return cloneRun(j.run), true
	}
	return store.Run{}, false
}

// errCancelled is the cause of a DELETE.
var errCancelled = errors.New("cancelled by request")

// Cancel cancels a queued or running run. It returns the run as it is then
// (state queued/running while it winds down) and whether it was active.
func (s *Service) Cancel(ctx context.Context, handle string) (store.Run, bool, error) {
	s.mu.Lock()
	j, ok := s.byHandle[handle]
	if ok {
		j.cancel(errCancelled)
		r := cloneRun(j.run)
		s.mu.Unlock()
		return r, true, nil
	}
	s.mu.Unlock()
	r, err := s.store.Get(ctx, handle)
	if err != nil {
		return store.Run{}, false, err
	}
	return *r, false, nil
}

// Get returns a run: live from memory while it is queued or running, else from the store.
func (s *Service) Get(ctx context.Context, handle string) (store.Run, error) {
	s.mu.Lock()
	if j, ok := s.byHandle[handle]; ok {
		r := cloneRun(j.run)
		s.mu.Unlock()
		return r, nil
	}
	s.mu.Unlock()
	r, err := s.store.Get(ctx, handle)
	if err != nil {
		return store.Run{}, err
	}
	return *r, nil
}

// execute waits for the cloud's scenario slot (scenarios only), runs the job
// and records its end.
func (s *Service) execute(j *job) {
	defer s.wg.Done()
	typ, cloud := j.run.Type, j.run.Cloud
	if j.scenario {
		select {
		case <-j.turn:
			defer s.dequeue(j)
			defer s.cloudLease(j.ctx, cloud)() // across instances too (lease.go)
		case <-j.ctx.Done():
			s.dequeue(j) // cancelled while queued: out of the queue (or, given its turn meanwhile, passes it on)
		}
	}
	if j.ctx.Err() != nil { // cancelled while queued (both may be ready at once: the slot freed by a cancel)
		s.finish(j, families.Outcome{}, nil)
		return
	}
	s.mu.Lock()
	j.run.State, j.run.Started = Running, time.Now().UTC()
	r := cloneRun(j.run)
	s.mu.Unlock()
	s.persist(&r)
	s.log.Info("run started", "handle", r.Handle, "type", typ, "cloud", cloud)

	ctx := j.ctx
	if j.scenario && s.o.ScenarioTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.o.ScenarioTimeout)
		defer cancel()
	}
	do := j.do
	if do == nil {
		do = func(ctx context.Context, p Progress) (families.Outcome, error) { return s.run(ctx, cloud, typ, p) }
	}
	out, err := do(ctx, Progress{
		OnResult: func(res check.Result) {
			s.mu.Lock()
			j.run.Checks = append(j.run.Checks, checkOf(res))
			s.mu.Unlock()
		},
		OnRunID: func(id string) {
			s.mu.Lock()
			j.run.RunIDs = append(j.run.RunIDs, id)
			r := cloneRun(j.run)
			s.mu.Unlock()
			s.persist(&r) // a crash from here on leaves a run id to clean up
		},
	})
	s.finish(j, out, err)
}

// finish records a job's end and forgets it.
func (s *Service) finish(j *job, out families.Outcome, err error) {
	s.mu.Lock()
	r := &j.run
	r.Finished = time.Now().UTC()
	r.Passed, r.Failed, r.Checks = nil, nil, nil
	for _, res := range out.Results {
		r.Checks = append(r.Checks, checkOf(res))
		switch res.Status() {
		case check.Passed:
			r.Passed = append(r.Passed, res.Name)
		case check.Failed:
			details := res.Detail()
			if isDowntime(res.Name) { // the window and gaps are in the check
				details = status.DowntimeSummary(details)
			}
			r.Failed = append(r.Failed, store.Failure{Name: res.Name, Details: details})
		}
	}
	for _, st := range out.Steps {
		r.Steps = append(r.Steps, store.Step{Name: st.Name, Seconds: st.Seconds})
	}
	for _, id := range out.RunIDs {
		if !slices.Contains(r.RunIDs, id) {
			r.RunIDs = append(r.RunIDs, id)
		}
	}
	switch {
	case j.ctx.Err() != nil:
		r.State = Cancelled
		r.Error = context.Cause(j.ctx).Error()
	case err != nil:
		r.State, r.Error = Failed, err.Error()
	case !check.Summarize(out.Results).OK():
		r.State = Failed
	default:
		r.State = Passed
	}
	final := cloneRun(*r)
	if m := s.o.Metrics; m != nil && (final.State == Passed || final.State == Failed) {
		m.ObserveRun(final.Cloud, final.Type, out.Results, out.Steps, final.Started, final.State == Passed)
		m.ObserveAPIRequests(final.Cloud, out.Requests)
	}
	s.persist(&final)
	delete(s.active, j.key)
	delete(s.byHandle, r.Handle)
	j.cancel(nil)
	s.mu.Unlock()
	s.log.Info("run finished", "handle", final.Handle, "type", final.Type, "cloud", final.Cloud, "state", final.State,
		"passed", len(final.Passed), "failed", len(final.Failed), "error", final.Error)
}

// persist writes a run's row; the job's context may be cancelled, the write still happens.
func (s *Service) persist(r *store.Run) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.store.Update(ctx, r); err != nil {
		s.log.Error("record the run", "handle", r.Handle, "err", err)
	}
}

func checkOf(r check.Result) store.Check {
	st := map[check.Status]string{check.Passed: "ok", check.Failed: "FAIL", check.Skipped: "skip"}[r.Status()]
	c := store.Check{Name: r.Name, Status: st, Seconds: r.Duration.Seconds()}
	if r.Status() != check.Passed {
		c.Error = r.Detail()
	}
	if isDowntime(r.Name) { // passed too: the detail keeps the watch's window and gaps
		c.Error = r.Error
	}
	return c
}

func cloneRun(r store.Run) store.Run {
	r.Passed = slices.Clone(r.Passed)
	r.Failed = slices.Clone(r.Failed)
	r.Checks = slices.Clone(r.Checks)
	r.Steps = slices.Clone(r.Steps)
	r.RunIDs = slices.Clone(r.RunIDs)
	return r
}

// errStopping is the cause given to runs cancelled by a shutdown.
var errStopping = errors.New("cancelled: the service stopped")

// Shutdown refuses new runs, stops the scheduler, cancels every queued and
// running run (scenarios destroy what they built) and waits for them to end
// or ctx to end.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	for _, j := range s.byHandle {
		j.cancel(errStopping)
	}
	s.mu.Unlock()
	if s.stopBg != nil {
		s.stopBg()
	}
	s.stopWatches()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.bg.Wait()
		if s.leave != nil {
			s.leave()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runs still winding down: %w", ctx.Err())
	}
}
