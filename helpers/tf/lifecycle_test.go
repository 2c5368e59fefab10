package tf_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the real pinned OpenTofu (make tools) on fixtures/selftest,
// which needs no cloud.

type fixture struct {
	tools  tf.Tools
	marker string
	ws     *tf.Workspace
}

func newFixture(t *testing.T, vars map[string]any) *fixture {
	t.Helper()
	tools, err := tf.FindTools()
	require.NoError(t, err)
	dir := t.TempDir()
	id, err := tf.NewRunID("t")
	require.NoError(t, err)
	all := map[string]any{"run_id": id, "marker_dir": dir}
	for k, v := range vars {
		all[k] = v
	}
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: id, Vars: all, StateRoot: t.TempDir()})
	require.NoError(t, err)
	return &fixture{tools: tools, marker: filepath.Join(dir, id), ws: ws}
}

func (f *fixture) exec(t *testing.T) tf.Runner {
	r, err := tf.NewExec(f.ws, f.tools, nil, nil)
	require.NoError(t, err)
	return r
}

type stepLog struct {
	mu    sync.Mutex
	steps []string
}

func (s *stepLog) record(step string, _ time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		step += "!"
	}
	s.steps = append(s.steps, step)
}

func TestLifecycleHappyPathBothRunners(t *testing.T) {
	for name, mk := range map[string]func(*testing.T, *fixture) tf.Runner{
		"exec":      func(t *testing.T, f *fixture) tf.Runner { return f.exec(t) },
		"terratest": func(t *testing.T, f *fixture) tf.Runner { return tf.NewTerratest(t, f.ws, f.tools, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			var log stepLog
			err := tf.Lifecycle(context.Background(), mk(t, f), tf.LifecycleOptions{OnStep: log.record},
				func(ctx context.Context, out tf.Outputs) error {
					assert.FileExists(t, f.marker, "apply created the marker")
					m, err := out.String("marker")
					require.NoError(t, err)
					assert.Equal(t, f.marker, m)
					var facts struct {
						Count int      `json:"count"`
						Names []string `json:"names"`
					}
					require.NoError(t, out.Decode("facts", &facts))
					assert.Equal(t, 2, facts.Count)
					assert.Equal(t, []string{"a", "b"}, facts.Names)
					return nil
				})
			require.NoError(t, err)
			assert.NoFileExists(t, f.marker, "destroy removed the marker")
			assert.NoDirExists(t, f.ws.Root, "workspace removed after destroy")
			assert.Equal(t, []string{"init", "apply", "outputs", "validate", "destroy"}, log.steps)
		})
	}
}

func TestLifecycleApplyFailureStillDestroys(t *testing.T) {
	f := newFixture(t, map[string]any{"fail_apply": true})
	var log stepLog
	called := false
	err := tf.Lifecycle(context.Background(), f.exec(t), tf.LifecycleOptions{OnStep: log.record},
		func(context.Context, tf.Outputs) error { called = true; return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "injected apply failure")
	assert.False(t, called, "validate must not run after a failed apply")
	assert.NoFileExists(t, f.marker, "destroy ran after the failed apply")
	assert.Equal(t, []string{"init", "apply!", "destroy"}, log.steps)
}

func TestLifecycleTimeoutStillDestroys(t *testing.T) {
	f := newFixture(t, map[string]any{"sleep_seconds": 60})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	start := time.Now()
	err := tf.Lifecycle(ctx, f.exec(t), tf.LifecycleOptions{ApplyGrace: time.Second},
		func(context.Context, tf.Outputs) error { return nil })
	require.Error(t, err)
	assert.Less(t, time.Since(start), 45*time.Second, "the slow apply was stopped")
	assert.NoFileExists(t, f.marker, "destroy ran with its own context after the timeout")
}

func TestLifecycleValidationFailureAndPanicStillDestroy(t *testing.T) {
	for name, tc := range map[string]struct {
		validate func(context.Context, tf.Outputs) error
		want     string
	}{
		"error": {func(context.Context, tf.Outputs) error { return errors.New("ping 172.24.4.10: no reply") }, "ping 172.24.4.10: no reply"},
		"panic": {func(context.Context, tf.Outputs) error { panic("validation blew up") }, "panic during run: validation blew up"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			err := tf.Lifecycle(context.Background(), f.exec(t), tf.LifecycleOptions{}, tc.validate)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NoFileExists(t, f.marker)
		})
	}
}

