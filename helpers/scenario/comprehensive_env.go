package scenario

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// comprehensiveEnvVars are the variables only the comprehensive scenario
// reads; it shares the others with functional (image, flavor, external
// network, ssh user, run id/prefix, hosts, server group policy, timeouts).
var comprehensiveEnvVars = map[string]string{
	"CLOUDPULSE_COMPREHENSIVE_CIDR": "comprehensive: tenant subnet (default 10.43.0.0/24)",
	"CLOUDPULSE_NETWORK_MTU":        "comprehensive: the tenant network's mtu, e.g. 8950 (default: the cloud's)",
	"CLOUDPULSE_EXTERNAL_PROBE":     "comprehensive: an address outside the cloud each VM must reach through SNAT (default: the external subnet's gateway)",
	"CLOUDPULSE_MAX_PARALLEL":       "comprehensive: how many checks run at once and VMs OpenTofu creates at once (default 20)",
	"CLOUDPULSE_FULL_MESH":          "comprehensive: 1: east-west and MTU between every pair of VMs, not only around the ring",
	"CLOUDPULSE_BLOCKED_WINDOW":     "comprehensive: how long a must-be-blocked probe listens (default 5s)",
}

func init() {
	for k, v := range comprehensiveEnvVars {
		EnvVars[k] = v
	}
	Register(Definition{
		Name:    "comprehensive",
		Summary: "a VM on every compute host (or zone): gateway, outside, metadata, east-west, path MTU, security groups allowed and blocked",
		New: func(cfg *cloud.Config) (Scenario, error) {
			o, err := ComprehensiveFromEnv()
			if err != nil {
				return nil, err
			}
			o.Cloud = cfg
			return NewComprehensive(o)
		},
	})
}

// ComprehensiveFromEnv fills the options from the CLOUDPULSE_* variables
// (EnvVars); the cloud comes from OS_CLOUD separately. All bad values are
// reported at once.
func ComprehensiveFromEnv() (ComprehensiveOptions, error) {
	f, ferr := FromEnv()
	o := ComprehensiveOptions{
		RunID:             f.RunID,
		ImageFile:         f.ImageFile,
		Image:             f.Image,
		Flavor:            f.Flavor,
		ExternalNetwork:   f.ExternalNetwork,
		CIDR:              os.Getenv("CLOUDPULSE_COMPREHENSIVE_CIDR"),
		SSHUser:           f.SSHUser,
		Hosts:             f.Hosts,
		ServerGroupPolicy: f.ServerGroupPolicy,
		ExternalProbe:     os.Getenv("CLOUDPULSE_EXTERNAL_PROBE"),
		ApplyTimeout:      f.ApplyTimeout,
		ValidateTimeout:   f.ValidateTimeout,
		DestroyTimeout:    f.DestroyTimeout,
	}
	errs := []error{ferr}
	if v := os.Getenv("CLOUDPULSE_NETWORK_MTU"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 576 || n > 9216 {
			errs = append(errs, fmt.Errorf("CLOUDPULSE_NETWORK_MTU=%q: use a number from 576 to 9216, e.g. 8950", v))
		}
		o.NetworkMTU = n
	}
	if v := os.Getenv("CLOUDPULSE_MAX_PARALLEL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("CLOUDPULSE_MAX_PARALLEL=%q: use a number of 1 or more", v))
		}
		o.MaxParallel = n
	}
	switch v := os.Getenv("CLOUDPULSE_FULL_MESH"); v {
	case "", "0", "false":
	case "1", "true":
		o.FullMesh = true
	default:
		errs = append(errs, fmt.Errorf("CLOUDPULSE_FULL_MESH=%q: use 1 or 0", v))
	}
	if v := os.Getenv("CLOUDPULSE_BLOCKED_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("CLOUDPULSE_BLOCKED_WINDOW=%q: use a positive duration such as 5s", v))
		}
		o.BlockedWindow = d
	}
	return o, errors.Join(errs...)
}
