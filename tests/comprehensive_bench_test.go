package tests

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// scaleRunTimeout bounds one run of BenchmarkComprehensiveScale (destroy
// included, see scenario.FitBudget): -timeout 60m holds three.
const scaleRunTimeout = 18 * time.Minute

// BenchmarkComprehensiveScale measures the harness, not the machine, as the
// number of hosts grows: for N = 1, 2, … up to the usable compute hosts the
// precheck finds as admin (CLOUDPULSE_ADMIN_CLOUD; CLOUDPULSE_HOSTS narrows
// them), sub-benchmark hosts=N runs the comprehensive scenario once, pinned
// to the first N hosts, and reports in seconds: wall-s (init to the end of
// destroy), apply-s, validations-s, destroy-s, critical-s (the slowest VM's
// own critical path: nova's created → launched plus, stage by stage, its
// longest check; see scenario.CriticalPath), boot-s (that VM's boot) and
// serial-s = wall − critical − destroy, the time the harness and the run's
// shared steps add, which must not grow with N (VM boots slow down with N on
// a small machine; that is in critical-s). A table of every N is printed at
// the end; each run logs its split and each VM's path (-v: its progress too).
//
//	make bench-scale   # the lab: N = 1, 2; `LAB_COMPUTES=3 make lab-up` first for a third host
//	CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -v -run '^$' -bench ComprehensiveScale -benchtime 1x -timeout 60m ./tests/
//
// Each N is one run of at most 18 minutes; -bench 'ComprehensiveScale/hosts=2$'
// runs one N only (give -timeout 20m per N run).
func BenchmarkComprehensiveScale(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: cloud benchmarks skipped")
	}
	name := os.Getenv("CLOUDPULSE_ADMIN_CLOUD")
	if name == "" {
		b.Skip("set CLOUDPULSE_ADMIN_CLOUD to a clouds.yaml cloud with the admin role")
	}
	if os.Getenv("CLOUDPULSE_RUN_ID") != "" {
		b.Fatal("CLOUDPULSE_RUN_ID is set: every N needs a run id of its own; unset it (CLOUDPULSE_RUN_PREFIX is fine)")
	}
	cfg, err := cloud.Load(name)
	require.NoError(b, err)
	hosts := scaleHosts(b, cfg)
	b.Logf("usable compute hosts: %s", strings.Join(hosts, ", "))

	var rows []scaleRow
	for n := 1; n <= len(hosts); n++ {
		ok := b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			var sp scenario.TimeSplit
			for b.Loop() {
				sp = scaleRun(b, cfg, hosts[:n])
			}
			b.ReportMetric(sp.Wall.Seconds(), "wall-s")
			b.ReportMetric(sp.Apply.Seconds(), "apply-s")
			b.ReportMetric(sp.Validations.Seconds(), "validations-s")
			b.ReportMetric(sp.Destroy.Seconds(), "destroy-s")
			b.ReportMetric(sp.Slowest.Total.Seconds(), "critical-s")
			b.ReportMetric(sp.Slowest.Boot.Seconds(), "boot-s")
			b.ReportMetric(sp.Serial.Seconds(), "serial-s")
			rows = append(rows, scaleRow{n: n, sp: sp})
		})
		if !ok {
			break // a failed run measures nothing; more hosts would fail the same way
		}
	}
	// printed, not logged: go test drops a parent benchmark's log without -v
	fmt.Printf("comprehensive scale (seconds):\n%s", scaleTable(rows))
}

type scaleRow struct {
	n  int
	sp scenario.TimeSplit
}

// scaleHosts are the compute hosts a comprehensive run as admin would pin to.
func scaleHosts(b *testing.B, cfg *cloud.Config) []string {
	o, err := scenario.ComprehensiveFromEnv()
	require.NoError(b, err)
	o.Cloud = cfg
	s, err := scenario.NewComprehensive(o)
	require.NoError(b, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cfg.Connect(ctx)
	require.NoError(b, err)
	require.NoError(b, s.Precheck(ctx, c))
	for _, r := range s.PrecheckResults() {
		b.Logf("precheck: %s %s %s", r.Name, r.Status(), r.Detail())
	}
	hosts, _ := s.Vars()["hosts"].([]string)
	require.NotEmpty(b, hosts, "cloud %q: as admin the precheck pins every VM to a compute host", cfg.Name)
	return hosts
}

// scaleRun runs the comprehensive scenario once pinned to hosts and splits its wall time.
func scaleRun(b *testing.B, cfg *cloud.Config, hosts []string) scenario.TimeSplit {
	o, err := scenario.ComprehensiveFromEnv() // a fresh run id each time
	require.NoError(b, err)
	o.Cloud, o.Hosts = cfg, hosts
	s, err := scenario.NewComprehensive(o)
	require.NoError(b, err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, scaleRunTimeout)
	defer cancel()
	c, err := cfg.Connect(ctx)
	require.NoError(b, err)
	require.NoError(b, s.Precheck(ctx, c))
	ws, err := scenario.Workspace(s)
	require.NoError(b, err)
	tools, err := tf.FindTools()
	require.NoError(b, err)
	b.Logf("run %s pinned to %s, state in %s", s.RunID(), strings.Join(hosts, ", "), ws.Root)
	// Without -v go test keeps a benchmark's first 10 log lines only: the
	// run's progress then stays out, so that its split below is kept.
	h := scenario.Hooks{}
	if testing.Verbose() {
		h.Logf = b.Logf
	}
	res := scenario.Run(ctx, c, s, tf.NewTerratest(b, ws, tools, s.TerraformEnv()), h)

	sp := scenario.CriticalPath(res)
	b.Logf("run %s: %s", res.RunID, sp)
	for _, p := range sp.VMs {
		line := fmt.Sprintf("  %-12s critical path %6.1fs: boot %5.1fs", p.VM, p.Total.Seconds(), p.Boot.Seconds())
		for i, d := range p.Stages {
			line += fmt.Sprintf(", %s %.1fs", sp.Stages[i], d.Seconds())
		}
		b.Logf("%s", line)
	}
	for _, f := range res.Failed() {
		b.Logf("failed: %s: %s", f.Name, f.Error)
	}
	require.NoError(b, res.Err, "comprehensive run %s", res.RunID)
	require.Empty(b, res.Leftovers, "resources tagged with run %s after destroy", res.RunID)
	return sp
}

func scaleTable(rows []scaleRow) string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "hosts\twall\tapply\tvalidations\tdestroy\tcritical\t(boot)\tserial\tslowest VM\t")
	for _, r := range rows {
		sp := r.sp
		fmt.Fprintf(w, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", r.n, sp.Wall.Seconds(), sp.Apply.Seconds(),
			sp.Validations.Seconds(), sp.Destroy.Seconds(), sp.Slowest.Total.Seconds(), sp.Slowest.Boot.Seconds(), sp.Serial.Seconds(), sp.Slowest.VM)
	}
	_ = w.Flush()
	return sb.String()
}
