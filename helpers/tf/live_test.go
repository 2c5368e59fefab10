package tf_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// holdForTest is the second process of the tests below (TestMain runs it when
// CLOUDPULSE_TEST_HOLD=<workspace root>): it opens the workspace, says "held"
// and keeps it until its stdin closes; it exits 3 if it cannot open it.
func holdForTest(root string) int {
	if _, err := tf.OpenWorkspace(root); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		return 3
	}
	os.Stdout.WriteString("held\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// holder opens root in a second process, which holds it until stop is called.
func holder(t *testing.T, root string) (stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLOUDPULSE_TEST_HOLD="+root)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", line)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			stdin.Close()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestOpenWorkspaceInUseByAnotherProcess(t *testing.T) {
	id, err := tf.NewRunID("t")
	require.NoError(t, err)
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: id, StateRoot: t.TempDir()})
	require.NoError(t, err)
	require.NoError(t, ws.Release()) // as if the run that made it had ended

	stop := holder(t, ws.Root)
	_, err = tf.OpenWorkspace(ws.Root)
	require.Error(t, err)
	assert.True(t, errors.Is(err, tf.ErrWorkspaceInUse), "%v", err)
	assert.EqualError(t, err, "workspace "+ws.Root+": in use by a live run")

	stop() // the live run ends: its lock goes with it
	opened, err := tf.OpenWorkspace(ws.Root)
	require.NoError(t, err)
	assert.Equal(t, id, opened.RunID)
	require.NoError(t, opened.Remove())
	assert.NoDirExists(t, ws.Root)
}

func TestNewWorkspaceIsHeldUntilRemoved(t *testing.T) {
	id, err := tf.NewRunID("t")
	require.NoError(t, err)
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/selftest", RunID: id, StateRoot: t.TempDir()})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(ws.Root, tf.LiveFile))

	// Another process (cleanup) sees it in use: its helper fails to open it.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLOUDPULSE_TEST_HOLD="+ws.Root)
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Equal(t, "error: workspace "+ws.Root+": in use by a live run\n", string(out))

	// This process opening it again is fine (the upgrade's post stage, tests).
	_, err = tf.OpenWorkspace(ws.Root)
	require.NoError(t, err)
	require.NoError(t, ws.Remove())
}
