package main

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/metrics"
)

// pushInterval completes --interval: its default is $CLOUDPULSE_PUSH_INTERVAL
// (a Go duration); a negative or unreadable one is a usage error.
func pushInterval(fs *flag.FlagSet, f *checkFlags) error {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "interval" })
	if !set {
		if env := os.Getenv("CLOUDPULSE_PUSH_INTERVAL"); env != "" {
			d, err := time.ParseDuration(env)
			if err != nil || d <= 0 {
				return usagef("check: CLOUDPULSE_PUSH_INTERVAL=%q: want how often the check runs, a duration such as 10m", env)
			}
			f.interval = d
		}
		return nil
	}
	if f.interval <= 0 {
		return usagef("check: --interval %s: want how often the check runs, a duration above zero such as 10m", f.interval)
	}
	return nil
}

// pushCheck pushes a run of cpulse check to f.push with f.interval (0: none).
func pushCheck(ctx context.Context, f checkFlags, cloudName, family string, results []check.Result, api []cloud.APIRequest, started time.Time) error {
	return metrics.PushRun(ctx, f.push, cloudName, family, results, api, started, f.interval)
}
