package tests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/service/store/pgtest"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestServeTwoInstancesTakeOver runs two real `cpulse serve` processes, A and
// B, on one PostgreSQL history (a throwaway cluster on loopback), each with a
// state directory of its own (as on two hosts) and the same state_key_file.
// A functional run posted to A keeps its OpenTofu state in the pg backend
// (schema cloudpulse_<run id>, nothing in A's workspace) and is SIGKILLed with
// A mid-apply, once that state holds something; B sees A's heartbeat stop,
// marks the run interrupted, rebuilds the run's workspace from the embedded
// fixture and the variables recorded in PostgreSQL and destroys through tofu
// from the state (then sweeps by the run id's tags as a safety net), so
// nothing tagged with the run id remains and the run's schema is dropped.
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
	bin, token, tokenFile := servedBinary(t, ctx, dir, "serve-shared-")
	stateKey := filepath.Join(dir, "state.key") // one file for both, as copied to every host
	require.NoError(t, os.WriteFile(stateKey, []byte(strings.Repeat("5e", 32)+"\n"), 0o600))
	db, err := sql.Open("pgx", history)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	// stateBytes is the size of the run's state in PostgreSQL; 0: none yet.
	stateBytes := func(runID string) int {
		var n int
		_ = db.QueryRowContext(ctx, `SELECT coalesce(octet_length(data), 0) FROM `+tf.SchemaName(runID)+`.states WHERE name = 'default'`).Scan(&n)
		return n
	}
	instance := func(name string) *served {
		config := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
token_file: %s
clouds: [%s]
intervals: {endpoint: 0, operator: 0, functional: 0, comprehensive: 0}
timeouts: {check: 60s, scenario: 15m}
history: {path: %q, retention: 24h}
state_key_file: %s
state_dir: %s
service_map: %s
`, tokenFile, cfg.Name, history, stateKey, filepath.Join(dir, name, "runs"), smap)), 0o600))
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
	// OpenTofu writes a remote state while it applies (not after each
	// resource): kill once it holds what was created so far.
	var first int
	waitUntil(t, ctx, 5*time.Minute, "the victim's state in PostgreSQL to hold its first resources", a, func() bool {
		n := stateBytes(runID)
		if first == 0 {
			first = n
		}
		ok, err := killPoints[1].reached(ctx, c, runID)
		return n > 0 && (n > first || (err == nil && ok))
	})
	t.Logf("run %s: state in PostgreSQL schema %s, %d bytes (encrypted)", runID, tf.SchemaName(runID), stateBytes(runID))
	assert.Contains(t, a.log.String(), "state in PostgreSQL (schema "+tf.SchemaName(runID)+")")
	local, _ := filepath.Glob(filepath.Join(dir, "a", "runs", "*", "fixtures", "*", "*.tfstate*"))
	assert.Empty(t, local, "no state in A's workspace")
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
	t.Logf("nothing tagged %s remains, %.0fs after the kill", runID, time.Since(killed).Seconds())
	waitUntil(t, ctx, 2*time.Minute, "B to drop the run's schema", b, func() bool {
		var n int
		return db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, tf.SchemaName(runID)).Scan(&n) == nil && n == 0
	})
	said := b.log.String()
	assert.Contains(t, said, "cleanup: run "+runID+": no workspace here; rebuilt it from fixtures/functional and its state in PostgreSQL (schema "+tf.SchemaName(runID)+")")
	m := regexp.MustCompile(`cleanup: run ` + runID + `: destroyed through tofu from its state in PostgreSQL in ([0-9.]+)s: ok, ([0-9]+) resources destroyed`).FindStringSubmatch(said)
	if assert.NotNil(t, m, "B destroys through tofu from the state") {
		n, _ := strconv.Atoi(m[2])
		assert.Positive(t, n, "the state B destroyed from held the run's resources")
		t.Logf("B destroyed %s resources through tofu in %ss", m[2], m[1])
	}
	assert.NotContains(t, said, "cleanup: run "+runID+": no workspace; deleted", "not by tags alone")
	t.Logf("B said (cleanup lines):\n%s", grepLines(said, "cleanup: run "+runID))
}

// grepLines are the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
