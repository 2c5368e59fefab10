package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// horizonCheck logs in to Horizon as the cloud's own user (same clouds.yaml
// credentials as the API checks).
func horizonCheck(url string, cfg *cloud.Config) check.Check {
	domain := cfg.Auth.DomainName
	if domain == "" {
		domain = "Default"
	}
	return endpoint.Horizon(url, cfg.Auth.Username, cfg.Auth.Password, domain)
}

// writeLatency prints p50/p95/max per service of the API requests the checks made.
func writeLatency(w io.Writer, stats []cloud.ServiceLatency) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tREQUESTS\tERRORS\tP50\tP95\tMAX")
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", s.Service, s.Count, s.Errors, ms(s.P50), ms(s.P95), ms(s.Max))
	}
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func scenarioSummary(r scenario.Result, cloudName string) report.Summary {
	return report.Summary{Name: r.Scenario, RunID: r.RunID, Cloud: cloudName, Started: time.Now().Add(-r.Wall),
		Seconds: r.Wall.Seconds(), OK: r.Err == nil, Steps: r.Timeline.Steps(), Overhead: &r.Overhead, Checks: r.Checks, Hosts: scenario.ByHost(r)}
}
