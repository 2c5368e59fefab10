package scenario

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// UpgradeRunPrefix starts the run id of every upgrade snapshot (cpup12021713-…).
const UpgradeRunPrefix = "cpup"

// UpgradeOptions configure the upgrade gate's pre phase.
type UpgradeOptions struct {
	FunctionalOptions           // cloud, image, flavor, network, operator mode: as for Functional
	Resources         Resources // what to build (ParseResources); zero: two vms
	StateDir          string    // the snapshot's directory ($CLOUDPULSE_UPGRADE_STATE)
}

// Upgrade is the pre phase of the upgrade gate, a scenario: it applies
// fixtures/upgrade, runs every validation, observes what the post phase
// compares (boot ids, hosts, host keys, a checksummed block on each volume)
// and keeps everything in the state directory instead of destroying it.
type Upgrade struct {
	f   *Functional
	res Resources
	dir string

	mu  sync.Mutex
	obs map[string]*ServerObs // by vm
}

// NewUpgrade checks the options (no cloud call) and prepares the state directory.
func NewUpgrade(o UpgradeOptions) (*Upgrade, error) {
	var err error
	if err = o.Resources.normalize(); err != nil {
		return nil, err
	}
	if len(o.Resources.Image) == 1 {
		o.Image, o.ImageFile = o.Resources.Image[0], ""
	}
	if len(o.Resources.Net) == 1 && o.Resources.Net[0].CIDR != "" {
		o.CIDR = o.Resources.Net[0].CIDR
	}
	// its own prefix: `cpulse cleanup --older-than` leaves a snapshot waiting for its post job alone
	if o.RunID, err = tf.NewRunID(UpgradeRunPrefix); err != nil {
		return nil, err
	}
	f, err := NewFunctional(o.FunctionalOptions)
	if err != nil {
		return nil, fmt.Errorf("upgrade: %s", strings.TrimPrefix(err.Error(), "functional: "))
	}
	dir, err := filepath.Abs(o.StateDir)
	if o.StateDir == "" || err != nil {
		return nil, fmt.Errorf("upgrade: no state directory: set CLOUDPULSE_UPGRADE_STATE (or --state) to a directory for the snapshot")
	}
	if err := NewStateDir(dir); err != nil {
		return nil, err
	}
	return &Upgrade{f: f, res: o.Resources, dir: dir, obs: map[string]*ServerObs{}}, nil
}

func (u *Upgrade) Name() string                    { return "upgrade" }
func (u *Upgrade) RunID() string                   { return u.f.RunID() }
func (u *Upgrade) Fixture() string                 { return UpgradeFixture }
func (u *Upgrade) Secrets() []string               { return u.f.Secrets() }
func (u *Upgrade) TerraformEnv() map[string]string { return u.f.TerraformEnv() }
func (u *Upgrade) Timeouts() Timeouts              { return u.f.Timeouts() }
func (u *Upgrade) StateRoot() string               { return u.dir }
func (u *Upgrade) KeepOnSuccess() bool             { return true }
func (u *Upgrade) StateDir() string                { return u.dir }
func (u *Upgrade) Options() FunctionalOptions      { return u.f.Options() }
func (u *Upgrade) Resources() Resources            { return u.res }
func (u *Upgrade) Precheck(ctx context.Context, c *cloud.Cloud) error {
	n := len(u.res.VM)
	return u.f.precheck(ctx, c, "upgrade", n, n)
}

// Vars are functional's variables with the vms of the resources file.
func (u *Upgrade) Vars() map[string]any {
	v := u.f.Vars()
	v["vms"] = u.res.VM
	return v
}

// upServer is one VM as the validations see it.
type upServer struct {
	vm, name, id, floating, fixed, volumeID string
	host                                    probe.Host
}

type upEnv struct {
	runID     string
	servers   []upServer
	byVM      map[string]int
	conns     [][2]string
	hostKeys  *probe.HostKeys
	hostnames []string
}

