package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinaryRunsAnywhere copies the cpulse binary out of the checkout and runs
// `cpulse check functional` from an empty directory without CLOUDPULSE_ROOT and
// without OpenTofu: it fails with one line naming the setting, before anything
// is created. The same copied binary's real scenario run — fixture and modules
// from the binary — is TestServe's functional run (cpulse serve runs from a
// copy outside the checkout), so the lab pays for one apply, not two.
func TestBinaryRunsAnywhere(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: needs the lab's clouds.yaml (CLOUDPULSE_LAB=1, `make cloud-test`)")
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, 5*time.Minute)

	dir := t.TempDir()
	bin := filepath.Join(dir, "cpulse")
	built, err := os.ReadFile(buildCpulse(t, ctx))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, built, 0o755))

	env := []string{"XDG_STATE_HOME=" + filepath.Join(dir, "state"), "CLOUDPULSE_TOFU=", "PATH=/usr/bin:/bin"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CLOUDPULSE_ROOT", "CLOUDPULSE_STATE_DIR", "CLOUDPULSE_RUN_PREFIX", "CLOUDPULSE_REPORT", "XDG_STATE_HOME", "PWD", "CLOUDPULSE_TOFU", "PATH":
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.CommandContext(ctx, bin, "check", "functional", "--cloud", cfg.Name)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	require.Error(t, err)
	assert.Contains(t, out.String(), "set CLOUDPULSE_TOFU to the OpenTofu binary, or put tofu on PATH", "stderr: %s", errb.String())
	assert.NoDirExists(t, filepath.Join(dir, "state", "cloudpulse", "runs"), "nothing started")
}
