package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// PhaseOptions are what the post phase and finish need besides the state
// directory: how to run OpenTofu and where its output goes.
type PhaseOptions struct {
	Tools    tf.Tools
	Env      map[string]string // the cloud for OpenTofu (cloud.Config.TerraformEnv)
	Log      io.Writer         // OpenTofu's output (redacted); nil: discarded
	Logf     func(string, ...any)
	OnResult func(check.Result)
	Timeout  time.Duration // per check; default 5m
}

func (o *PhaseOptions) defaults() {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
}

// VerifyResult is the post phase's verdict.
type VerifyResult struct {
	RunID    string
	Snapshot *Snapshot
	Checks   []check.Result
	Stages   []StageRun
	Drift    []Drift
	Timeline *report.Timeline
	Wall     time.Duration
}

// Failed returns the failed checks.
func (r VerifyResult) Failed() []check.Result { return check.Failures(r.Checks) }

// Err is nil when every check passed, else names the failed ones.
func (r VerifyResult) Err() error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "upgrade verify: %d of %d checks failed:", len(failed), len(r.Checks))
	for _, f := range failed {
		fmt.Fprintf(&b, "\n  %s: %s", f.Name, f.Error)
	}
	return errors.New(b.String())
}

// openPhase loads the snapshot (checking its fixture when checkFixture) and
// prepares OpenTofu in its workspace.
func openPhase(ctx context.Context, dir string, checkFixture bool, o PhaseOptions) (*Snapshot, *tf.Exec, error) {
	var fixtures fs.FS
	if checkFixture {
		src, err := tf.FindSources()
		if err != nil {
			return nil, nil, err
		}
		fixtures = src.FS
	}
	snap, err := loadSnapshot(dir, fixtures)
	if err != nil {
		return nil, nil, err
	}
	ws, err := OpenSnapshotWorkspace(dir, snap)
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{}
	for k, v := range o.Env {
		env[k] = v
	}
	if snap.CreateProject {
		env["OS_CLOUD"] = "" // as in the pre phase: var.cloud selects the admin, the tenant logs in as the new user
	}
	ex, err := tf.NewExec(ws, o.Tools, env, o.Log)
	if err != nil {
		_ = ws.Release()
		return nil, nil, err
	}
	if err := ex.Init(ctx); err != nil {
		_ = ws.Release()
		return nil, nil, err
	}
	return snap, ex, nil
}

// loadKey reads the run's ssh key from the state directory.
func loadKey(dir string) (probe.KeyPair, error) {
	b, err := os.ReadFile(filepath.Join(dir, SnapshotKey))
	if err != nil {
		return probe.KeyPair{}, fmt.Errorf("upgrade: the run's ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return probe.KeyPair{}, fmt.Errorf("upgrade: the run's ssh key %s: %w", filepath.Join(dir, SnapshotKey), err)
	}
	return probe.KeyPair{Signer: signer, PrivateKeyPEM: b}, nil
}

// snapshotHostKeys accepts, per address, only the host key the pre phase pinned.
func snapshotHostKeys(snap *Snapshot, logf func(string, ...any)) (*probe.HostKeys, error) {
	keys := map[string]probe.PrintedHostKeys{}
	names := map[string]string{}
	for _, s := range snap.Servers {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.HostKey))
		if err != nil {
			return nil, fmt.Errorf("upgrade: host key of %s in the snapshot: %w", s.VM, err)
		}
		addr := net.JoinHostPort(s.FloatingIP, "22")
		keys[addr] = probe.PrintedHostKeys{Keys: []ssh.PublicKey{k}}
		names[addr] = s.Name + " (host key pinned by the snapshot)"
	}
	return probe.NewVerifiedHostKeys(func(_ context.Context, address string) (probe.PrintedHostKeys, string, error) {
		return keys[address], names[address], nil
	}, 0, func(p probe.HostKeyPin) { logf("%s", p) }), nil
}

