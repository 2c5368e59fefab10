package scenario

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/report"
)

func pass(name string) check.Check {
	return check.Check{Name: name, Run: func(context.Context) error { return nil }}
}

func fail(name, msg string) check.Check {
	return check.Check{Name: name, Run: func(context.Context) error { return errors.New(msg) }}
}

func verdicts(rs []check.Result) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[r.Name] = string(r.Status()) + " " + r.Detail()
	}
	return m
}

func TestStagesStopOnFailureSkipsTheRestNamingTheFailure(t *testing.T) {
	var seen []check.Result
	rs := runStages(context.Background(), []Stage{
		{Name: "in order", Concurrency: 1, StopOnFailure: true, Checks: []check.Check{pass("ping/vm-1"), fail("ssh/vm-1", "no route"), pass("http/vm-1")}},
		{Name: "later", Checks: []check.Check{pass("volume/detach")}},
	}, time.Minute, &report.Timeline{}, func(r check.Result) { seen = append(seen, r) })
	assert.Equal(t, map[string]string{
		"ping/vm-1":     "pass ",
		"ssh/vm-1":      "fail no route",
		"http/vm-1":     "skip not run: ssh/vm-1 failed",
		"volume/detach": "skip not run: ssh/vm-1 failed",
	}, verdicts(rs))
	assert.Len(t, seen, 4, "every verdict, skips included, reaches OnResult")
	assert.Equal(t, []string{"ping/vm-1", "ssh/vm-1", "http/vm-1", "volume/detach"}, resultNames(rs), "results keep the checks' order")
}

func TestStagesReportAllRunsEveryCheckAndTheNextStage(t *testing.T) {
	rs := runStages(context.Background(), []Stage{
		{Name: "matrix", Concurrency: 3, Checks: []check.Check{fail("sg/runner→target/icmp", "answered"), pass("sg/runner→target/ssh"), fail("sg/vm-2→target/http", "answered")}},
		{Name: "next", Checks: []check.Check{pass("mtu/vm-1→vm-2")}},
	}, time.Minute, &report.Timeline{}, nil)
	assert.Equal(t, map[string]string{
		"sg/runner→target/icmp": "fail answered",
		"sg/runner→target/ssh":  "pass ",
		"sg/vm-2→target/http":   "fail answered",
		"mtu/vm-1→vm-2":         "pass ",
	}, verdicts(rs))
}

func TestStagesConcurrentStopOnFailureSkipsLaterStages(t *testing.T) {
	rs := runStages(context.Background(), []Stage{
		{Name: "reach", Concurrency: 2, StopOnFailure: true, Checks: []check.Check{pass("ping/compute-1"), fail("ping/compute-2", "timeout")}},
		{Name: "later", Checks: []check.Check{pass("east-west/compute-1→compute-2")}},
	}, time.Minute, &report.Timeline{}, nil)
	assert.Equal(t, "skip not run: ping/compute-2 failed", verdicts(rs)["east-west/compute-1→compute-2"])
}

func TestCheckDetailsReachTheResult(t *testing.T) {
	rs := runStages(context.Background(), []Stage{{Name: "x", Checks: []check.Check{{
		Name:    "mtu/compute-1→compute-2",
		Details: map[string]string{"from": "10.43.0.5"},
		Run: func(ctx context.Context) error {
			check.SetDetail(ctx, "path_mtu", "8950")
			return nil
		},
	}}}}, time.Minute, &report.Timeline{}, nil)
	require.Len(t, rs, 1)
	assert.Equal(t, map[string]string{"from": "10.43.0.5", "path_mtu": "8950"}, rs[0].Details)
}

func resultNames(rs []check.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestRegistryListsFunctionalFirstAndNamesTheChoicesOfAnUnknown(t *testing.T) {
	assert.Equal(t, "functional", Names()[0])
	_, err := Lookup("nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no scenario "nope": use one of `)
	assert.Contains(t, err.Error(), "functional")
}

func TestOnlyKeepsTheNamedChecksOfEachStage(t *testing.T) {
	stages := []Stage{
		{Name: "reach", Checks: []check.Check{pass("ping/compute-1"), pass("ssh/compute-1")}},
		{Name: "from-guest", Checks: []check.Check{pass("mtu/compute-1→compute-2"), pass("gateway/compute-1")}},
		{Name: "security-groups", Checks: []check.Check{pass("sg/runner→target/icmp")}},
	}
	got := only(stages, []string{"mtu/", "sg/"})
	require.Len(t, got, 2)
	assert.Equal(t, "from-guest", got[0].Name)
	assert.Equal(t, []string{"mtu/compute-1→compute-2"}, []string{got[0].Checks[0].Name})
	assert.Len(t, got[0].Checks, 1)
	assert.Equal(t, "security-groups", got[1].Name)
	assert.Len(t, only(stages, nil), 3, "no prefixes: every check")
}

func TestWorkspaceTakesTheScenariosParallelism(t *testing.T) {
	t.Setenv("CLOUDPULSE_STATE_DIR", t.TempDir())
	s, err := NewComprehensive(ComprehensiveOptions{Cloud: &cloud.Config{Name: "c", File: "/x/clouds.yaml"}, MaxParallel: 7})
	require.NoError(t, err)
	ws, err := Workspace(s)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Remove() })
	assert.Equal(t, 7, ws.Parallelism)
}
