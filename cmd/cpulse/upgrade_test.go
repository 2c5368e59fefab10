package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad input to the upgrade commands is refused in one line, exit 2, before any cloud call
// (the cloud below does not exist: a call would fail differently).
func TestUpgradeBadInputExit2(t *testing.T) {
	dir := t.TempDir()
	clouds := filepath.Join(dir, "clouds.yaml")
	require.NoError(t, os.WriteFile(clouds, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n      password: p\n"), 0o600))
	t.Setenv("OS_CLIENT_CONFIG_FILE", clouds)
	t.Setenv("OS_CLOUD", "a")
	t.Setenv("CLOUDPULSE_UPGRADE_STATE", "")
	empty := filepath.Join(dir, "empty")
	bad := filepath.Join(dir, "res.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"vm": ["web", "web"]}`), 0o600))
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no command":       {[]string{"upgrade"}, "cpulse: upgrade what? want snapshot, verify, watch or finish\n"},
		"unknown command":  {[]string{"upgrade", "rollback"}, `cpulse: unknown upgrade command "rollback": want snapshot, verify, watch or finish` + "\n"},
		"no state":         {[]string{"upgrade", "snapshot"}, "cpulse: upgrade snapshot: no state directory: set CLOUDPULSE_UPGRADE_STATE or --state to a private directory for the snapshot\n"},
		"bad resources":    {[]string{"upgrade", "snapshot", "--state", empty, "--resources", bad}, "cpulse: upgrade snapshot: " + bad + `: resources: vm "web" is listed twice` + "\n"},
		"missing file":     {[]string{"upgrade", "snapshot", "--state", empty, "--resources", filepath.Join(dir, "nope.json")}, "cpulse: upgrade snapshot: --resources: open " + filepath.Join(dir, "nope.json") + ": no such file or directory\n"},
		"verify, no state": {[]string{"upgrade", "verify", "--state", empty}, "cpulse: upgrade: " + empty + " holds no snapshot (snapshot.json): run the pre phase first (`cpulse upgrade snapshot`, or go test -run 'Upgrade/pre')\n"},
		"finish, no state": {[]string{"upgrade", "finish", "--state", empty}, "cpulse: upgrade: " + empty + " holds no snapshot (snapshot.json): run the pre phase first (`cpulse upgrade snapshot`, or go test -run 'Upgrade/pre')\n"},
		"extra argument":   {[]string{"upgrade", "verify", "--state", empty, "now"}, `cpulse: upgrade verify: unexpected argument "now"` + "\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, 2, code)
			if name == "no command" || name == "unknown command" {
				assert.Contains(t, stderr, tc.want)
				return
			}
			assert.Equal(t, tc.want, stderr)
		})
	}
	_, err := os.Stat(empty)
	assert.True(t, os.IsNotExist(err), "nothing was created for bad input")
}

func TestCleanupKeepsUpgradeSnapshots(t *testing.T) {
	assert.True(t, keepSnapshot("cpup12021713-0123abcd", false), "a snapshot waits for its post job")
	assert.False(t, keepSnapshot("cpup12021713-0123abcd", true), "--include-snapshots")
	assert.False(t, keepSnapshot("cp12021713-0123abcd", false), "an ordinary run")
	assert.False(t, keepSnapshot("cpupx", false), "not a run id")
}
