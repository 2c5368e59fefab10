package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cleanup"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// FamilyRunner runs families through helpers/families, as cpulse check does.
type FamilyRunner struct {
	Clouds       map[string]*cloud.Config
	Admin        map[string]bool // clouds declared admin (admin: true): families.Request.RequireAdmin
	CheckTimeout time.Duration   // each endpoint/operator check
	ServiceMap   string
	HorizonURL   string
	Logger       *slog.Logger
	// State, when set, keeps scenario state in PostgreSQL (a shared history),
	// so that another instance can destroy a run from it.
	State *tf.PGState
}

// Run is a RunFunc.
func (f FamilyRunner) Run(ctx context.Context, cloudName, family string, p Progress) (families.Outcome, error) {
	cfg, ok := f.Clouds[cloudName]
	if !ok {
		return families.Outcome{}, fmt.Errorf("cloud %q is not configured", cloudName)
	}
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return families.Run(ctx, families.Request{Cloud: cfg, Family: family, Timeout: f.CheckTimeout,
		ServiceMap: f.ServiceMap, HorizonURL: f.HorizonURL, OnResult: p.OnResult, OnRunID: p.OnRunID, State: f.State,
		RequireAdmin: f.Admin[cloudName],
		Logf: func(format string, args ...any) {
			log.Info(fmt.Sprintf(format, args...), "cloud", cloudName, "type", family)
		}})
}

// Cleanup destroys what interrupted runs of cloud left, from their workspaces
// in stateDir (an Options.Cleanup).
func (f FamilyRunner) Cleanup(stateDir string) func(ctx context.Context, cloudName string, runIDs []string) error {
	return func(ctx context.Context, cloudName string, runIDs []string) error {
		cfg, ok := f.Clouds[cloudName]
		if !ok {
			return fmt.Errorf("cloud %q is not configured", cloudName)
		}
		w := &logWriter{log: f.Logger}
		return cleanup.RunsWithState(ctx, cfg, stateDir, runIDs, f.State, w)
	}
}

// logWriter turns cleanup's lines into log records.
type logWriter struct{ log *slog.Logger }

func (w *logWriter) Write(b []byte) (int, error) {
	if w.log != nil {
		w.log.Info(string(trimNL(b)))
	}
	return len(b), nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

// upgradeRequest is a phase of the upgrade gate on cloudName in dir.
func (f FamilyRunner) upgradeRequest(cloudName, family, dir string, p Progress) (families.UpgradeRequest, error) {
	cfg, ok := f.Clouds[cloudName]
	if !ok {
		return families.UpgradeRequest{}, fmt.Errorf("cloud %q is not configured", cloudName)
	}
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return families.UpgradeRequest{Cloud: cfg, StateDir: dir, OnResult: p.OnResult, OnRunID: p.OnRunID,
		Logf: func(format string, args ...any) {
			log.Info(fmt.Sprintf(format, args...), "cloud", cloudName, "type", family)
		}}, nil
}

// Snapshot is an UpgradeRunner's: cpulse upgrade snapshot [--create=false] in dir.
func (f FamilyRunner) Snapshot(ctx context.Context, cloudName string, spec families.SnapshotSpec, dir string, p Progress) (families.Outcome, error) {
	req, err := f.upgradeRequest(cloudName, TypeSnapshot, dir, p)
	if err != nil {
		return families.Outcome{}, err
	}
	return families.UpgradeSnapshot(ctx, req, spec)
}

// Verify is an UpgradeRunner's: cpulse upgrade verify [--functional] [--destroy] on dir.
func (f FamilyRunner) Verify(ctx context.Context, cloudName, dir string, o families.VerifyOptions, p Progress) (families.Outcome, error) {
	req, err := f.upgradeRequest(cloudName, TypeUpgrade, dir, p)
	if err != nil {
		return families.Outcome{}, err
	}
	return families.UpgradeVerify(ctx, req, o)
}

// Finish is an UpgradeRunner's: cpulse upgrade finish on dir, as one result "finish".
func (f FamilyRunner) Finish(ctx context.Context, cloudName, dir string, p Progress) (families.Outcome, error) {
	req, err := f.upgradeRequest(cloudName, TypeFinish, dir, p)
	if err != nil {
		return families.Outcome{}, err
	}
	r := check.Result{Name: "finish", StartedAt: time.Now()}
	err = families.UpgradeFinish(ctx, req)
	r.Duration, r.OK = time.Since(r.StartedAt), err == nil
	if err != nil {
		r.Err, r.Error = err, err.Error()
	}
	return families.Outcome{Results: []check.Result{r}}, nil
}

// Kept is an UpgradeRunner's: the snapshot in dir, and whether it built its resources.
func (FamilyRunner) Kept(dir string) (bool, error) {
	s, err := scenario.LoadSnapshot(dir, "")
	if err != nil {
		return false, err
	}
	return s.Mode == scenario.ModeCreate, nil
}
