package scenario

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
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
	t := (Timeouts{Apply: o.ApplyTimeout, Validate: o.ValidateTimeout, Destroy: o.DestroyTimeout}).withDefaults()
	o.ApplyTimeout, o.ValidateTimeout, o.DestroyTimeout = t.Apply, t.Validate, t.Destroy
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

// Name is the scenario's registry name.
func (f *Functional) Name() string { return "functional" }

// Fixture is the fixture's directory.
func (f *Functional) Fixture() string { return "fixtures/functional" }

// Timeouts are the run's apply, per-validation and destroy timeouts.
func (f *Functional) Timeouts() Timeouts {
	return Timeouts{Apply: f.o.ApplyTimeout, Validate: f.o.ValidateTimeout, Destroy: f.o.DestroyTimeout}
}

// Workspace copies fixtures/functional into its state directory with the variables.
func (f *Functional) Workspace() (*tf.Workspace, error) { return Workspace(f) }

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

// Run applies the fixture through r, validates, destroys (armed before apply)
// and then looks for anything left with the run's tag: Run(ctx, c, f, r, h).
func (f *Functional) Run(ctx context.Context, c *cloud.Cloud, r tf.Runner, h Hooks) Result {
	return Run(ctx, c, f, r, h)
}
