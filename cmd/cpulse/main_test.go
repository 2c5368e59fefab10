package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// runCLI runs cpulse in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestUsageErrorsExit2(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no command":      {nil, "cpulse: no command given"},
		"unknown command": {[]string{"frobnicate"}, `cpulse: unknown command "frobnicate"`},
		"no family":       {[]string{"check"}, `cpulse: check what? want one of endpoint, operator, functional, comprehensive, all, got ""`},
		"bad family":      {[]string{"check", "everything"}, `got "everything"`},
		"bad flag":        {[]string{"check", "endpoint", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestUnknownCloudExit2NamesKnownClouds(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "clouds.yaml")
	assert.NoError(t, os.WriteFile(p, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n  b:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n"), 0o600))
	t.Setenv("OS_CLIENT_CONFIG_FILE", p)
	_, stderr, code := runCLI(t, "check", "endpoint", "--cloud", "nope")
	assert.Equal(t, 2, code)
	assert.Equal(t, `cpulse: cloud "nope" not found in `+p+"; known: a, b\n", stderr)
}

func TestOperatorWithoutServiceMapExit2(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "clouds.yaml")
	assert.NoError(t, os.WriteFile(p, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n      password: p\n"), 0o600))
	t.Setenv("OS_CLIENT_CONFIG_FILE", p)
	t.Setenv("CLOUDPULSE_SERVICE_MAP", "")
	_, stderr, code := runCLI(t, "check", "operator", "--cloud", "a")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "operator checks need a service map: --service-map FILE or CLOUDPULSE_SERVICE_MAP")
}

func TestUnreachableCloudExit1(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "clouds.yaml")
	assert.NoError(t, os.WriteFile(p, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n      password: p\n"), 0o600))
	t.Setenv("OS_CLIENT_CONFIG_FILE", p)
	_, stderr, code := runCLI(t, "check", "endpoint", "--cloud", "a")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `cloud "a" in `+p+`: authenticate at http://127.0.0.1:1/v3`)
}
