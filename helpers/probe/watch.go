package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// WatchPath is one data-plane path the watcher probes.
type WatchPath struct {
	Name      string                          // "ping/vm-1", "ssh/vm-1", "http/vm-1", "east-west/vm-1→vm-2", "metadata/vm-1"
	Probe     func(ctx context.Context) error // one attempt; nil: the path is up. ctx carries the per-probe timeout
	Threshold time.Duration                   // total downtime allowed; 0: no threshold
	// Sequential: one probe at a time. A tick that comes while the last probe
	// still runs is skipped (not a failure): the path is sampled as fast as it
	// answers, at most every Interval. For probes that load what they probe
	// (a command inside a guest: SessionPath), where overlapping probes would
	// pile up on a slow answer and bring the guest down themselves.
	Sequential bool

	close func() // releases what the probe keeps between attempts (SessionPath's connection); nil: nothing
}

// WatchOptions tune a watch; zero values take the defaults.
type WatchOptions struct {
	Interval time.Duration // between probe starts; default 200ms
	Timeout  time.Duration // per probe; default 1s
}

const (
	defaultWatchInterval = 200 * time.Millisecond
	defaultWatchTimeout  = time.Second
)

// WatchReport is what a watch measured.
type WatchReport struct {
	Started, Ended time.Time
	Interval       time.Duration
	Paths          []PathReport // in the order given
}

// PathReport is what a watch measured on one path.
type PathReport struct {
	Name       string
	Probes     int
	Failed     int
	Downtime   time.Duration // total of Outages
	LongestGap time.Duration // the longest outage
	Threshold  time.Duration // 0: none
	Outages    []Outage
	Samples    []Sample // every probe, in the order they started
	// Inconclusive counts probes that could not observe the path (see
	// Inconclusive): neither up nor down, they do not start or end an outage.
	Inconclusive int
}

// Inconclusive marks a probe's error as "could not observe": the measuring
// channel failed, not the path (an in-guest command whose ssh session got no
// answer while the guest was starved of CPU). The watcher does not count it
// as down; PathReport.Inconclusive says how many there were.
func Inconclusive(err error) error { return &inconclusiveError{err} }

type inconclusiveError struct{ err error }

func (e *inconclusiveError) Error() string { return e.err.Error() }
func (e *inconclusiveError) Unwrap() error { return e.err }

// Outage is a time a path was down: from the start of its first failed probe to the start of the next
// successful one (or Stop, when Open).
type Outage struct {
	Start, End time.Time
	Duration   time.Duration
	Error      string // the first failed probe's error
	Open       bool   // still down at Stop
}

// Sample is one probe.
type Sample struct {
	At      time.Time     // when it started
	OK      bool          // the path was up
	Latency time.Duration // how long it took
}

// Watcher probes paths in the background from StartWatch until Stop, and measures how long they were down while
// something else happened (an upgrade). Each path is probed on a fixed schedule, every Interval from the watch's
// start, whatever the probes do: probes run concurrently (a few per path), so a slow or hanging probe neither
// shifts the schedule nor hides later ticks. A probe still running at Stop is cancelled and not counted.
//
// Outages are read from the probes in the order they started, not the order they finished. An outage starts at
// the start of the first failed probe and ends at the start of the first successful probe after it: n failed
// probes in a row make an outage of about n intervals, and a single failed probe one of about one interval
// (the path was seen down at one probe and up again only at the next). An outage still open at Stop ends at
// Stop and is marked Open. When the real outage lasts D, each edge is seen at the first probe after it, so the
// measured downtime is within one interval of D.
//
// Memory: about 100 bytes per probe (10 minutes at 5 a second is 300 kB per path).
type Watcher struct {
	started  time.Time
	interval time.Duration
	timeout  time.Duration
	paths    []*watchedPath

	cancel   context.CancelFunc
	wg       sync.WaitGroup // schedulers (and the ctx watch)
	probes   sync.WaitGroup // probes in flight
	stopOnce sync.Once
	report   WatchReport

	endMu sync.Mutex
	ended time.Time // when the caller's ctx ended, if it did before Stop
	from  time.Time // set by WaitUp: the report starts here
}

type watchedPath struct {
	path  WatchPath
	slots chan struct{} // bounds the probes in flight

	mu      sync.Mutex
	records []probeRecord
	lastErr string
}

