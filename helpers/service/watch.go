package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/service/status"
)

// The upgrade watch in the service: once a snapshot has passed, the service
// probes the snapshot's data-plane paths (what `cpulse upgrade watch` probes)
// until the check of type upgrade on it, which stops the watch and reports
// the downtime per path as checks named downtime/<path> (over its threshold:
// failed). A watch also ends at DELETE of the snapshot (discarded), at
// shutdown (discarded) and after WatchMax (its report then ends there).

// Watch defaults.
const (
	DefaultWatchMax      = 6 * time.Hour
	DefaultWatchInterval = time.Second
	DefaultWatchUpWait   = 2 * time.Minute
)

// WatchPathsFunc gives the data-plane paths of the snapshot kept in dir
// (scenario.WatchPaths; a fake in tests).
type WatchPathsFunc func(dir string) ([]probe.WatchPath, error)

// snapWatch is one snapshot's watch.
type snapWatch struct {
	w        *probe.Watcher
	cancel   context.CancelFunc // ends the watch's context (WatchMax)
	upCancel context.CancelFunc
	up       chan struct{} // closed when WaitUp returned
	upErr    error         // WaitUp's error; read after up is closed
	paths    int
	started  time.Time
}

// stop ends the watch and returns its report and the warm-up's error (the
// paths were not all up within WatchUpWait: the report then starts at the
// watch's start).
func (sw *snapWatch) stop() (probe.WatchReport, error) {
	sw.upCancel()
	<-sw.up
	rep := sw.w.Stop()
	sw.cancel()
	return rep, sw.upErr
}

// startWatch starts the watch of snapshot h (its state in dir) on cloud, once
// it has passed; nothing when the service has no WatchPaths or is stopping.
func (s *Service) startWatch(h, cloud, dir string) {
	if s.o.WatchPaths == nil {
		return
	}
	paths, err := s.o.WatchPaths(dir)
	if err != nil || len(paths) == 0 {
		s.log.Warn("upgrade watch not started", "snapshot", h, "cloud", cloud, "paths", len(paths), "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.o.WatchMax)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.watches[h] != nil {
		cancel()
		return
	}
	sw := &snapWatch{cancel: cancel, up: make(chan struct{}), paths: len(paths), started: time.Now()}
	sw.w = probe.StartWatch(ctx, paths, probe.WatchOptions{Interval: s.o.WatchInterval, Timeout: s.o.WatchTimeout})
	uctx, ucancel := context.WithTimeout(ctx, s.o.WatchUpWait)
	sw.upCancel = ucancel
	go func() {
		sw.upErr = sw.w.WaitUp(uctx)
		ucancel()
		close(sw.up)
	}()
	s.watches[h] = sw
	s.log.Info("upgrade watch started", "snapshot", h, "cloud", cloud, "paths", len(paths), "every", s.o.WatchInterval, "max", s.o.WatchMax)
}

// takeWatch removes snapshot h's watch (nil: none).
func (s *Service) takeWatch(h string) *snapWatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw := s.watches[h]
	delete(s.watches, h)
	return sw
}

// watching says whether snapshot h is being watched, and since when.
func (s *Service) watching(h string) (time.Time, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sw := s.watches[h]; sw != nil {
		return sw.started, sw.paths, true
	}
	return time.Time{}, 0, false
}

// stopWatchFor stops snapshot h's watch (none: nothing), feeds the metrics
// (downtime and threshold per path on cloud) and keeps its results for the
// check of type upgrade that stopped it (watchedFor).
func (s *Service) stopWatchFor(h, cloud string) {
	sw := s.takeWatch(h)
	if sw == nil {
		return
	}
	rep, upErr := sw.stop()
	if s.o.Metrics != nil {
		s.o.Metrics.ObserveWatch(cloud, rep)
	}
	s.mu.Lock()
	s.stopped[h] = watchResults(rep, upErr)
	s.mu.Unlock()
	s.log.Info("upgrade watch stopped", "snapshot", h, "cloud", cloud, "paths", len(rep.Paths),
		"window", rep.Ended.Sub(rep.Started).Round(time.Millisecond), "exceeded", len(rep.Exceeded()))
}

// watchedFor takes the results of snapshot h's stopped watch (nil: none).
func (s *Service) watchedFor(h string) []check.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := s.stopped[h]
	delete(s.stopped, h)
	return res
}

// discardWatch ends snapshot h's watch without a report (DELETE of the snapshot).
func (s *Service) discardWatch(h, why string) {
	if sw := s.takeWatch(h); sw != nil {
		sw.stop()
		s.log.Info("upgrade watch discarded", "snapshot", h, "why", why)
	}
}

// stopWatches ends every watch (shutdown).
func (s *Service) stopWatches() {
	s.mu.Lock()
	all := s.watches
	s.watches = map[string]*snapWatch{}
	s.mu.Unlock()
	for h, sw := range all {
		sw.stop()
		s.log.Info("upgrade watch discarded", "snapshot", h, "why", "the service stopped")
	}
}

// watchResults are a stopped watch's results: per path a check
// downtime/<path> (failed over its threshold; its detail keeps the window and
// the gaps: status.DowntimeDetail), and "watch", skipped, when the paths were
// not all up before the report started.
func watchResults(rep probe.WatchReport, upErr error) []check.Result {
	var out []check.Result
	if upErr != nil {
		out = append(out, check.Result{Name: "watch", Skipped: true, StartedAt: rep.Started,
			Reason: fmt.Sprintf("the downtime counts from the watch's start: %v", upErr)})
	}
	for _, p := range rep.Paths {
		r := check.Result{Name: status.DowntimePrefix + p.Name, OK: !p.Exceeded(), StartedAt: rep.Started,
			Duration: p.Downtime, Error: status.DowntimeDetail(rep, p)}
		out = append(out, r)
	}
	return out
}

// isDowntime says whether a check carries a watched path's downtime.
func isDowntime(name string) bool { return strings.HasPrefix(name, status.DowntimePrefix) }
