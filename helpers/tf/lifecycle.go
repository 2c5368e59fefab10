package tf

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LifecycleOptions tune Lifecycle.
type LifecycleOptions struct {
	// DestroyTimeout bounds destroy, which runs on its own context. Default 15 minutes.
	DestroyTimeout time.Duration
	// ApplyGrace is how long an in-flight init/apply may go on after ctx ends so
	// that OpenTofu records in its state what it already created (a killed tofu
	// forgets resources it was creating). Default 2 minutes; destroy follows.
	ApplyGrace time.Duration
	// DestroyRetryWait is the pause before destroy is tried again after a
	// failure (a cloud API briefly unavailable must not leak a run); destroy is
	// tried up to 3 times within DestroyTimeout. Default 15 seconds.
	DestroyRetryWait time.Duration
	// KeepOnSuccess skips destroy when everything passed (the upgrade's pre stage).
	KeepOnSuccess bool
	// OnStep, if set, is told the duration and error of each step: init, apply, outputs, validate, destroy.
	OnStep func(step string, d time.Duration, err error)
}

// Lifecycle runs init → apply → outputs → validate, then destroy. Destroy is
// armed before apply: it runs when apply fails, when validate fails, when ctx
// is cancelled or times out, and when validate panics. The workspace is removed
// after a successful destroy; after a failed one it stays for `cpulse cleanup`.
func Lifecycle(ctx context.Context, r Runner, o LifecycleOptions, validate func(ctx context.Context, out Outputs) error) (err error) {
	if o.DestroyTimeout == 0 {
		o.DestroyTimeout = 15 * time.Minute
	}
	if o.ApplyGrace == 0 {
		o.ApplyGrace = 2 * time.Minute
	}
	step := func(name string, f func() error) error {
		start := time.Now()
		e := f()
		if o.OnStep != nil {
			o.OnStep(name, time.Since(start), e)
		}
		return e
	}
	// tofuCtx outlives ctx by ApplyGrace, so a cancelled run lets tofu finish
	// writing state instead of being killed mid-create.
	tofuCtx, cancelTofu := graceContext(ctx, o.ApplyGrace)
	defer cancelTofu()

	defer func() {
		p := recover()
		if p != nil {
			err = errors.Join(err, fmt.Errorf("panic during run: %v", p))
		}
		if o.KeepOnSuccess && err == nil {
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.DestroyTimeout)
		defer cancel()
		derr := step("destroy", func() error { return DestroyWithRetry(dctx, r, o.DestroyRetryWait) })
		if derr != nil {
			err = errors.Join(err, fmt.Errorf("%w (state kept in %s)", derr, r.Workspace().Root))
			// the run is over: a cleanup (in this process or another) may now take the workspace
			if rerr := r.Workspace().Release(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("release workspace: %w", rerr))
			}
			return
		}
		if rerr := r.Workspace().Remove(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove workspace: %w", rerr))
		}
	}()

	if err = step("init", func() error { return r.Init(tofuCtx) }); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return fmt.Errorf("before apply: %w", err)
	}
	if err = step("apply", func() error { return r.Apply(tofuCtx) }); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return fmt.Errorf("after apply: %w", err)
	}
	var out Outputs
	if err = step("outputs", func() (e error) { out, e = r.Outputs(ctx); return e }); err != nil {
		return err
	}
	return step("validate", func() error { return validate(ctx, out) })
}

// graceContext is ctx's values, cancelled grace after ctx ends.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-g.Done():
		}
	})
	return g, func() { stop(); cancel() }
}

// DestroyWithRetry runs destroy up to 3 times, waiting between attempts, until
// it succeeds or ctx ends; the error of the last attempt is returned.
func DestroyWithRetry(ctx context.Context, r Runner, wait time.Duration) error {
	if wait == 0 {
		wait = 15 * time.Second
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = r.Destroy(ctx); err == nil {
			return nil
		}
		if attempt == 3 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up retrying: %v)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("%w (after 3 attempts)", err)
}
