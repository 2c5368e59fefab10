package service

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// Several instances on one shared history (PostgreSQL):
//   - each beats a heartbeat (Options.Heartbeat); one silent for
//     Options.DeadAfter is dead, and a live one interrupts its in-flight runs
//     and cleans them up like the runs interrupted by a restart;
//   - a scheduled check runs on slots aligned to its interval (the same for
//     every instance); the instance that claims a slot first runs it;
//   - one scenario at a time per cloud across instances: a lease row renewed
//     while the run lasts.
// On SQLite (one instance) none of this runs: the scheduler is as it was.

const (
	defaultHeartbeat = 5 * time.Second
	leaseRetry       = 500 * time.Millisecond
)

// sharedStore is the store when other instances may share it, else nil.
func (s *Service) sharedStore() store.Shared {
	if sh, ok := s.store.(store.Shared); ok && sh.Shared() {
		return sh
	}
	return nil
}

func (s *Service) heartbeat() time.Duration {
	if s.o.Heartbeat > 0 {
		return s.o.Heartbeat
	}
	return defaultHeartbeat
}

func (s *Service) deadAfter() time.Duration {
	if s.o.DeadAfter > 0 {
		return s.o.DeadAfter
	}
	return store.DeadAfter
}

// interruptAtStart: every run in flight (one instance), or those of dead
// instances (shared).
func (s *Service) interruptAtStart(ctx context.Context) ([]store.Run, error) {
	sh := s.sharedStore()
	if sh == nil {
		return s.store.Interrupt(ctx)
	}
	if s.o.Owner == "" {
		s.o.Owner = "instance-" + newHandle()
	}
	if err := sh.Heartbeat(ctx, s.o.Owner); err != nil {
		return nil, err
	}
	return sh.InterruptDead(ctx, s.deadAfter())
}

// startShared beats the heartbeat until leave, and (until bg ends) takes
// over the runs of dead instances.
func (s *Service) startShared(bg context.Context) {
	sh := s.sharedStore()
	if sh == nil {
		return
	}
	beat, stop := context.WithCancel(context.WithoutCancel(bg))
	done := make(chan struct{})
	s.leave = func() {
		stop()
		<-done
		lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sh.Leave(lctx, s.o.Owner); err != nil {
			s.log.Error("leave the shared history", "err", err)
		}
	}
	go func() {
		defer close(done)
		t := time.NewTicker(s.heartbeat())
		defer t.Stop()
		for {
			select {
			case <-beat.Done():
				return
			case <-t.C:
			}
			if err := sh.Heartbeat(beat, s.o.Owner); err != nil && beat.Err() == nil {
				s.log.Error("heartbeat", "err", err)
			}
			if bg.Err() != nil {
				continue // stopping: beat on while our runs wind down, take nothing over
			}
			runs, err := sh.InterruptDead(bg, s.deadAfter())
			if err != nil && bg.Err() == nil {
				s.log.Error("take over the runs of dead instances", "err", err)
			}
			for _, r := range runs {
				s.log.Warn("run of a dead instance interrupted", "handle", r.Handle, "owner", r.Owner, "type", r.Type, "cloud", r.Cloud, "run_ids", r.RunIDs)
				if len(r.RunIDs) > 0 && s.o.Cleanup != nil {
					s.bg.Add(1)
					go func() {
						defer s.bg.Done()
						s.recover(context.WithoutCancel(bg), r.Cloud, r.RunIDs, r.Handle)
					}()
				}
			}
		}
	}()
}

// scheduleShared is schedule on a shared history: at start the current slot
// (now truncated to the interval), then each next slot boundary plus up to
// jitter × interval; a slot runs here only when this instance claims it.
func (s *Service) scheduleShared(ctx context.Context, sh store.Shared, cloud, family string, every time.Duration) {
	slot := time.Now().Truncate(every)
	wait := time.Duration(float64(every) * s.o.Jitter * rand.Float64())
	for {
		if !sleep(ctx, wait) {
			return
		}
		won, err := sh.Claim(ctx, cloud, family, slot, s.o.Owner)
		switch {
		case err != nil:
			s.log.Error("claim a scheduled run", "type", family, "cloud", cloud, "slot", slot, "err", err)
		case !won:
			s.log.Debug("scheduled run claimed by another instance", "type", family, "cloud", cloud, "slot", slot)
		default:
			r, joined, err := s.Submit(ctx, family, cloud, "schedule")
			switch {
			case err != nil:
				s.log.Error("scheduled run", "type", family, "cloud", cloud, "err", err)
			case joined:
				s.log.Info("scheduled run joins the one still in flight", "handle", r.Handle, "type", family, "cloud", cloud, "state", r.State)
			}
		}
		slot = time.Now().Truncate(every).Add(every)
		wait = time.Until(slot) + time.Duration(float64(every)*s.o.Jitter*rand.Float64())
	}
}

// cloudLease holds the cloud's scenario lease (shared history only) until
// the returned release is called; it waits while another instance holds it.
// When ctx ends first it returns a no-op.
func (s *Service) cloudLease(ctx context.Context, cloud string) (release func()) {
	sh := s.sharedStore()
	if sh == nil {
		return func() {}
	}
	name, ttl := "scenario/"+cloud, 3*s.heartbeat()
	for {
		ok, err := sh.Lease(ctx, name, s.o.Owner, ttl)
		if ok {
			break
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("scenario lease", "cloud", cloud, "err", err)
		}
		if !sleep(ctx, leaseRetry) {
			return func() {}
		}
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
			if ok, err := sh.Lease(rctx, name, s.o.Owner, ttl); !ok && rctx.Err() == nil {
				s.log.Error("scenario lease lost", "cloud", cloud, "err", err)
			}
		}
	}()
	return func() {
		stop()
		<-done
		lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sh.Release(lctx, name, s.o.Owner); err != nil {
			s.log.Error("release the scenario lease", "cloud", cloud, "err", err)
		}
	}
}
