package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// labUpgrade runs scripts/lab/upgrade.sh with args; exit status 3 ("nothing
// to upgrade" / "the old versions cannot be had") comes back as errNoUpgrade
// with the script's one-line reason.
func labUpgrade(ctx context.Context, args ...string) (string, error) {
	root, err := tf.RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "lab", "upgrade.sh"), args...)
	cmd.Dir = root
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return text, fmt.Errorf("%w: %s", errNoUpgrade, lastLine(text))
	}
	if err != nil {
		return text, fmt.Errorf("scripts/lab/upgrade.sh %s: %w\n%s", strings.Join(args, " "), err, text)
	}
	return text, nil
}

var errNoUpgrade = errors.New("the lab cannot be upgraded")

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// onLab skips t unless it runs against the lab (CLOUDPULSE_LAB=1).
func onLab(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CLOUDPULSE_LAB") != "1" {
		t.Skip(what + ": only on the lab (CLOUDPULSE_LAB=1)")
	}
}

// reportDir is where cloud tests keep files for people to read (the JUnit
// reports' directory under make test), else a temporary directory.
func reportDir(t *testing.T) string {
	if p := os.Getenv("CLOUDPULSE_REPORT"); p != "" {
		return filepath.Dir(p)
	}
	return t.TempDir()
}

// testCalibrate injects an outage of known length on one path — vm-1's web
// server stopped inside the guest, timed by the guest's own clock — while the
// watcher probes every path of the snapshot: the outage it measures on
// http/vm-1 must match within the probe interval, and the other paths stay up.
func testCalibrate(t *testing.T, ctx context.Context, dir string) {
	snap, err := scenario.LoadSnapshot(dir, "")
	require.NoError(t, err)
	paths, err := scenario.WatchPaths(dir, 0, 0)
	require.NoError(t, err)
	vm := snap.Servers[0]
	target := "http/" + vm.VM
	key, err := os.ReadFile(filepath.Join(dir, scenario.SnapshotKey))
	require.NoError(t, err)
	host := probe.Host{Address: vm.FloatingIP, User: snap.SSHUser, PrivateKey: key}

	const interval, outage = 200 * time.Millisecond, 3 * time.Second
	w := probe.StartWatch(ctx, paths, probe.WatchOptions{Interval: interval, Timeout: scenario.WatchProbeTimeout})
	time.Sleep(2 * time.Second) // every path up and its ssh session kept, before the outage
	// uptime (centiseconds) around the outage, read in the guest: the injected length is the guest's
	cmd := fmt.Sprintf("a=$(cut -d' ' -f1 /proc/uptime); killall httpd; sleep %d; httpd -p 80 -h /www; b=$(cut -d' ' -f1 /proc/uptime); echo $a $b", int(outage.Seconds()))
	out, err := probe.SSH(ctx, host, cmd)
	time.Sleep(2 * time.Second)
	rep := w.Stop()
	require.NoError(t, err, "inject the outage: %s", out)
	f := strings.Fields(out)
	require.Len(t, f, 2, "guest uptimes: %q", out)
	a, errA := strconv.ParseFloat(f[0], 64)
	b, errB := strconv.ParseFloat(f[1], 64)
	require.NoError(t, errors.Join(errA, errB))
	injected := time.Duration((b - a) * float64(time.Second))

	for _, p := range rep.Paths {
		t.Logf("%-28s probes %3d failed %3d downtime %5.2fs longest %5.2fs outages %d", p.Name, p.Probes, p.Failed, p.Downtime.Seconds(), p.LongestGap.Seconds(), len(p.Outages))
		if p.Name == target {
			require.Len(t, p.Outages, 1, "one outage on %s", target)
			o := p.Outages[0]
			diff := o.Duration - injected
			t.Logf("calibration: injected %.2fs (guest clock), measured %.2fs, error %+.0f ms (tolerance ±%s)", injected.Seconds(), o.Duration.Seconds(), float64(diff)/1e6, interval)
			// the guest's uptime ticks in 10 ms: the tolerance is the interval plus that resolution
			assert.LessOrEqual(t, abs(diff), interval+10*time.Millisecond, "measured downtime matches the injected outage within the probe interval")
			continue
		}
		assert.Empty(t, p.Outages, "%s: no outage while only %s was down", p.Name, target)
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// testLabUpgrade upgrades the lab's packages (scripts/lab/upgrade.sh run) with
// the watcher probing every path of the snapshot, and keeps the reports:
// the downtime per path (JSON, SVG) and the upgrade's own report (steps, each
// API's downtime behind HAProxy).
func testLabUpgrade(t *testing.T, ctx context.Context, dir string) {
	paths, err := scenario.WatchPaths(dir, 0, 0)
	require.NoError(t, err)
	out := reportDir(t)
	upReport := filepath.Join(out, "lab-upgrade.json")
	w := probe.StartWatch(ctx, paths, probe.WatchOptions{Interval: 200 * time.Millisecond, Timeout: scenario.WatchProbeTimeout})
	start := time.Now()
	text, uerr := labUpgrade(ctx, "run", "--report", upReport)
	took := time.Since(start)
	time.Sleep(2 * time.Second) // the last restart's effect, if any, is seen
	rep := w.Stop()
	if errors.Is(uerr, errNoUpgrade) {
		t.Skipf("%v", uerr)
	}
	t.Logf("lab upgrade took %.1fs:\n%s", took.Seconds(), lastLines(text, 30))
	require.NoError(t, uerr)

	b, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "upgrade-downtime.json"), b, 0o644))
	svg, err := os.Create(filepath.Join(out, "upgrade-downtime.svg"))
	require.NoError(t, err)
	require.NoError(t, rep.WriteSVG(svg))
	require.NoError(t, svg.Close())
	for _, p := range rep.Paths {
		t.Logf("%-28s probes %4d failed %4d downtime %6.2fs longest %6.2fs outages %d (threshold %s)", p.Name, p.Probes, p.Failed, p.Downtime.Seconds(), p.LongestGap.Seconds(), len(p.Outages), p.Threshold)
	}
	t.Logf("reports: %s, %s, %s", upReport, filepath.Join(out, "upgrade-downtime.json"), filepath.Join(out, "upgrade-downtime.svg"))
	for _, e := range rep.Exceeded() {
		t.Errorf("downtime over threshold during the lab upgrade: %v", e)
	}
}