func TestLifecycleKeepOnSuccessThenDestroyFromState(t *testing.T) {
	f := newFixture(t, nil)
	err := tf.Lifecycle(context.Background(), f.exec(t), tf.LifecycleOptions{KeepOnSuccess: true},
		func(context.Context, tf.Outputs) error { return nil })
	require.NoError(t, err)
	assert.FileExists(t, f.marker, "kept")

	// A later process (the upgrade's post stage, or cleanup) opens the state directory and destroys.
	ws, err := tf.OpenWorkspace(f.ws.Root)
	require.NoError(t, err)
	assert.Equal(t, f.ws.Dir, ws.Dir)
	r, err := tf.NewExec(ws, f.tools, nil, nil)
	require.NoError(t, err)
	require.NoError(t, r.Destroy(context.Background()))
	assert.NoFileExists(t, f.marker)
}

func TestNewWorkspaceRejectsBadInput(t *testing.T) {
	_, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: "Bad_ID", StateRoot: t.TempDir()})
	assert.EqualError(t, err, `run id "Bad_ID" is not of the generated form <prefix><MMDDhhmm>-<8 hex digits>, e.g. cp12021042-0a1b2c3d: leave the run id unset (CLOUDPULSE_RUN_ID) and choose only its prefix (CLOUDPULSE_RUN_PREFIX)`)
	_, err = tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/nope", RunID: "x12021042-0a1b2c3d", StateRoot: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fixtures/nope does not exist")

	root := t.TempDir()
	_, err = tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: "dup12021042-0a1b2c3d", StateRoot: root})
	require.NoError(t, err)
	_, err = tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: "dup12021042-0a1b2c3d", StateRoot: root})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "left state behind")
}

func TestWorkspaceVarsRoundTrip(t *testing.T) {
	vars := map[string]any{"cloud": "admin", "create_project": true, "hosts": []any{"compute-1"}}
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: "vars12021042-0a1b2c3d", StateRoot: t.TempDir(), Vars: vars})
	require.NoError(t, err)
	opened, err := tf.OpenWorkspace(ws.Root)
	require.NoError(t, err)
	got, err := opened.Vars()
	require.NoError(t, err)
	assert.Equal(t, vars, got)
	info, err := os.Stat(filepath.Join(ws.Dir, tf.VarFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "variables may hold a password")
}

func TestFindToolsNamesTheFix(t *testing.T) {
	t.Setenv("CLOUDPULSE_TOFU", "/nonexistent/tofu")
	t.Setenv("CLOUDPULSE_TOFURC", "/nonexistent/tofurc")
	_, err := tf.FindTools()
	require.Error(t, err)
	assert.Equal(t, "CLOUDPULSE_TOFU: /nonexistent/tofu is missing: run `make tools`\nCLOUDPULSE_TOFURC=/nonexistent/tofurc is missing: run `make tools`", err.Error())
}

func TestMain(m *testing.M) {
	// The workspace copies are made relative to the repository root.
	if os.Getenv("CLOUDPULSE_ROOT") == "" {
		wd, _ := os.Getwd()
		os.Setenv("CLOUDPULSE_ROOT", filepath.Join(wd, "..", ".."))
	}
	if root := os.Getenv("CLOUDPULSE_TEST_HOLD"); root != "" {
		os.Exit(holdForTest(root)) // the second process of live_test.go
	}
	os.Exit(m.Run())
}

// flakyDestroy fails its first destroys, like a cloud API that is briefly down.
type flakyDestroy struct {
	tf.Runner
	failures int
	calls    int
}

func (f *flakyDestroy) Destroy(ctx context.Context) error {
	f.calls++
	if f.calls <= f.failures {
		return errors.New("503 Service Unavailable")
	}
	return f.Runner.Destroy(ctx)
}

func TestLifecycleRetriesDestroy(t *testing.T) {
	f := newFixture(t, nil)
	r := &flakyDestroy{Runner: f.exec(t), failures: 2}
	err := tf.Lifecycle(context.Background(), r, tf.LifecycleOptions{DestroyRetryWait: 10 * time.Millisecond},
		func(context.Context, tf.Outputs) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, 3, r.calls)
	assert.NoFileExists(t, f.marker)

	g := newFixture(t, nil)
	r = &flakyDestroy{Runner: g.exec(t), failures: 5}
	err = tf.Lifecycle(context.Background(), r, tf.LifecycleOptions{DestroyRetryWait: 10 * time.Millisecond},
		func(context.Context, tf.Outputs) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503 Service Unavailable (after 3 attempts) (state kept in ")
	assert.DirExists(t, g.ws.Root, "state is kept for cleanup")
	require.NoError(t, g.exec(t).Destroy(context.Background()))
}