// probeRecord is one probe as the watcher keeps it; err is set only for failures (and shared between repeats).
type probeRecord struct {
	at      time.Time
	latency time.Duration
	ok      bool
	unknown bool // Inconclusive: not an observation of the path
	err     string
}

// StartWatch starts probing paths in the background, each every o.Interval, and returns at once. Probing stops
// at Stop or when ctx ends; Stop returns the report either way.
func StartWatch(ctx context.Context, paths []WatchPath, o WatchOptions) *Watcher {
	if o.Interval <= 0 {
		o.Interval = defaultWatchInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultWatchTimeout
	}
	// A probe runs at most Timeout, so this many overlap; one more leaves room for scheduling.
	inFlight := int((o.Timeout+o.Interval-1)/o.Interval) + 1
	runCtx, cancel := context.WithCancel(ctx)
	w := &Watcher{started: time.Now(), interval: o.Interval, timeout: o.Timeout}
	for _, p := range paths {
		n := inFlight
		if p.Sequential {
			n = 1
		}
		w.paths = append(w.paths, &watchedPath{path: p, slots: make(chan struct{}, n)})
	}
	w.wg.Add(1)
	stopEnded := context.AfterFunc(ctx, func() {
		defer w.wg.Done()
		w.endMu.Lock()
		defer w.endMu.Unlock()
		w.ended = time.Now()
	})
	for _, p := range w.paths {
		w.wg.Add(1)
		go w.schedule(runCtx, p)
	}
	w.cancel = func() {
		cancel()
		if stopEnded() { // ctx had not ended: the AfterFunc will never run
			w.wg.Done()
		}
	}
	return w
}

// Stop stops probing, waits for the probes in flight (it cancels them: a probe cut short by Stop is not
// counted; one that ignores its ctx is abandoned after the probe timeout) and returns the report. Later calls
// return the same report.
func (w *Watcher) Stop() WatchReport {
	w.stopOnce.Do(func() {
		stopped := time.Now()
		w.cancel()
		w.wg.Wait()
		// Probes honour their ctx; one that does not is abandoned after its timeout, and what it returns later
		// is not counted (it was cancelled).
		done := make(chan struct{})
		go func() { w.probes.Wait(); close(done) }()
		grace := time.NewTimer(w.timeout)
		select {
		case <-done:
		case <-grace.C:
		}
		grace.Stop()
		w.endMu.Lock()
		ended := w.ended
		if ended.IsZero() || ended.After(stopped) {
			ended = stopped
		}
		from := w.from
		w.endMu.Unlock()
		w.report = WatchReport{Started: w.started, Ended: ended, Interval: w.interval}
		if !from.IsZero() {
			w.report.Started = from
		}
		for _, p := range w.paths {
			if !from.IsZero() { // the warm-up is not part of the report
				p.mu.Lock()
				kept := p.records[:0]
				for _, r := range p.records {
					if !r.at.Before(from) {
						kept = append(kept, r)
					}
				}
				p.records = kept
				p.mu.Unlock()
			}
			w.report.Paths = append(w.report.Paths, p.report(ended))
			if p.path.close != nil {
				p.path.close()
			}
		}
	})
	return w.report
}

// schedule starts a probe of p at every tick: started + k×interval. A tick whose probes are all still running
// (they ignore their timeout) counts as failed rather than vanish; ticks the watcher itself slept through
// (a suspended process) are skipped.
func (w *Watcher) schedule(ctx context.Context, p *watchedPath) {
	defer w.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := int64(0); ; k++ {
		timer.Reset(time.Until(w.started.Add(time.Duration(k) * w.interval)))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		select {
		case p.slots <- struct{}{}:
			w.probes.Add(1)
			go w.probe(ctx, p)
		default:
			if !p.path.Sequential {
				p.add(probeRecord{at: time.Now()}, fmt.Errorf("not probed: %d probes still running past their %s timeout",
					cap(p.slots), w.timeout))
			}
		}
		if behind := int64(time.Since(w.started) / w.interval); behind > k+1 {
			k = behind - 1
		}
	}
}

// probe runs one attempt of p and records it, unless Stop cut it short.
func (w *Watcher) probe(runCtx context.Context, p *watchedPath) {
	defer w.probes.Done()
	defer func() { <-p.slots }()
	ctx, cancel := context.WithTimeout(runCtx, w.timeout)
	defer cancel()
	at := time.Now()
	err := runProbe(ctx, p.path.Probe)
	latency := time.Since(at)
	if err != nil && runCtx.Err() != nil {
		return // cut short by Stop (or the watch's ctx): not an observation
	}
	var inc *inconclusiveError
	p.add(probeRecord{at: at, latency: latency, ok: err == nil, unknown: errors.As(err, &inc)}, err)
}

