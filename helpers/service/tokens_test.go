package service_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

// writeTokens writes the token file and moves its modification time on, so a
// rewrite within the file system's time granularity is still seen.
func writeTokens(t *testing.T, p, body string, at time.Time) {
	t.Helper()
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	require.NoError(t, os.Chtimes(p, at, at))
}

func TestTokenFileRotatesWithoutRestart(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	t0 := time.Now().Add(-time.Hour)
	writeTokens(t, p, "old-token\n", t0)
	f, err := service.OpenTokenFile(p)
	require.NoError(t, err)
	e := newEnv(t, service.Options{Tokens: f})

	get := func(tok string) int {
		code, _ := e.raw(t, http.MethodGet, "/cpulse/results", "", "Bearer "+tok)
		return code
	}
	assert.Equal(t, http.StatusOK, get("old-token"))
	assert.Equal(t, http.StatusUnauthorized, get("new-token"))
	assert.Equal(t, http.StatusUnauthorized, get(token), "Options.Token is not used when Tokens is set")

	// step 1: both, while the clients move
	writeTokens(t, p, "# rotation of 2026-12-03\nold-token\n\n  new-token  \n", t0.Add(time.Minute))
	assert.Equal(t, http.StatusOK, get("old-token"))
	assert.Equal(t, http.StatusOK, get("new-token"))
	assert.Equal(t, http.StatusUnauthorized, get("# rotation of 2026-12-03"), "comments are not tokens")

	// step 2: the old one is gone
	writeTokens(t, p, "new-token\n", t0.Add(2*time.Minute))
	assert.Equal(t, http.StatusUnauthorized, get("old-token"))
	assert.Equal(t, http.StatusOK, get("new-token"))
	assert.NoError(t, f.Err())
}

func TestTokenFileBotchedEditKeepsTheTokensInUse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	t0 := time.Now().Add(-time.Hour)
	writeTokens(t, p, "tok-1\n", t0)
	f, err := service.OpenTokenFile(p)
	require.NoError(t, err)

	writeTokens(t, p, "\n# nothing yet\n", t0.Add(time.Minute))
	assert.True(t, f.Match("tok-1"), "an emptied file does not lock everyone out")
	assert.False(t, f.Match(""), "nor does it open the service")
	require.EqualError(t, f.Err(), "read token: "+p+" holds no token (write one per line) (the tokens read before stay in use)")

	require.NoError(t, os.Remove(p))
	assert.True(t, f.Match("tok-1"))
	require.ErrorContains(t, f.Err(), "no such file or directory (the tokens read before stay in use)")

	writeTokens(t, p, "tok-2\n", t0.Add(2*time.Minute))
	assert.False(t, f.Match("tok-1"))
	assert.True(t, f.Match("tok-2"))
	assert.NoError(t, f.Err())
}

func TestOpenTokenFileRefusesNoToken(t *testing.T) {
	dir := t.TempDir()
	_, err := service.OpenTokenFile(filepath.Join(dir, "missing"))
	require.EqualError(t, err, "read token: stat "+filepath.Join(dir, "missing")+": no such file or directory")
	p := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(p, []byte("# comment only\n\n"), 0o600))
	_, err = service.OpenTokenFile(p)
	require.EqualError(t, err, "read token: "+p+" holds no token (write one per line)")
}
