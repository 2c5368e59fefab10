package report_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/report"
)

// The package example (doc.go): time steps, then print them as a table.
func Example() {
	var tl report.Timeline
	stop := tl.Start("apply")
	stop(nil)
	stop = tl.Start("ssh")
	stop(errors.New("connection refused"))
	for _, s := range tl.Steps() {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s ok=%t %s", s.Name, s.OK, s.Error)))
	}
	_ = tl.Table() // the same steps with durations, for a test log
	// Output:
	// apply ok=true
	// ssh ok=false connection refused
}
