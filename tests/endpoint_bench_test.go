package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
)

// BenchmarkEndpointSet measures the whole endpoint check set against OS_CLOUD:
// ns/op is the wall time of one set (the goal on the lab: ≤ 2 s), and each
// service's API latency over every request of the run is reported as
// <service>-p50-ms and <service>-p95-ms. The token is issued once, outside
// the timing, as a long-running checker keeps it.
//
//	OS_CLOUD=mycloud go test -run '^$' -bench EndpointSet -benchtime 30x ./tests/
func BenchmarkEndpointSet(b *testing.B) {
	cfg := cloudConfig(b)
	ctx := context.Background()
	c, rec, _ := connectRecorded(b, ctx, cfg)
	rec.Reset()
	checks := endpoint.Checks(c)
	b.ResetTimer()
	for b.Loop() {
		results := check.Runner{Timeout: checkTimeout}.Run(ctx, checks...)
		if s := check.Summarize(results); s.Failed > 0 {
			var names []string
			for _, r := range results {
				if r.Status() == check.Failed {
					names = append(names, r.Name+": "+r.Error)
				}
			}
			b.Fatalf("%d endpoint checks failed: %s", s.Failed, strings.Join(names, "; "))
		}
	}
	b.StopTimer()
	for _, s := range rec.Stats() {
		b.ReportMetric(float64(s.P50)/float64(time.Millisecond), s.Service+"-p50-ms")
		b.ReportMetric(float64(s.P95)/float64(time.Millisecond), s.Service+"-p95-ms")
	}
}
