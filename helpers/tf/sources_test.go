package tf_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// noCheckout runs the test in an empty directory, as the binary does when it
// is copied anywhere: no CLOUDPULSE_ROOT, no go.mod above the working directory.
func noCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("CLOUDPULSE_ROOT", "")
	t.Setenv("CLOUDPULSE_STATE_DIR", "")
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg"))
	return dir
}

func TestNewWorkspaceWithoutCheckoutWritesTheEmbeddedFixture(t *testing.T) {
	dir := noCheckout(t)
	_, err := tf.RepoRoot()
	require.Error(t, err)
	src, err := tf.FindSources()
	require.NoError(t, err)
	assert.Equal(t, "the fixtures embedded in cpulse", src.String())

	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/functional", RunID: "x12021042-0a1b2c3d", Vars: map[string]any{"run_id": "x12021042-0a1b2c3d"}})
	require.NoError(t, err)
	defer ws.Release()
	assert.Equal(t, filepath.Join(dir, "xdg", "cloudpulse", "runs", "functional-x12021042-0a1b2c3d"), ws.Root)
	assert.Equal(t, filepath.Join(ws.Root, "fixtures", "functional"), ws.Dir)
	for _, p := range []string{"fixtures/functional/main.tf", "modules/network/main.tf", "modules/instance/variables.tf"} {
		want, err := fs.ReadFile(cloudpulse.Sources, p)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(ws.Root, filepath.FromSlash(p)))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), p)
		st, err := os.Stat(filepath.Join(ws.Root, filepath.FromSlash(p)))
		require.NoError(t, err)
		assert.Zero(t, st.Mode().Perm()&0o077, p)
	}
	assert.FileExists(t, filepath.Join(ws.Dir, tf.VarFile))

	_, err = tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/nope", RunID: "x12021042-0a1b2c3e"})
	assert.EqualError(t, err, "fixture fixtures/nope does not exist in the fixtures embedded in cpulse")
}

func TestSourcesPreferTheCheckout(t *testing.T) {
	root := fakeRepo(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "fixtures", "mine"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "fixtures", "mine", "main.tf"), []byte("# mine\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "fixtures", "mine", "terraform.tfstate"), []byte("{}"), 0o644))
	t.Setenv("CLOUDPULSE_STATE_DIR", "")
	src, err := tf.FindSources()
	require.NoError(t, err)
	assert.Equal(t, root, src.Root)
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/mine", RunID: "x12021042-0a1b2c3d"})
	require.NoError(t, err)
	defer ws.Release()
	assert.Equal(t, filepath.Join(root, "state", "runs", "mine-x12021042-0a1b2c3d"), ws.Root)
	assert.FileExists(t, filepath.Join(ws.Dir, "main.tf"))
	assert.NoFileExists(t, filepath.Join(ws.Dir, "terraform.tfstate"), "state is never copied")

	// A CLOUDPULSE_ROOT that is no checkout is an error, not the embedded copy.
	t.Setenv("CLOUDPULSE_ROOT", t.TempDir())
	_, err = tf.FindSources()
	assert.ErrorContains(t, err, "no cloudpulse checkout (go.mod + fixtures/) at or above")
	_, err = tf.DefaultStateRoot()
	assert.ErrorContains(t, err, "set CLOUDPULSE_ROOT")
}

func TestDefaultStateRootWithoutCheckout(t *testing.T) {
	dir := noCheckout(t)
	got, err := tf.DefaultStateRoot()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "xdg", "cloudpulse", "runs"), got)
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", dir)
	got, err = tf.DefaultStateRoot()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, ".local", "state", "cloudpulse", "runs"), got)
	t.Setenv("CLOUDPULSE_STATE_DIR", "/srv/runs")
	got, err = tf.DefaultStateRoot()
	require.NoError(t, err)
	assert.Equal(t, "/srv/runs", got)
}

// Without a checkout the errors name the settings, not `make tools`.
func TestFindToolsWithoutCheckoutNamesTheSetting(t *testing.T) {
	noCheckout(t)
	t.Setenv("CLOUDPULSE_TOFU", "")
	t.Setenv("CLOUDPULSE_TOFURC", "")
	t.Setenv("TF_CLI_CONFIG_FILE", "")
	t.Setenv("PATH", t.TempDir())
	_, err := tf.FindTools()
	assert.EqualError(t, err, "no usable OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0 (no .tools/bin/tofu, and neither tofu nor terraform on PATH): set CLOUDPULSE_TOFU to the OpenTofu binary, or put tofu on PATH")

	bin := t.TempDir()
	p := fakeBinary(t, bin, "tofu", "OpenTofu", "1.12.6")
	t.Setenv("PATH", bin)
	got, err := tf.FindTools()
	require.NoError(t, err)
	assert.Equal(t, p, got.Tofu)
	assert.Equal(t, "", got.CLIConfig)

	missing := filepath.Join(t.TempDir(), "tofurc")
	t.Setenv("TF_CLI_CONFIG_FILE", missing)
	_, err = tf.FindTools()
	assert.EqualError(t, err, "TF_CLI_CONFIG_FILE="+missing+" is missing: set CLOUDPULSE_TOFURC or TF_CLI_CONFIG_FILE to the tofurc with the provider mirror")

	rc := filepath.Join(t.TempDir(), "tofurc")
	require.NoError(t, os.WriteFile(rc, []byte("provider_installation {}\n"), 0o600))
	t.Setenv("CLOUDPULSE_TOFURC", rc)
	got, err = tf.FindTools()
	require.NoError(t, err)
	assert.Equal(t, rc, got.CLIConfig)
}
