package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/service/store/pgtest"
)

// TestServeTwoInstancesTakeOver runs two real `cpulse serve` processes, A and
// B, on one PostgreSQL history (a throwaway cluster on loopback), each with a
// state directory of its own (as on two hosts). A functional run posted to A
// is SIGKILLed with A mid-apply; B sees A's heartbeat stop, marks the run
// interrupted and cleans it up (no workspace of that run on B: by the run id's
// tags through the APIs), so nothing tagged with the run id remains.
//
// Lab only (CLOUDPULSE_LAB=1).
func TestServeTwoInstancesTakeOver(t *testing.T) {
	cfg, ctx, c := labCloud(t, "kills a service instance and its")
	smap := serviceMapPath(t)
	t.Parallel() // its services schedule and kill only their own runs; out of the lab's upgrade and faults
	holdLabSteady(t)
	srv, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNoPostgres) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	t.Cleanup(func() { srv.Stop() })
	history, err := srv.NewDB(ctx)
	require.NoError(t, err)

	dir := t.TempDir()
	built, err := os.ReadFile(buildCpulse(t, ctx))
	require.NoError(t, err)
	bin := filepath.Join(dir, "cpulse")
	require.NoError(t, os.WriteFile(bin, built, 0o755))
	token := "serve-shared-" + scenario.NewRunID()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	instance := func(name string) *served {
		config := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
token_file: %s
clouds: [%s]
intervals: {endpoint: 0, operator: 0, functional: 0, comprehensive: 0}
timeouts: {check: 60s, scenario: 15m}
history: {path: %q, retention: 24h}
state_dir: %s
service_map: %s
`, tokenFile, cfg.Name, history, filepath.Join(dir, name, "runs"), smap)), 0o600))
		return startServe(t, bin, config, token)
	}
	a, b := instance("a"), instance("b")

	var posted struct{ Handle string }
	require.Equal(t, 202, a.call(t, "POST", "/cpulse/check", `{"type":"functional"}`, &posted))
	victim := posted.Handle
	var runID string
	waitUntil(t, ctx, 3*time.Minute, "the run id of the victim", a, func() bool {
		if r := b.result(t, victim); len(r.RunIDs) > 0 { // B reads it from the shared history
			runID = r.RunIDs[0]
		}
		return runID != ""
	})
	t.Cleanup(func() { // safety net
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if swept, err := scenario.Sweep(sctx, c, runID); len(swept) > 0 || err != nil {
			t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), runID, err)
		}
	})
	waitUntil(t, ctx, 5*time.Minute, "the victim's first resources", a, func() bool {
		ok, err := killPoints[0].reached(ctx, c, runID)
		return err == nil && ok
	})
	time.Sleep(5 * time.Second) // deeper into the apply
	require.NoError(t, syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL))
	<-a.exited
	killed := time.Now()
	left, err := scenario.Leftovers(ctx, c, runID)
	require.NoError(t, err)
	require.NotEmpty(t, left, "the kill must leave resources for this test to mean anything")
	t.Logf("killed instance A mid-apply of run %s: %d resources left", runID, len(left))
	assert.Equal(t, "running", b.result(t, victim).State, "B does not take over a run whose owner may be alive")

	waitUntil(t, ctx, 2*time.Minute, "B to mark the dead instance's run interrupted", b, func() bool {
		return b.result(t, victim).State == "interrupted"
	})
	t.Logf("B marked it interrupted %.0fs after the kill", time.Since(killed).Seconds())
	waitUntil(t, ctx, 6*time.Minute, "the interrupted run's resources to be gone", b, func() bool {
		rest, err := scenario.Leftovers(ctx, c, runID)
		return err == nil && len(rest) == 0
	})
	t.Logf("nothing tagged %s remains, %.0fs after the kill; B said (last 10 lines):\n%s", runID, time.Since(killed).Seconds(), lastN(b.log.String(), 10))
}
