package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// unreachableCloud is a clouds.yaml whose cloud answers nothing: a cleanup
// that reaches for the cloud fails.
func unreachableCloud(t *testing.T) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clouds.yaml")
	require.NoError(t, os.WriteFile(p, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n      password: p\n      project_name: p\n"), 0o600))
	t.Setenv("OS_CLIENT_CONFIG_FILE", p)
}

// The old cleanup destroyed every workspace it found, a live run's too.
func TestCleanupLeavesLiveRunsAlone(t *testing.T) {
	unreachableCloud(t)
	t.Setenv("CLOUDPULSE_ROOT", filepath.Join("..", ".."))
	dir := t.TempDir()
	id, err := tf.NewRunID("cp")
	require.NoError(t, err)
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: id, StateRoot: dir})
	require.NoError(t, err)
	require.NoError(t, ws.Release())

	// A live run: a real flock on the workspace's lock file, on a descriptor of its own.
	f, err := os.OpenFile(filepath.Join(ws.Root, tf.LiveFile), os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

	stdout, stderr, code := runCLI(t, "cleanup", "--cloud", "a", "--state-dir", dir)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "cleanup: "+ws.Root+": skipped, in use by a live run (its process holds "+filepath.Join(ws.Root, tf.LiveFile)+")\n", stdout)
	assert.DirExists(t, ws.Dir)

	// Once the run is gone, its workspace is cleanup's: here the cloud does not answer.
	require.NoError(t, f.Close())
	_, stderr, code = runCLI(t, "cleanup", "--cloud", "a", "--state-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "authenticate at http://127.0.0.1:1/v3")
	assert.DirExists(t, ws.Dir)
}

func TestCleanupUsage(t *testing.T) {
	unreachableCloud(t)
	_, stderr, code := runCLI(t, "cleanup", "--cloud", "a", "--older-than", "-2h")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: --older-than -2h0m0s: give a positive duration such as 2h\n", stderr)
	_, stderr, code = runCLI(t, "cleanup", "--cloud", "a", "--older-than", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `invalid value "soon" for flag -older-than`)
	empty := t.TempDir()
	stdout, _, code := runCLI(t, "cleanup", "--cloud", "a", "--state-dir", empty)
	assert.Equal(t, 0, code)
	assert.Equal(t, "cleanup: nothing left in "+empty+"\n", stdout)
}
