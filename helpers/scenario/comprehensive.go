package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// ComprehensiveOptions configure the Comprehensive scenario. Zero values take
// the defaults (see NewComprehensive and ComprehensiveFromEnv).
type ComprehensiveOptions struct {
	Cloud *cloud.Config
	RunID string // default NewRunID()

	ImageFile       string // upload this file as the test image; empty: use Image as it exists
	Image           string // default cloudpulse-tiny
	Flavor          string // default cp.tiny
	ExternalNetwork string // default public
	CIDR            string // default 10.43.0.0/24
	SSHUser         string // default root
	// Hosts narrows the compute hosts to cover (admin); empty: every enabled host.
	Hosts []string
	// ServerGroupPolicy spreads the VMs when they are not pinned (member):
	// default anti-affinity.
	ServerGroupPolicy string
	// NetworkMTU is the tenant network's mtu (0: the cloud's default).
	NetworkMTU int
	// ExternalProbe is the address outside the cloud each VM must reach
	// through SNAT (empty: the external subnet's gateway).
	ExternalProbe string
	// MaxParallel caps how many checks run at once and how many resources
	// OpenTofu creates at once (-parallelism): VMs boot in batches of it
	// (default 20).
	MaxParallel int
	// FullMesh: east-west and MTU between every ordered pair of VMs, not only
	// around the ring.
	FullMesh bool
	// BlockedWindow is how long a "must be blocked" probe listens (default 5s).
	BlockedWindow time.Duration

	ApplyTimeout    time.Duration // default 20m
	ValidateTimeout time.Duration // per check; default 5m
	DestroyTimeout  time.Duration // default 15m
}

// Comprehensive is one run of the Comprehensive scenario: a VM on every
// compute host (or availability zone), their reach to the gateway, outside
// and each other, the path MTU between them, and security groups allowed and
// blocked.
type Comprehensive struct {
	o   ComprehensiveOptions
	key probe.KeyPair

	// filled by Precheck
	pinned    bool     // hosts are compute hosts (admin), not VMs spread by zone
	hosts     []string // compute hosts to pin one VM to each
	hostZone  string   // their availability zone (pinned as "<zone>:<host>")
	zones     []string // availability zones (member)
	servers   int      // host VMs when not pinned
	preChecks []check.Result
}

const (
	defaultMaxParallel   = 20
	defaultBlockedWindow = 5 * time.Second
)

