package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestBinaryRunsAnywhere copies the cpulse binary out of the checkout and runs
// `cpulse check functional` on the lab from an empty directory without
// CLOUDPULSE_ROOT: the fixture and modules come from the binary, the state
// from $XDG_STATE_HOME, OpenTofu and its mirror from CLOUDPULSE_TOFU and
// CLOUDPULSE_TOFURC. Without the tofu setting it fails naming it.
func TestBinaryRunsAnywhere(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: one Functional run through the binary (CLOUDPULSE_LAB=1, `make cloud-test`)")
	}
	cfg := cloudConfig(t)
	ctx := runContext(t, 5*time.Minute)
	c := connect(t, ctx, cfg)
	runID := scenario.NewRunID()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if swept, err := scenario.Sweep(cctx, c, runID); len(swept) > 0 || err != nil {
			t.Logf("safety net: swept %d resources of run %s (%v)", len(swept), runID, err)
		}
	})

	dir := t.TempDir()
	bin := filepath.Join(dir, "cpulse")
	built, err := os.ReadFile(buildCpulse(t, ctx))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, built, 0o755))

	env := []string{"CLOUDPULSE_RUN_ID=" + runID, "XDG_STATE_HOME=" + filepath.Join(dir, "state")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CLOUDPULSE_ROOT", "CLOUDPULSE_STATE_DIR", "CLOUDPULSE_RUN_PREFIX", "CLOUDPULSE_REPORT", "XDG_STATE_HOME", "PWD":
			continue
		}
		env = append(env, kv)
	}
	cpulse := func(extra ...string) (string, string, error) {
		cmd := exec.CommandContext(ctx, bin, "check", "functional", "--cloud", cfg.Name)
		cmd.Dir, cmd.Env = dir, append(append([]string(nil), env...), extra...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}

	// No OpenTofu found: one line naming the setting, nothing built.
	stdout, _, err := cpulse("CLOUDPULSE_TOFU=", "PATH=/usr/bin:/bin")
	require.Error(t, err)
	assert.Contains(t, stdout, "set CLOUDPULSE_TOFU to the OpenTofu binary, or put tofu on PATH")

	start := time.Now()
	stdout, stderr, err := cpulse()
	t.Logf("cpulse check functional from %s took %s\nstdout:\n%s\nstderr:\n%s", dir, time.Since(start).Round(time.Second), stdout, stderr)
	require.NoError(t, err)
	ws := filepath.Join(dir, "state", "cloudpulse", "runs", "functional-"+runID)
	assert.Contains(t, stderr, "run "+runID+", state in "+ws)
	assert.Regexp(t, `(?m)^functional\s+pass\b`, stdout)
	assert.NoDirExists(t, ws, "a run that destroyed everything keeps no workspace")
}