// Verify is the post phase: it reopens the state directory and decides
// whether everything that worked before the upgrade still works, unchanged.
func Verify(ctx context.Context, c *cloud.Cloud, dir string, o PhaseOptions) (VerifyResult, error) {
	o.defaults()
	start := time.Now()
	res := VerifyResult{Timeline: &report.Timeline{}}
	snap, ex, err := openPhase(ctx, dir, true, o)
	if err != nil {
		return res, err
	}
	defer ex.Workspace().Release()
	res.RunID, res.Snapshot = snap.RunID, snap
	if snap.Mode == ModeExisting {
		err := verifyExisting(ctx, c, snap, ex, o, &res)
		res.Wall = time.Since(start)
		return res, err
	}
	key, err := loadKey(dir)
	if err != nil {
		return res, err
	}
	hk, err := snapshotHostKeys(snap, o.Logf)
	if err != nil {
		return res, err
	}

	stateChecks := []check.Check{{Name: "drift", Details: map[string]string{"run_id": snap.RunID}, Run: func(ctx context.Context) error {
		plan, err := ex.RefreshPlan(ctx)
		if err != nil {
			return err
		}
		res.Drift = FilterDrift(plan)
		check.SetDetail(ctx, "resources_drifted", fmt.Sprint(len(plan.ResourceDrift)))
		if len(res.Drift) == 0 {
			return nil
		}
		lines := make([]string, len(res.Drift))
		for i, d := range res.Drift {
			lines[i] = d.String()
		}
		return fmt.Errorf("%d resources drifted in attributes that matter: %s", len(res.Drift), strings.Join(lines, " | "))
	}}}
	out, err := ex.Outputs(ctx)
	if err != nil {
		return res, err
	}
	e, err := upgradeEnv(out, snap.RunID, snap.SSHUser, key, func(map[string][2]string) *probe.HostKeys { return hk }, snap.Resources.Connections)
	if err != nil {
		return res, err
	}
	admin, _ := c.IsAdmin(ctx)
	var cont []check.Check
	for _, was := range snap.Servers {
		i, ok := e.byVM[was.VM]
		if !ok {
			stateChecks = append(stateChecks, check.Check{Name: "ids/" + was.VM, Run: func(context.Context) error {
				return fmt.Errorf("vm %s (%s) is no longer in the state's outputs", was.VM, was.ID)
			}})
			continue
		}
		now := e.servers[i]
		d := now.details(snap.RunID)
		stateChecks = append(stateChecks, check.Check{Name: "ids/" + was.VM, Details: d, Run: func(context.Context) error {
			var diff []string
			if now.id != was.ID {
				diff = append(diff, fmt.Sprintf("server %s → %s (recreated)", was.ID, now.id))
			}
			if now.floating != was.FloatingIP {
				diff = append(diff, fmt.Sprintf("floating IP %s → %s", was.FloatingIP, now.floating))
			}
			if now.fixed != was.FixedIP {
				diff = append(diff, fmt.Sprintf("fixed IP %s → %s", was.FixedIP, now.fixed))
			}
			if now.volumeID != was.VolumeID {
				diff = append(diff, fmt.Sprintf("volume %s → %s (recreated)", was.VolumeID, now.volumeID))
			}
			if len(diff) > 0 {
				return fmt.Errorf("%s is not what the snapshot recorded: %s", was.Name, strings.Join(diff, "; "))
			}
			return nil
		}})
		cont = append(cont,
			check.Check{Name: "host/" + was.VM, Details: d, Run: func(ctx context.Context) error {
				if was.Host == "" || !admin {
					return check.Skip("the host of a server is visible to the admin role only (snapshot and verify both need it)")
				}
				host, err := serverHost(ctx, c, now.id)
				if err != nil {
					return err
				}
				check.SetDetail(ctx, "host", host)
				if host != was.Host {
					return fmt.Errorf("%s moved from %s to %s: an unplanned migration", was.Name, was.Host, host)
				}
				return nil
			}},
			check.Check{Name: "boot/" + was.VM, Details: d, Run: func(ctx context.Context) error {
				id, up, err := readBoot(ctx, now.host)
				var changed *probe.HostKeyMismatchError
				if errors.As(err, &changed) {
					// a guest without persistent host keys makes new ones at each boot (the lab's does)
					return fmt.Errorf("%s booted again or was rebuilt: its ssh host key is not the one the snapshot pinned (%w)", was.Name, err)
				}
				if err != nil {
					return err
				}
				check.SetDetail(ctx, "uptime_s", fmt.Sprintf("%.0f", up))
				if id != was.BootID {
					return fmt.Errorf("%s booted again: boot id %s, the snapshot saw %s (uptime now %.0f s; a reboot or rebuild during the upgrade)", was.Name, id, was.BootID, up)
				}
				if up < was.Uptime {
					return fmt.Errorf("%s: uptime %.0f s is less than the snapshot's %.0f s", was.Name, up, was.Uptime)
				}
				return nil
			}},
			check.Check{Name: "data/" + was.VM, Details: d, Run: func(ctx context.Context) error {
				sum, err := volumeChecksum(ctx, now)
				if err != nil {
					return err
				}
				if sum != was.VolumeSHA256 {
					return fmt.Errorf("volume %s of %s: the block written before the upgrade reads back with sha256 %s, it was %s", was.VolumeID, was.Name, sum, was.VolumeSHA256)
				}
				return nil
			}},
		)
	}
	// the control plane is whole again: every agent and service the upgrade restarted is back (admin; skipped otherwise)
	stateChecks = append(stateChecks, operator.NovaServices(c, true), operator.NeutronAgents(c, true), operator.CinderServices(c, true))
	stages := append([]Stage{{Name: "state", Checks: stateChecks, Concurrency: 1}}, e.validations()...)
	stages = append(stages, Stage{Name: "continuity", Checks: cont, Concurrency: 4})
	res.Checks, res.Stages = runSuite(ctx, stages, o.Timeout, res.Timeline, o.OnResult)
	res.Wall = time.Since(start)
	return res, nil
}

