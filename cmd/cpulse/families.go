package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

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