// NewComprehensive checks the options (no cloud call) and generates the run's ssh key.
func NewComprehensive(o ComprehensiveOptions) (*Comprehensive, error) {
	if o.Cloud == nil {
		return nil, errors.New("comprehensive: no cloud: set OS_CLOUD")
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
	def(&o.CIDR, "10.43.0.0/24")
	def(&o.SSHUser, "root")
	def(&o.ServerGroupPolicy, "anti-affinity")
	if o.MaxParallel == 0 {
		o.MaxParallel = defaultMaxParallel
	}
	if o.BlockedWindow == 0 {
		o.BlockedWindow = defaultBlockedWindow
	}
	t := (Timeouts{Apply: o.ApplyTimeout, Validate: o.ValidateTimeout, Destroy: o.DestroyTimeout}).withDefaults()
	o.ApplyTimeout, o.ValidateTimeout, o.DestroyTimeout = t.Apply, t.Validate, t.Destroy

	var errs []error
	if o.ImageFile != "" {
		if abs, err := filepath.Abs(o.ImageFile); err != nil {
			errs = append(errs, err)
		} else if _, err := os.Stat(abs); err != nil {
			errs = append(errs, fmt.Errorf("comprehensive: image file %s: %w (set CLOUDPULSE_IMAGE_FILE to the guest image, or leave it empty to use image %q as it is)", o.ImageFile, err, o.Image))
		} else {
			o.ImageFile = abs
		}
	}
	if p, err := netip.ParsePrefix(o.CIDR); err != nil || !p.Addr().Is4() || p.Bits() > 29 {
		errs = append(errs, fmt.Errorf("comprehensive: cidr %q: use an IPv4 range of /29 or larger such as 10.43.0.0/24 (CLOUDPULSE_COMPREHENSIVE_CIDR)", o.CIDR))
	}
	if o.NetworkMTU != 0 && (o.NetworkMTU < 576 || o.NetworkMTU > 9216) {
		errs = append(errs, fmt.Errorf("comprehensive: network mtu %d: use 576 to 9216, or 0 for the cloud's default (CLOUDPULSE_NETWORK_MTU)", o.NetworkMTU))
	}
	if o.ExternalProbe != "" {
		if _, err := netip.ParseAddr(o.ExternalProbe); err != nil {
			errs = append(errs, fmt.Errorf("comprehensive: external probe %q: use an IP address outside the cloud (CLOUDPULSE_EXTERNAL_PROBE), or leave it empty for the external subnet's gateway", o.ExternalProbe))
		}
	}
	if o.MaxParallel < 1 {
		errs = append(errs, fmt.Errorf("comprehensive: max parallel %d: use 1 or more (CLOUDPULSE_MAX_PARALLEL)", o.MaxParallel))
	}
	if o.BlockedWindow < 0 {
		errs = append(errs, fmt.Errorf("comprehensive: blocked window %s: use a positive duration", o.BlockedWindow))
	}
	switch o.ServerGroupPolicy {
	case "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity":
	default:
		errs = append(errs, fmt.Errorf("comprehensive: server group policy %q: use anti-affinity, soft-anti-affinity, affinity or soft-affinity", o.ServerGroupPolicy))
	}
	seen := map[string]bool{}
	for _, h := range o.Hosts {
		if seen[h] {
			errs = append(errs, fmt.Errorf("comprehensive: host %q listed twice in CLOUDPULSE_HOSTS", h))
		}
		seen[h] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	key, err := probe.NewKeyPair("cloudpulse-" + o.RunID)
	if err != nil {
		return nil, fmt.Errorf("comprehensive: ssh key: %w", err)
	}
	return &Comprehensive{o: o, key: key}, nil
}

// Name is the scenario's registry name.
func (s *Comprehensive) Name() string { return "comprehensive" }

// RunID is the run's id.
func (s *Comprehensive) RunID() string { return s.o.RunID }

// Fixture is the fixture's directory.
func (s *Comprehensive) Fixture() string { return "fixtures/comprehensive" }

// Options are the effective options (defaults applied).
func (s *Comprehensive) Options() ComprehensiveOptions { return s.o }

// Parallelism is OpenTofu's -parallelism for the run: MaxParallel.
func (s *Comprehensive) Parallelism() int { return s.o.MaxParallel }

// Timeouts are the run's apply, per-check and destroy timeouts.
func (s *Comprehensive) Timeouts() Timeouts {
	return Timeouts{Apply: s.o.ApplyTimeout, Validate: s.o.ValidateTimeout, Destroy: s.o.DestroyTimeout}
}

// TerraformEnv is the environment OpenTofu needs for this run's cloud.
func (s *Comprehensive) TerraformEnv() map[string]string { return s.o.Cloud.TerraformEnv() }

// Secrets are the cloud's password, application credential secret or token.
func (s *Comprehensive) Secrets() []string {
	var out []string
	for _, v := range []string{s.o.Cloud.Auth.Password, s.o.Cloud.Auth.ApplicationCredentialSecret, s.o.Cloud.Auth.TokenID} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Vars are the fixture's variables; the hosts (admin) or the zones and the
// number of VMs (member) come from Precheck.
func (s *Comprehensive) Vars() map[string]any {
	v := map[string]any{
		"run_id":           s.o.RunID,
		"image_name":       s.o.Image,
		"image_file":       s.o.ImageFile,
		"flavor":           s.o.Flavor,
		"external_network": s.o.ExternalNetwork,
		"cidr":             s.o.CIDR,
		"ssh_public_key":   s.key.AuthorizedKey,
		"ssh_user":         s.o.SSHUser,
	}
	if s.o.Cloud.File != "" {
		v["cloud"] = s.o.Cloud.Name
	}
	if s.o.NetworkMTU > 0 {
		v["network_mtu"] = s.o.NetworkMTU
	}
	if s.o.ExternalProbe != "" {
		v["external_probe_address"] = s.o.ExternalProbe
	}
	if s.pinned {
		v["hosts"] = s.hosts
		if s.hostZone != "" {
			v["host_availability_zone"] = s.hostZone
		}
		return v
	}
	if len(s.zones) > 0 {
		v["availability_zones"] = s.zones
	}
	if s.servers > 0 {
		v["server_count"] = s.servers
	}
	v["server_group_policy"] = s.o.ServerGroupPolicy
	return v
}

// PrecheckResults are the verdicts Precheck found: a disabled host skipped,
// a host that is down failed, host coverage impossible without admin.
func (s *Comprehensive) PrecheckResults() []check.Result { return s.preChecks }

// Run applies the fixture through r, validates, destroys and looks for leftovers.
func (s *Comprehensive) Run(ctx context.Context, c *cloud.Cloud, r tf.Runner, h Hooks) Result {
	return Run(ctx, c, s, r, h)
}