// Finish destroys what the snapshot built (whatever cloudpulse version made
// it: the workspace carries its own fixture), checks that nothing tagged with
// its run id is left, and empties the state directory.
func Finish(ctx context.Context, c *cloud.Cloud, dir string, o PhaseOptions) error {
	o.defaults()
	snap, ex, err := openPhase(ctx, dir, false, o)
	if err != nil {
		return err
	}
	if snap.Mode == ModeExisting {
		// data sources only: there is nothing to destroy (and a destroy would read them all again, failing on
		// what the tenant deleted meanwhile); the resources are the tenant's and stay
		if err := ex.Workspace().Remove(); err != nil {
			return fmt.Errorf("upgrade finish: %w", err)
		}
		o.Logf("upgrade finish: read-only snapshot %s forgotten; the existing resources it read are untouched", snap.RunID)
		return RemoveStateDir(dir, snap)
	}
	out, _ := ex.Outputs(ctx) // for the project to look in (operator mode)
	if err := tf.DestroyWithRetry(ctx, ex, 0); err != nil {
		_ = ex.Workspace().Release()
		return fmt.Errorf("upgrade finish: %w (the state stays in %s; run finish again)", err, dir)
	}
	_ = ex.Workspace().Release()
	var left []string
	err = probe.WaitFor(ctx, 5*time.Second, func(ctx context.Context) (bool, error) {
		found, err := Find(ctx, c, snap.RunID, outputScope(out)...)
		left = left[:0]
		for _, r := range found {
			left = append(left, r.String())
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("upgrade finish: destroyed, but the leftover check failed: %w", err)
	}
	if len(left) > 0 {
		return fmt.Errorf("upgrade finish: %d resources of run %s remain after destroy: %v (state kept in %s)", len(left), snap.RunID, left, dir)
	}
	o.Logf("upgrade finish: run %s destroyed, nothing left", snap.RunID)
	return RemoveStateDir(dir, snap)
}
