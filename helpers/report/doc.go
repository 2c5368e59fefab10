// Package report turns what a run measured into something people and machines
// read: a step table for the test log, and JSON for benchmarks
// (CLOUDPULSE_REPORT).
//
//	var tl report.Timeline
//	stop := tl.Start("apply")
//	err := apply()
//	stop(err)
//	fmt.Print(tl.Table())
package report
