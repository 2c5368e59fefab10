package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// Types are the check types POST /cpulse/check accepts. "all" is every
// family but upgrade (which needs a snapshot).
var Types = []string{"operator", "endpoint", "functional", "comprehensive", "upgrade", "all"}

// The upgrade gate's run types.
const (
	TypeSnapshot = "snapshot" // POST /cpulse/snapshot: the pre phase (cpulse upgrade snapshot)
	TypeUpgrade  = "upgrade"  // a check of type upgrade: verify on a snapshot (cpulse upgrade verify)
	TypeFinish   = "finish"   // DELETE of a passed snapshot: destroy what it built (cpulse upgrade finish)
)

// RunTypes are the types of the runs in the history: Types, snapshot and finish.
var RunTypes = append(append([]string{}, Types...), TypeSnapshot, TypeFinish)

// Options configure a Service (cpulse serve maps its configuration file to them).
type Options struct {
	Clouds    []string                 // clouds.yaml names; the first is the default when there is one
	Intervals map[string]time.Duration // family → interval; ≤ 0 or missing: not scheduled
	Jitter    float64                  // fraction of an interval each wait varies by (0.1: ±10 %)
	// ScenarioTimeout bounds a scenario run (destroy included); zero: none.
	ScenarioTimeout time.Duration
	Token           string // "" and no Tokens: no authentication (loopback only; the configuration enforces it)
	// Tokens, when set, are the accepted tokens instead of Token: a token
	// file re-read when it changes (rotation without a restart).
	Tokens     *TokenFile
	OpenReads  []string // reads that need no token: healthz, metrics, status, openapi, api (result, results, openapi)
	MaxBody    int64    // request body limit in bytes; zero: 1 MiB
	Retention  time.Duration
	PruneEvery time.Duration // zero: retention/24, at least a minute, at most an hour
	Owner      string        // this instance's id, recorded on each run (shared history: unique per process)
	// Heartbeat and DeadAfter, on a shared history (PostgreSQL): how often
	// this instance says it is alive, and how long another is silent before
	// its runs are interrupted here. Zero: 5s and store.DeadAfter (30s).
	Heartbeat, DeadAfter time.Duration
	Logger               *slog.Logger
	// Cleanup destroys what interrupted runs (found in flight at start) left
	// in cloud: their scenario run ids. Nil: nothing is cleaned up.
	Cleanup func(ctx context.Context, cloud string, runIDs []string) error
	// Metrics, when set, is fed by every run's end and served at /metrics
	// (open_reads: metrics).
	Metrics *metrics.Registry
	// StatusPage serves the status page at / and /runs/{handle} (open_reads:
	// status); false: no page.
	StatusPage bool
	// Upgrade runs the upgrade gate (POST /cpulse/snapshot, checks of type
	// upgrade, DELETE of a snapshot); nil: those answer 501.
	Upgrade UpgradeRunner
	// SnapshotDir holds each snapshot's state directory, <SnapshotDir>/<handle>
	// (0700; secret: ssh keys and OpenTofu state).
	SnapshotDir string
	// WatchPaths, when set, makes a passed snapshot start an upgrade watch on
	// its data-plane paths (see watch.go); nil: no watch.
	WatchPaths WatchPathsFunc
	// WatchMax bounds a watch (default DefaultWatchMax); WatchInterval is the
	// time between probes of a path (default DefaultWatchInterval);
	// WatchTimeout bounds a probe (default scenario.WatchProbeTimeout);
	// WatchUpWait is how long a new watch waits for every path to be up
	// before its report starts (default DefaultWatchUpWait).
	WatchMax, WatchInterval, WatchTimeout, WatchUpWait time.Duration
}

// Progress lets a RunFunc report as it goes.
type Progress struct {
	OnResult func(check.Result) // each check's result as it ends
	OnRunID  func(runID string) // a scenario's run id, before anything is applied
}

// RunFunc runs one family on one cloud (FamilyRunner.Run; a fake in tests).
// Its error is a run-level error (the cloud could not be reached); failed
// checks are in the outcome.
type RunFunc func(ctx context.Context, cloud, family string, p Progress) (families.Outcome, error)
