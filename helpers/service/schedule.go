package service

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

// Start begins the service's background work: runs found in flight at the
// last stop are marked interrupted and their resources cleaned up, each
// enabled family runs on its interval per cloud (the first run at start, after
// a jitter), and old history is pruned.
func (s *Service) Start(ctx context.Context) error {
	interrupted, err := s.interruptAtStart(ctx)
	if err != nil {
		return err
	}
	ctx, s.stopBg = context.WithCancel(ctx)
	s.startShared(ctx)
	for _, r := range interrupted {
		s.log.Warn("run interrupted by the last stop", "handle", r.Handle, "type", r.Type, "cloud", r.Cloud, "run_ids", r.RunIDs)
		if len(r.RunIDs) > 0 && s.o.Cleanup != nil {
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				s.recover(context.WithoutCancel(ctx), r.Cloud, r.RunIDs, r.Handle)
			}()
		}
	}
	families := make([]string, 0, len(s.o.Intervals))
	for f, every := range s.o.Intervals {
		switch {
		case every > 0 && f == TypeUpgrade:
			s.log.Warn("intervals.upgrade is not scheduled: a check of type upgrade verifies a snapshot (POST /cpulse/snapshot)")
		case every > 0:
			families = append(families, f)
		}
	}
	slices.Sort(families)
	for _, cloud := range s.o.Clouds {
		for _, f := range families {
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				s.schedule(ctx, cloud, f, s.o.Intervals[f])
			}()
		}
	}
	if s.o.Retention > 0 {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.prune(ctx)
		}()
	}
	return nil
}

// recover cleans up an interrupted run's resources.
func (s *Service) recover(ctx context.Context, cloud string, runIDs []string, handle string) {
	start := time.Now()
	if err := s.o.Cleanup(ctx, cloud, runIDs); err != nil {
		s.log.Error("clean up an interrupted run", "handle", handle, "cloud", cloud, "run_ids", runIDs, "err", err)
		return
	}
	s.log.Info("interrupted run cleaned up", "handle", handle, "cloud", cloud, "run_ids", runIDs, "seconds", time.Since(start).Seconds())
}

// jittered varies d by ±jitter (a fraction).
func jittered(d time.Duration, jitter float64) time.Duration {
	if jitter <= 0 {
		return d
	}
	return d + time.Duration(float64(d)*jitter*(2*rand.Float64()-1))
}

// schedule submits family on cloud at start (after up to jitter × interval)
// and then every interval ± jitter. A run still queued or running is joined,
// so a slow run never piles up duplicates.
func (s *Service) schedule(ctx context.Context, cloud, family string, every time.Duration) {
	if sh := s.sharedStore(); sh != nil {
		s.scheduleShared(ctx, sh, cloud, family, every)
		return
	}
	wait := time.Duration(float64(every) * s.o.Jitter * rand.Float64())
	for {
		if !sleep(ctx, wait) {
			return
		}
		r, joined, err := s.Submit(ctx, family, cloud, "schedule")
		switch {
		case err != nil:
			s.log.Error("scheduled run", "type", family, "cloud", cloud, "err", err)
		case joined:
			s.log.Info("scheduled run joins the one still in flight", "handle", r.Handle, "type", family, "cloud", cloud, "state", r.State)
		}
		wait = jittered(every, s.o.Jitter)
	}
}

// prune deletes history older than the retention, now and then.
func (s *Service) prune(ctx context.Context) {
	every := s.o.PruneEvery
	if every <= 0 {
		every = min(max(s.o.Retention/24, time.Minute), time.Hour)
	}
	for {
		n, err := s.store.Prune(ctx, time.Now().Add(-s.o.Retention))
		if err != nil && ctx.Err() == nil {
			s.log.Error("prune history", "err", err)
		} else if n > 0 {
			s.log.Info("history pruned", "runs", n, "retention", s.o.Retention.String())
		}
		if !sleep(ctx, every) {
			return
		}
	}
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
