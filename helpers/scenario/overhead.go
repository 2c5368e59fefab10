package scenario

import (
	"syscall"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/report"
)

// harnessCPU is the CPU time (user+system) used so far by this process and by
// the children it has waited for — tofu and, through tofu, the OpenStack
// provider plugin. On a run that mostly waits for the cloud, this is what the
// harness itself costs.
func harnessCPU() time.Duration {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// overhead reports the harness's CPU time as a share of the run's wall time.
func overhead(wall, cpu time.Duration) report.Overhead {
	o := report.Overhead{WallSeconds: wall.Seconds(), HarnessSeconds: cpu.Seconds()}
	o.CloudSeconds = o.WallSeconds - o.HarnessSeconds
	if wall > 0 {
		o.Percent = 100 * cpu.Seconds() / wall.Seconds()
	}
	return o
}
