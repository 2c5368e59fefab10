package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// upgrade_watch in the configuration bounds the service's upgrade watch.
func TestServeConfigUpgradeWatch(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600))
	file := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("token_file: token\nclouds: [lab]\nupgrade_watch: {max: 90m, interval: 250ms}\n"), 0o600))
	sc, err := loadServeConfig(file)
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, sc.opts.WatchMax)
	require.Equal(t, 250*time.Millisecond, sc.opts.WatchInterval)
}
