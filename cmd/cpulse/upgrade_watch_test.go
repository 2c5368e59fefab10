package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Bad input to upgrade watch is one line, exit 2, before anything is watched.
func TestUpgradeWatchBadInput(t *testing.T) {
	t.Setenv("CLOUDPULSE_UPGRADE_STATE", "")
	t.Setenv("CLOUDPULSE_PUSHGATEWAY", "")
	t.Setenv("OS_CLOUD", "")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"nothing to watch": {nil, "cpulse: upgrade watch: nothing to watch: give --state (or $CLOUDPULSE_UPGRADE_STATE) for a snapshot's paths, or --http NAME=URL\n"},
		"no name":          {[]string{"--http", "http://127.0.0.1/"}, `cpulse: upgrade watch: --http "http://127.0.0.1/": want NAME=URL, e.g. web=http://192.0.2.10/` + "\n"},
		"empty name":       {[]string{"--http", "=http://127.0.0.1/"}, `cpulse: upgrade watch: --http "=http://127.0.0.1/": want NAME=URL, e.g. web=http://192.0.2.10/` + "\n"},
		"not http":         {[]string{"--http", "web=ftp://127.0.0.1/"}, `cpulse: upgrade watch: --http "web=ftp://127.0.0.1/": want an http:// or https:// URL with a host after web=` + "\n"},
		"no host":          {[]string{"--http", "web=http:///x"}, `cpulse: upgrade watch: --http "web=http:///x": want an http:// or https:// URL with a host after web=` + "\n"},
		"twice":            {[]string{"--http", "web=http://127.0.0.1/", "--http", "web=http://127.0.0.2/"}, `cpulse: upgrade watch: --http "web=http://127.0.0.2/": web is given twice` + "\n"},
		"push, no cloud":   {[]string{"--http", "web=http://127.0.0.1/", "--push", "http://127.0.0.1:9091"}, "cpulse: upgrade watch: --push: no cloud to label the metrics with: give --cloud or set OS_CLOUD\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"upgrade", "watch"}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Equal(t, tc.want, stderr)
		})
	}
}

// upgrade watch --http watches a path without a snapshot, and --push pushes
// its downtime and threshold under job=cloudpulse, cloud, family=upgrade.
func TestUpgradeWatchHTTPPush(t *testing.T) {
	t.Setenv("CLOUDPULSE_UPGRADE_STATE", "")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	g := newFakeGateway(t)
	stdout, stderr, code := runCLI(t, "upgrade", "watch", "--http", "web="+up.URL+"/", "--interval", "20ms", "--duration", "300ms",
		"--network-threshold", "1.5s", "--cloud", "lab", "--push", g.url)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "http/web ")
	assert.Contains(t, stderr, "watch: all 1 paths up; probing every 20ms until stopped\n")
	samples := requireOnePush(t, g, "cloud=lab,family=upgrade,job=cloudpulse")
	assert.Equal(t, []string{
		"cloudpulse_upgrade_downtime_seconds{path=http/web} 0",
		"cloudpulse_upgrade_downtime_threshold_seconds{path=http/web} 1.5",
	}, samples)
}