// upgradeEnv reads fixtures/upgrade's outputs.
func upgradeEnv(out tf.Outputs, runID, user string, signer probe.KeyPair, hostKeys func(byAddress map[string][2]string) *probe.HostKeys, conns [][2]string) (*upEnv, error) {
	var vms, ids, names, floating, fixed, vols []string
	for key, dst := range map[string]*[]string{"vms": &vms, "server_ids": &ids, "server_names": &names, "floating_ips": &floating, "fixed_ips": &fixed, "volume_ids": &vols} {
		if err := out.Decode(key, dst); err != nil {
			return nil, err
		}
	}
	n := len(vms)
	if n == 0 || len(ids) != n || len(names) != n || len(floating) != n || len(fixed) != n || len(vols) != n {
		return nil, fmt.Errorf("fixture outputs: want a server id, name, floating and fixed IP and volume per vm %v, got ids=%v names=%v floating=%v fixed=%v volumes=%v", vms, ids, names, floating, fixed, vols)
	}
	byAddress := map[string][2]string{}
	for i, ip := range floating {
		byAddress[net.JoinHostPort(ip, "22")] = [2]string{ids[i], names[i]}
	}
	e := &upEnv{runID: runID, byVM: map[string]int{}, conns: conns, hostKeys: hostKeys(byAddress), hostnames: make([]string, n)}
	for i := range vms {
		e.byVM[vms[i]] = i
		e.servers = append(e.servers, upServer{vm: vms[i], name: names[i], id: ids[i], floating: floating[i], fixed: fixed[i], volumeID: vols[i],
			host: probe.Host{Address: floating[i], User: user, Signer: signer.Signer, HostKeys: e.hostKeys}})
	}
	return e, nil
}

func (s upServer) details(runID string) map[string]string {
	return map[string]string{"run_id": runID, "server": s.name, "server_id": s.id, "floating_ip": s.floating, "fixed_ip": s.fixed}
}

// validations are the checks both phases run: every VM reached by ping, ssh
// and http, every connection VM→VM, and tcp 81 (not in the security group)
// blocked from the runner while ssh (allowed) answers.
func (e *upEnv) validations() []Stage {
	var reach, guest []check.Check
	for i, s := range e.servers {
		d := s.details(e.runID)
		reach = append(reach,
			check.Check{Name: "ping/" + s.vm, Details: d, Run: func(ctx context.Context) error { return probe.Ping(ctx, s.floating) }},
			check.Check{Name: "ssh/" + s.vm, Details: d, Run: func(ctx context.Context) error {
				out, err := probe.SSH(ctx, s.host, "hostname")
				if err != nil {
					return err
				}
				if e.hostnames[i] = strings.TrimSpace(out); e.hostnames[i] == "" {
					return fmt.Errorf("ssh %s: hostname printed nothing", s.host)
				}
				return nil
			}},
		)
	}
	for i, s := range e.servers {
		guest = append(guest, check.Check{Name: "http/" + s.vm, Details: s.details(e.runID), Run: func(ctx context.Context) error {
			return probe.HTTP(ctx, "http://"+s.floating+"/", 200, e.hostnames[i])
		}})
	}
	for _, c := range e.conns {
		from, to := e.servers[e.byVM[c[0]]], e.servers[e.byVM[c[1]]]
		guest = append(guest, check.Check{Name: fmt.Sprintf("east-west/%s→%s", c[0], c[1]),
			Details: map[string]string{"run_id": e.runID, "from": from.name, "to": to.name, "to_fixed_ip": to.fixed},
			Run:     func(ctx context.Context) error { return guestPing(ctx, from.host, to.fixed) }})
	}
	for _, s := range e.servers {
		guest = append(guest, check.Check{Name: "sg/blocked/" + s.vm + "/tcp-81", Details: s.details(e.runID), Run: func(ctx context.Context) error {
			return blockedTCP(ctx, s.floating, 81)
		}})
	}
	return []Stage{
		{Name: "reach", Checks: reach, Concurrency: 4},
		{Name: "guest", Checks: guest, Concurrency: 4},
	}
}

// blockedWindow is how long a port the security group does not open must stay silent.
const blockedWindow = 3 * time.Second

// blockedTCP: a connection to a port the security group does not open gets
// no answer (not even a refusal) within blockedWindow, while ssh (open) does.
func blockedTCP(ctx context.Context, ip string, port int) error {
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	ok, err := probe.TCPOnce(ctx, net.JoinHostPort(ip, "22"), blockedWindow)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the positive control failed: %s:22 (allowed) did not answer in %s, so silence on %s proves nothing", ip, blockedWindow, addr)
	}
	answered, err := probe.TCPOnce(ctx, addr, blockedWindow)
	if err != nil {
		return err
	}
	if answered {
		return fmt.Errorf("tcp %s answered: the security group lets in a port it does not open", addr)
	}
	return nil
}

