package scenario

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/report"
)

var t0 = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// ran is a passed check that started at t0+at and ran for d seconds.
func ran(name string, at, d float64, details ...string) check.Result {
	r := check.Result{Name: name, OK: true, StartedAt: t0.Add(sec(at)), Duration: sec(d)}
	if len(details) > 0 {
		r.Details = map[string]string{}
		for i := 0; i+1 < len(details); i += 2 {
			r.Details[details[i]] = details[i+1]
		}
	}
	return r
}

// twoHostRun is a comprehensive run on compute-1 and compute-2 (and the
// target): init 5 s, apply 100 s, outputs 2 s, three stages, destroy 60 s.
func twoHostRun() Result {
	tl := &report.Timeline{}
	tl.Add("tofu init", t0, sec(5), nil)
	tl.Add("tofu apply", t0.Add(sec(5)), sec(100), nil)
	tl.Add("tofu outputs", t0.Add(sec(105)), sec(2), nil)
	tl.Add("tofu destroy", t0.Add(sec(170)), sec(60), nil)
	tl.Add("no leftovers", t0.Add(sec(230)), sec(3), nil)
	checks := []check.Result{
		{Name: "boot/compute-3", Skipped: true, Reason: "disabled", StartedAt: t0}, // precheck: in no stage
		// reach
		ran("ping/compute-1", 110, 20, "boot_seconds", "30.0"),
		ran("ssh/compute-1", 110, 25, "boot_seconds", "30.0"),
		ran("ping/compute-2", 110, 40, "boot_seconds", "35.5"),
		ran("ssh/target", 110, 10, "boot_seconds", "12.0"),
		// from-guest
		ran("gateway/compute-1", 151, 3),
		ran("east-west/compute-1→compute-2", 151, 4),
		ran("mtu/compute-2→compute-1", 151, 9),
		// security-groups
		ran("sg/runner→target/icmp", 161, 6),
		ran("sg/compute-1→target/icmp", 161, 2),
	}
	return Result{Wall: sec(230), Timeline: tl, Checks: checks, Stages: []StageRun{
		{Name: "reach", Started: t0.Add(sec(110)), Duration: sec(40.5), First: 1, End: 5},
		{Name: "from-guest", Started: t0.Add(sec(151)), Duration: sec(9.5), First: 5, End: 8},
		{Name: "security-groups", Started: t0.Add(sec(161)), Duration: sec(6.5), First: 8, End: 10},
	}}
}

func TestCriticalPathIsBootPlusTheLongestCheckOfEachStage(t *testing.T) {
	sp := CriticalPath(twoHostRun())
	assert.Equal(t, []string{"reach", "from-guest", "security-groups"}, sp.Stages)
	assert.Equal(t, []VMPath{
		// boot 30 + ssh 25 + east-west 4 (its source) + sg 2
		{VM: "compute-1", Boot: sec(30), Stages: []time.Duration{sec(25), sec(4), sec(2)}, Total: sec(61)},
		// boot 35.5 + ping 40 + mtu 9 + nothing in security-groups
		{VM: "compute-2", Boot: sec(35.5), Stages: []time.Duration{sec(40), sec(9), 0}, Total: sec(84.5)},
		// boot 12 + ssh 10 + runner→target 6
		{VM: "target", Boot: sec(12), Stages: []time.Duration{sec(10), 0, sec(6)}, Total: sec(28)},
	}, sp.VMs)
	assert.Equal(t, "compute-2", sp.Slowest.VM)
	assert.Equal(t, sec(230), sp.Wall)
	assert.Equal(t, sec(100), sp.Apply)
	assert.Equal(t, sec(60), sp.Destroy)
	assert.Equal(t, sec(57.5), sp.Validations, "first stage's start to last stage's end")
	assert.Equal(t, sec(230-84.5-60), sp.Serial, "wall − slowest VM's path − destroy")
	assert.Equal(t, "wall 230.0s: apply 100.0s, validations 57.5s, destroy 60.0s; slowest VM compute-2: 84.5s "+
		"(boot 35.5s, reach 40.0s, from-guest 9.0s, security-groups 0.0s); serial 85.5s", sp.String())
}

// A check that waits for a free slot (MaxParallel 1) is timed from its start:
// each VM's own path stays 10 s, the wait is the harness's serial time.
func TestCriticalPathCountsWaitingForASlotAsSerial(t *testing.T) {
	res := Result{Wall: sec(20), Timeline: &report.Timeline{},
		Checks: []check.Result{ran("ping/compute-1", 0, 10), ran("ping/compute-2", 10, 10)},
		Stages: []StageRun{{Name: "reach", Started: t0, Duration: sec(20), First: 0, End: 2}}}
	sp := CriticalPath(res)
	assert.Equal(t, sec(10), sp.Slowest.Total)
	assert.Equal(t, "compute-1", sp.Slowest.VM, "a tie goes to the first by name")
	assert.Equal(t, sec(10), sp.Serial)
}

func TestCriticalPathOfARunThatCheckedNothing(t *testing.T) {
	tl := &report.Timeline{}
	tl.Add("tofu apply", t0, sec(50), nil)
	tl.Add("tofu destroy", t0.Add(sec(50)), sec(20), nil)
	sp := CriticalPath(Result{Wall: sec(75), Timeline: tl})
	assert.Empty(t, sp.VMs)
	assert.Equal(t, sec(55), sp.Serial)
	assert.Equal(t, "wall 75.0s: apply 50.0s, validations 0.0s, destroy 20.0s; no VM checked; serial 55.0s", sp.String())
}

func TestRunSuiteSaysWhichResultsEachStageHas(t *testing.T) {
	slow := check.Check{Name: "ping/vm-1", Run: func(context.Context) error { time.Sleep(20 * time.Millisecond); return nil }}
	rs, stages := runSuite(context.Background(), []Stage{
		{Name: "reach", Checks: []check.Check{slow, pass("ssh/vm-1")}},
		{Name: "from-guest", Concurrency: 1, StopOnFailure: true, Checks: []check.Check{fail("gateway/vm-1", "no route")}},
		{Name: "security-groups", Checks: []check.Check{pass("sg/runner→target/ssh")}},
	}, time.Minute, &report.Timeline{}, nil)
	require.Len(t, rs, 4)
	require.Len(t, stages, 3)
	for i, want := range []struct {
		name       string
		first, end int
	}{{"reach", 0, 2}, {"from-guest", 2, 3}, {"security-groups", 3, 4}} {
		assert.Equal(t, want.name, stages[i].Name)
		assert.Equal(t, [2]int{want.first, want.end}, [2]int{stages[i].First, stages[i].End}, want.name)
	}
	assert.GreaterOrEqual(t, stages[0].Duration, 20*time.Millisecond, "reach lasts as long as its slowest check")
	assert.False(t, stages[1].Started.Before(stages[0].Started.Add(stages[0].Duration)), "stages run one after another")
	assert.Equal(t, "skip not run: gateway/vm-1 failed", verdicts(rs)["sg/runner→target/ssh"], "a skipped stage is still a stage")
}
