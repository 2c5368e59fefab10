package scenario

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// EnvVars documents the variables FromEnv reads (README lists them too).
var EnvVars = map[string]string{
	"CLOUDPULSE_IMAGE":               "image name to boot (default cloudpulse-tiny)",
	"CLOUDPULSE_IMAGE_FILE":          "upload this file as the image first (default: use CLOUDPULSE_IMAGE as it is)",
	"CLOUDPULSE_FLAVOR":              "flavor (default cp.tiny)",
	"CLOUDPULSE_EXTERNAL_NETWORK":    "external network for the router and floating IPs (default public)",
	"CLOUDPULSE_CIDR":                "tenant subnet (default 10.42.0.0/24)",
	"CLOUDPULSE_SSH_USER":            "login user of the image (default root)",
	"CLOUDPULSE_SERVER_GROUP_POLICY": "anti-affinity (two hosts), affinity, soft-… (default: none)",
	"CLOUDPULSE_HOSTS":               "comma-separated hypervisors to pin the VMs to (admin)",
	"CLOUDPULSE_CREATE_PROJECT":      "1: operator mode, a fresh project + user (admin cloud)",
	"CLOUDPULSE_RUN_PREFIX":          "first part of the generated run id: 1-8 lower-case letters (default cp)",
	"CLOUDPULSE_RUN_ID":              "run id of the generated form, e.g. a parent process's (default: generated)",
	"CLOUDPULSE_APPLY_TIMEOUT":       "apply timeout (default 20m)",
	"CLOUDPULSE_VALIDATE_TIMEOUT":    "timeout of each validation (default 5m)",
	"CLOUDPULSE_DESTROY_TIMEOUT":     "destroy timeout (default 15m)",
	"CLOUDPULSE_REPORT":              "write the step timings as JSON to this file",
}

// FromEnv fills the options from the CLOUDPULSE_* variables (EnvVars); the
// cloud comes from OS_CLOUD separately. All bad values are reported at once.
func FromEnv() (FunctionalOptions, error) {
	o := FunctionalOptions{
		Image:             os.Getenv("CLOUDPULSE_IMAGE"),
		ImageFile:         os.Getenv("CLOUDPULSE_IMAGE_FILE"),
		Flavor:            os.Getenv("CLOUDPULSE_FLAVOR"),
		ExternalNetwork:   os.Getenv("CLOUDPULSE_EXTERNAL_NETWORK"),
		CIDR:              os.Getenv("CLOUDPULSE_CIDR"),
		SSHUser:           os.Getenv("CLOUDPULSE_SSH_USER"),
		ServerGroupPolicy: os.Getenv("CLOUDPULSE_SERVER_GROUP_POLICY"),
		RunID:             os.Getenv("CLOUDPULSE_RUN_ID"),
	}
	var errs []error
	if prefix := os.Getenv("CLOUDPULSE_RUN_PREFIX"); prefix != "" {
		if o.RunID != "" {
			errs = append(errs, errors.New("CLOUDPULSE_RUN_PREFIX and CLOUDPULSE_RUN_ID are both set: set only the prefix"))
		} else if id, err := tf.NewRunID(prefix); err != nil {
			errs = append(errs, fmt.Errorf("CLOUDPULSE_RUN_PREFIX=%q: use 1-8 lower-case letters (a-z)", prefix))
		} else {
			o.RunID = id
		}
	}
	if h := os.Getenv("CLOUDPULSE_HOSTS"); h != "" {
		for _, x := range strings.Split(h, ",") {
			if x = strings.TrimSpace(x); x != "" {
				o.Hosts = append(o.Hosts, x)
			}
		}
	}
	switch v := os.Getenv("CLOUDPULSE_CREATE_PROJECT"); v {
	case "", "0", "false":
	case "1", "true":
		o.CreateProject = true
	default:
		errs = append(errs, fmt.Errorf("CLOUDPULSE_CREATE_PROJECT=%q: use 1 or 0", v))
	}
	for name, dst := range map[string]*time.Duration{
		"CLOUDPULSE_APPLY_TIMEOUT":    &o.ApplyTimeout,
		"CLOUDPULSE_VALIDATE_TIMEOUT": &o.ValidateTimeout,
		"CLOUDPULSE_DESTROY_TIMEOUT":  &o.DestroyTimeout,
	} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: use a positive duration such as 90s or 20m", name, v))
				continue
			}
			*dst = d
		}
	}
	return o, errors.Join(errs...)
}