// Validations: the shared validations, then the observations the post phase compares.
func (u *Upgrade) Validations(ctx context.Context, c *cloud.Cloud, out tf.Outputs, logf func(string, ...any)) (*Suite, error) {
	o := u.f.Options()
	e, err := upgradeEnv(out, u.RunID(), o.SSHUser, u.f.key, func(byAddress map[string][2]string) *probe.HostKeys {
		return probe.NewVerifiedHostKeys(consoleHostKeys(c, byAddress), hostKeyConsoleWait, func(p probe.HostKeyPin) { logf("%s", p) })
	}, u.res.Connections)
	if err != nil {
		return nil, err
	}
	admin, _ := c.IsAdmin(ctx)
	var observe []check.Check
	var ids []string
	for _, s := range e.servers {
		ids = append(ids, s.id)
		observe = append(observe, check.Check{Name: "observe/" + s.vm, Details: s.details(u.RunID()), Run: func(ctx context.Context) error {
			obs := &ServerObs{VM: s.vm, Name: s.name, ID: s.id, FloatingIP: s.floating, FixedIP: s.fixed, VolumeID: s.volumeID}
			if err := observeGuest(ctx, s, obs); err != nil {
				return err
			}
			key, ok := e.hostKeys.Get(net.JoinHostPort(s.floating, "22"))
			if !ok {
				return fmt.Errorf("no host key was pinned for %s", s.host)
			}
			obs.HostKey = strings.TrimSpace(string(sshAuthorizedKey(key)))
			if admin {
				host, err := serverHost(ctx, c, s.id)
				if err != nil {
					return err
				}
				obs.Host = host
			}
			check.SetDetail(ctx, "boot_id", obs.BootID)
			check.SetDetail(ctx, "volume_sha256", obs.VolumeSHA256)
			u.mu.Lock()
			u.obs[s.vm] = obs
			u.mu.Unlock()
			return nil
		}})
	}
	stages := append(e.validations(), Stage{Name: "observe", Checks: observe, Concurrency: 4})
	logf("run %s: upgrade snapshot of %d servers in %s", u.RunID(), len(e.servers), u.dir)
	return &Suite{Stages: stages, ServerIDs: ids, HostKeys: e.hostKeys}, nil
}

// Save settles the state (a refresh-only apply: a port's binding and a
// volume's attachments are known only after create, and must not read as
// drift later) and writes the snapshot and the ssh key. Call it after a
// successful Run, with ws reopened (tf.OpenWorkspace).
func (u *Upgrade) Save(ctx context.Context, cloudName string, ws *tf.Workspace, o PhaseOptions) error {
	ex, err := tf.NewExec(ws, o.Tools, u.TerraformEnv(), o.Log)
	if err != nil {
		return err
	}
	if err := ex.RefreshState(ctx); err != nil {
		return fmt.Errorf("upgrade: settle the state: %w", err)
	}
	src, err := tf.FindSources()
	if err != nil {
		return err
	}
	h, err := fixtureHash(src.FS, UpgradeFixture)
	if err != nil {
		return err
	}
	fo := u.f.Options()
	s := &Snapshot{Format: snapshotFormat, Mode: ModeCreate, Fixture: UpgradeFixture, FixtureSHA256: h, RunID: u.RunID(), Cloud: cloudName,
		Workspace: filepath.Base(ws.Root), Created: time.Now().UTC(), SSHUser: fo.SSHUser, CreateProject: fo.CreateProject, Resources: u.res}
	for _, vm := range u.res.VM {
		obs, ok := u.obs[vm]
		if !ok {
			return fmt.Errorf("upgrade: nothing was observed of vm %s", vm)
		}
		s.Servers = append(s.Servers, *obs)
		s.Admin = s.Admin || obs.Host != ""
	}
	if err := writeFile0600(filepath.Join(u.dir, SnapshotKey), u.f.key.PrivateKeyPEM); err != nil {
		return fmt.Errorf("upgrade: save the ssh key: %w", err)
	}
	if err := SaveSnapshot(u.dir, s); err != nil {
		return fmt.Errorf("upgrade: save the snapshot: %w", err)
	}
	return nil
}

// RemoveStateDir deletes what a snapshot keeps in dir (after finish destroyed it).
func RemoveStateDir(dir string, s *Snapshot) error {
	for _, p := range []string{filepath.Join(dir, s.Workspace), filepath.Join(dir, SnapshotKey), filepath.Join(dir, SnapshotFile)} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}