// runProbe calls probe, turning a panic into an error.
func runProbe(ctx context.Context, probe func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("probe panicked: %v", r)
		}
	}()
	if probe == nil {
		return errors.New("no probe")
	}
	return probe(ctx)
}

func (p *watchedPath) add(r probeRecord, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		r.err = err.Error()
		if r.err == p.lastErr {
			r.err = p.lastErr // keep one copy of an error that repeats
		}
		p.lastErr = r.err
	}
	p.records = append(p.records, r)
}

// report orders the probes by start and reads the outages from them.
func (p *watchedPath) report(ended time.Time) PathReport {
	p.mu.Lock()
	records := slices.Clone(p.records)
	p.mu.Unlock()
	slices.SortStableFunc(records, func(a, b probeRecord) int { return a.at.Compare(b.at) })

	r := PathReport{Name: p.path.Name, Probes: len(records), Threshold: p.path.Threshold,
		Samples: make([]Sample, 0, len(records))}
	var open *Outage
	closeOutage := func(end time.Time) {
		open.End, open.Duration = end, end.Sub(open.Start)
		r.Downtime += open.Duration
		r.LongestGap = max(r.LongestGap, open.Duration)
		r.Outages = append(r.Outages, *open)
		open = nil
	}
	for _, rec := range records {
		if rec.unknown {
			r.Inconclusive++
			continue
		}
		r.Samples = append(r.Samples, Sample{At: rec.at, OK: rec.ok, Latency: rec.latency})
		switch {
		case !rec.ok:
			r.Failed++
			if open == nil {
				open = &Outage{Start: rec.at, Error: rec.err}
			}
		case open != nil:
			closeOutage(rec.at)
		}
	}
	if open != nil {
		open.Open = true
		if ended.Before(open.Start) { // a tick that raced with the end of the watch
			ended = open.Start
		}
		closeOutage(ended)
	}
	return r
}

// Exceeded returns one error per path whose downtime is over its threshold, in the order of the paths.
func (r WatchReport) Exceeded() []error {
	var errs []error
	for _, p := range r.Paths {
		if p.Exceeded() {
			errs = append(errs, fmt.Errorf("%s: down %s in total (threshold %s; longest gap %s, %s)", p.Name,
				p.Downtime.Round(time.Millisecond), p.Threshold, p.LongestGap.Round(time.Millisecond), outageCount(len(p.Outages))))
		}
	}
	return errs
}

// Exceeded says whether the path has a threshold and was down longer in total.
func (p PathReport) Exceeded() bool { return p.Threshold > 0 && p.Downtime > p.Threshold }

func outageCount(n int) string {
	if n == 1 {
		return "1 outage"
	}
	return fmt.Sprintf("%d outages", n)
}

// Up reports whether every path is up now: of each path's probes that have
// ended, the one that started last succeeded. Callers wait for it before
// they inject or start what the watch is to measure (a kept ssh session logs
// in during the first probes).
func (w *Watcher) Up() bool {
	for _, p := range w.paths {
		p.mu.Lock()
		var last *probeRecord
		for i := range p.records {
			if last == nil || p.records[i].at.After(last.at) {
				last = &p.records[i]
			}
		}
		up := last != nil && last.ok
		p.mu.Unlock()
		if !up {
			return false
		}
	}
	return true
}

// WaitUp waits until every path is up (Up), polling every interval, and from
// then on is when the report starts: the warm-up (a kept ssh session logging
// in, a path not up yet) is left out of it. It returns ctx's error, naming the
// paths still down, when ctx ends first.
func (w *Watcher) WaitUp(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for !w.Up() {
		select {
		case <-ctx.Done():
			var down []string
			for _, p := range w.paths {
				p.mu.Lock()
				if p.lastErr != "" {
					down = append(down, p.path.Name+": "+p.lastErr)
				}
				p.mu.Unlock()
			}
			return fmt.Errorf("the watched paths were not all up: %s: %w", strings.Join(down, "; "), ctx.Err())
		case <-t.C:
		}
	}
	w.endMu.Lock()
	w.from = time.Now()
	w.endMu.Unlock()
	return nil
}
