package scenario

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// FunctionalOptions configure the Functional scenario. Zero values take the
// defaults in FunctionalDefaults (and the CLOUDPULSE_* variables, see FromEnv).
type FunctionalOptions struct {
	Cloud *cloud.Config // who runs it (clouds.yaml cloud or OS_* environment)
	RunID string        // default NewRunID()

	ImageFile         string // upload this file as the test image; empty: use Image as it exists
	Image             string // image name (uploaded or existing)
	Flavor            string
	ExternalNetwork   string
	CIDR              string
	SSHUser           string
	ServerGroupPolicy string   // "anti-affinity" puts the two VMs on different hosts
	Hosts             []string // pin VMs to hypervisors (admin)
	CreateProject     bool     // operator mode: a fresh project + user, the scenario runs as that user
	TenantPassword    string   // operator mode: the new user's password; default a random one per run

	// Timeouts; under a deadline (ctx's) they are upper bounds, see FitBudget.
	ApplyTimeout    time.Duration // default 20m
	ValidateTimeout time.Duration // per validation; default 5m
	DestroyTimeout  time.Duration // default 15m
}

// Functional is one run of the Functional scenario.
type Functional struct {
	o   FunctionalOptions
	key probe.KeyPair
}

// NewFunctional checks the options (no cloud call) and generates the run's ssh key.
func NewFunctional(o FunctionalOptions) (*Functional, error) {
	if o.Cloud == nil {
		return nil, errors.New("functional: no cloud: set OS_CLOUD")
	}
	if o.CreateProject && o.Cloud.File == "" {
		return nil, errors.New("functional: operator mode (CLOUDPULSE_CREATE_PROJECT=1) needs the admin cloud from clouds.yaml (OS_CLOUD), not OS_* variables")
	}
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
	if err := tf.ValidRunID(o.RunID); err != nil {
		return nil, err
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Image, "cloudpulse-tiny")
	def(&o.Flavor, "cp.tiny")
	def(&o.ExternalNetwork, "public")
	def(&o.CIDR, "10.42.0.0/24")
	def(&o.SSHUser, "root")
	o = withDefaultTimeouts(o)
	if o.ImageFile != "" {
		abs, err := filepath.Abs(o.ImageFile)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("functional: image file %s: %w (set CLOUDPULSE_IMAGE_FILE to the guest image, or leave it empty to use image %q as it is)", o.ImageFile, err, o.Image)
		}
		o.ImageFile = abs
	}
	switch o.ServerGroupPolicy {
	case "", "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity":
	default:
		return nil, fmt.Errorf("functional: server group policy %q: use affinity, anti-affinity, soft-affinity or soft-anti-affinity", o.ServerGroupPolicy)
	}
	if o.CreateProject && o.TenantPassword == "" {
		pw, err := newTenantPassword()
		if err != nil {
			return nil, err
		}
		o.TenantPassword = pw
	}
	if o.TenantPassword != "" && len(o.TenantPassword) < 12 {
		return nil, errors.New("functional: the tenant password must be at least 12 characters")
	}
	key, err := probe.NewKeyPair("cloudpulse-" + o.RunID)
	if err != nil {
		return nil, fmt.Errorf("functional: ssh key: %w", err)
	}
	return &Functional{o: o, key: key}, nil
}

// newTenantPassword is a random password for the operator mode's user: Go
// makes it, not OpenTofu, so that the runners know it and redact it from every
// log, and no output has to carry it back.
func newTenantPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("functional: tenant password: %w", err)
	}
	return "Cp!" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Secrets are the values no log may show: the cloud's password, application
// credential secret or token, and the tenant password of operator mode.
func (f *Functional) Secrets() []string {
	var s []string
	for _, v := range []string{f.o.Cloud.Auth.Password, f.o.Cloud.Auth.ApplicationCredentialSecret, f.o.Cloud.Auth.TokenID, f.o.TenantPassword} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// RunID is the run's id.
func (f *Functional) RunID() string { return f.o.RunID }

// Options are the effective options (defaults applied).
func (f *Functional) Options() FunctionalOptions { return f.o }

// Vars are the fixture's variables.
func (f *Functional) Vars() map[string]any {
	v := map[string]any{
		"run_id":           f.o.RunID,
		"image_name":       f.o.Image,
		"image_file":       f.o.ImageFile,
		"flavor":           f.o.Flavor,
		"external_network": f.o.ExternalNetwork,
		"cidr":             f.o.CIDR,
		"ssh_public_key":   f.key.AuthorizedKey,
		"ssh_user":         f.o.SSHUser,
		"create_project":   f.o.CreateProject,
	}
	if f.o.Cloud.File != "" {
		v["cloud"] = f.o.Cloud.Name
	}
	if f.o.ServerGroupPolicy != "" {
		v["server_group_policy"] = f.o.ServerGroupPolicy
	}
	if len(f.o.Hosts) > 0 {
		v["hosts"] = f.o.Hosts
	}
	if f.o.CreateProject {
		v["tenant_password"] = f.o.TenantPassword
	}
	return v
}

// Workspace copies fixtures/functional into its state directory with the variables.
func (f *Functional) Workspace() (*tf.Workspace, error) {
	return tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/functional", RunID: f.o.RunID, Vars: f.Vars(), Secrets: f.Secrets()})
}

// TerraformEnv is the environment OpenTofu needs for this run's cloud. In
// operator mode OS_CLOUD is emptied (the cloud goes in as var.cloud): the
// provider prefers clouds.yaml over explicit credentials, so with OS_CLOUD set
// the tenant provider would log in as the admin instead of the new user.
func (f *Functional) TerraformEnv() map[string]string {
	env := f.o.Cloud.TerraformEnv()
	if f.o.CreateProject {
		env["OS_CLOUD"] = ""
	}
	return env
}

// Hooks let a caller wrap each validation (go test runs each as a subtest) and
// see progress. All are optional.
type Hooks struct {
	// Validation runs one named validation; default: call fn.
	Validation func(name string, fn func() error) error
	// Logf receives progress lines.
	Logf func(format string, args ...any)
	// Extra adds validations of the caller's, run before the built-in ones.
	Extra func(out tf.Outputs) []Validation
}

// Result is what a Functional run measured.
type Result struct {
	RunID     string
	Err       error
	Timeline  *report.Timeline
	Leftovers []string // resources still tagged with the run id after destroy
	Console   map[string]string
	Faults    []string           // servers not ACTIVE after a failed apply, with Nova's fault
	HostKeys  []probe.HostKeyPin // how each server's ssh host key was checked: from its console, or on first use
	Wall      time.Duration
	Overhead  report.Overhead
}

// Run applies the fixture through r, validates, destroys (armed before apply)
// and then looks for anything left with the run's tag.
func (f *Functional) Run(ctx context.Context, c *cloud.Cloud, r tf.Runner, h Hooks) Result {
	if h.Validation == nil {
		h.Validation = func(_ string, fn func() error) error { return fn() }
	}
	if h.Logf == nil {
		h.Logf = func(string, ...any) {}
	}
	res := Result{RunID: f.o.RunID, Timeline: &report.Timeline{}, Console: map[string]string{}}
	// Destroy and the leftover check run after ctx ends: fit all in its deadline.
	budget, err := f.Budget(ctx)
	if err != nil {
		res.Err = err
		// nothing was applied: a workspace without state is not a run to clean up later
		if ws := r.Workspace(); ws != nil && ws.Root != "" && !fileExists(filepath.Join(ws.Dir, "terraform.tfstate")) {
			res.Err = errors.Join(err, ws.Remove())
		}
		return res
	}
	cpu0 := harnessCPU()
	start := time.Now()
	var cloudWait time.Duration
	var known []Scope // the project the run built in, once its outputs are read
	ctx, cancel := context.WithTimeout(ctx, budget.Run)
	defer cancel()
	res.Err = tf.Lifecycle(ctx, r, tf.LifecycleOptions{
		DestroyTimeout: budget.Destroy,
		ApplyGrace:     budget.Grace,
		OnStep: func(step string, d time.Duration, err error) {
			if step != "validate" { // validations are timed one by one below
				res.Timeline.Add("tofu "+step, time.Now().Add(-d), d, err)
			}
			if step == "apply" && err != nil { // before destroy removes the evidence
				res.Faults = serverFaults(context.WithoutCancel(ctx), c, f.o.RunID)
				for _, fault := range res.Faults {
					h.Logf("%s", fault)
				}
			}
			h.Logf("%s: %.1fs %v", step, d.Seconds(), errOrOK(err))
		},
	}, func(ctx context.Context, out tf.Outputs) error {
		known = outputScope(out)
		env, err := f.environment(out, c, h.Logf)
		if err != nil {
			return err
		}
		defer func() { res.HostKeys = env.hostKeys.Pins() }()
		h.Logf("run %s: servers %v, floating IPs %v, fixed IPs %v", f.o.RunID, env.names, env.floating, env.fixed)
		var failed error
		var vs []Validation
		if h.Extra != nil {
			vs = h.Extra(out)
		}
		for _, v := range append(vs, f.validations(c, env)...) {
			vctx, vcancel := context.WithTimeout(ctx, f.o.ValidateTimeout)
			done := res.Timeline.Start(v.Name)
			t0 := time.Now()
			err := h.Validation(v.Name, func() error { return v.Run(vctx) })
			cloudWait += time.Since(t0)
			done(err)
			vcancel()
			if err != nil {
				failed = fmt.Errorf("%s: %w", v.Name, err)
				break // later validations build on earlier ones (Tempest's order)
			}
		}
		if failed != nil {
			res.Console = consoleLogs(context.WithoutCancel(ctx), c, env.ids)
		}
		return failed
	})
	res.Wall = time.Since(start)
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), budget.Leftovers)
	defer lcancel()
	done := res.Timeline.Start("no leftovers")
	// A failed or interrupted apply can leave what OpenTofu never recorded: a
	// create whose response was lost when the run was cancelled (a floating IP
	// neutron made, not yet tagged). Find looks for the run's tag and for names
	// (floating IPs: descriptions) that start with the run's prefix, in the
	// run's projects only.
	var left []string
	lerr := probe.WaitFor(lctx, 5*time.Second, func(ctx context.Context) (bool, error) {
		found, err := Find(ctx, c, f.o.RunID, known...) // retried only when the cloud does not answer
		left = left[:0]
		for _, r := range found {
			left = append(left, r.String())
		}
		return err == nil, err
	})
	res.Leftovers = left
	if lerr == nil && len(left) > 0 {
		lerr = fmt.Errorf("%d resources of run %s (tagged %s or named %s…) remain after destroy: %v", len(left), f.o.RunID, RunTag(f.o.RunID), NamePrefix(f.o.RunID), left)
		// a leak is reported, and not left in the cloud
		if swept, err := Sweep(lctx, c, f.o.RunID, known...); err != nil {
			lerr = fmt.Errorf("%w; deleting them through the APIs failed too: %v", lerr, err)
		} else {
			h.Logf("deleted the %d leaked resources through the APIs", len(swept))
		}
	}
	done(lerr)
	if len(res.Faults) > 0 {
		res.Err = fmt.Errorf("%w\nservers: %s", res.Err, strings.Join(res.Faults, "; "))
	}
	res.Err = errors.Join(res.Err, lerr)
	res.Overhead = overhead(res.Wall, harnessCPU()-cpu0)
	return res
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}
