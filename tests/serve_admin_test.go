package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestServeAdminClouds runs the real cpulse serve with both lab clouds
// declared `admin: true`: the admin cloud's operator run passes its
// admin-role check and runs the checks that need the role (not skipped);
// the member cloud, declared admin by mistake, fails admin-role and those
// checks with the fix in the message instead of skipping them quietly. On
// the way, the token file is rotated under the running service (two lines,
// then the new one alone) and the old token stops working without a restart.
// Lab only (CLOUDPULSE_LAB=1); endpoint/operator runs only, no scenario.
func TestServeAdminClouds(t *testing.T) {
	member, ctx, _ := labCloud(t, "declares the member cloud admin in")
	admin := adminCloud(t)
	smap := serviceMapPath(t)
	t.Parallel() // no scenario, no fault: beside the parallel cloud tests
	holdLabSteady(t)
	dir := t.TempDir()
	bin, oldToken, tokenFile := servedBinary(t, ctx, dir, "old-")
	newToken := "new-" + scenario.NewRunID()
	config := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
token_file: %s
clouds: [{name: %s, admin: true}, {name: %s, admin: true}]
intervals: {endpoint: 0, operator: 0, functional: 0, comprehensive: 0}
timeouts: {check: 60s}
history: {path: %s}
state_dir: %s
service_map: %s
`, tokenFile, admin.Name, member.Name, filepath.Join(dir, "history.db"), filepath.Join(dir, "runs"), smap)), 0o600))
	s := startServe(t, bin, config, oldToken)

	// both clouds' operator runs, side by side (endpoint/operator may overlap)
	handles := map[string]string{}
	for _, c := range []string{admin.Name, member.Name} {
		var got struct{ Handle string }
		require.Equal(t, 202, s.call(t, "POST", "/cpulse/check", fmt.Sprintf(`{"type": "operator", "cloud": %q}`, c), &got))
		handles[c] = got.Handle
	}
	done := map[string]apiResult{}
	waitUntil(t, ctx, 3*time.Minute, "both operator runs to end", s, func() bool {
		for c, h := range handles {
			if r := s.result(t, h); r.State == "passed" || r.State == "failed" {
				done[c] = r
			}
		}
		return len(done) == 2
	})

	status := func(r apiResult, name string) (string, string) {
		for _, c := range r.Checks {
			if c.Name == name {
				return c.Status, c.Error
			}
		}
		return "absent", ""
	}
	a := done[admin.Name]
	assert.True(t, slices.Contains(a.TestsPassed, "admin-role"), "admin cloud: admin-role passed: %+v", a.Checks)
	for _, name := range []string{"nova-services", "neutron-agents", "cinder-services"} {
		st, msg := status(a, name)
		assert.Equal(t, "ok", st, "admin cloud: %s ran and passed (%s)", name, msg)
	}
	m := done[member.Name]
	assert.Equal(t, "failed", m.State)
	noRole := fmt.Sprintf(`cloud %q is declared admin: true but its token has no admin role (give its clouds.yaml entry a user with the admin role, or drop admin: true)`, member.Name)
	st, msg := status(m, "admin-role")
	assert.Equal(t, "FAIL", st)
	assert.Equal(t, noRole, msg)
	for _, name := range []string{"nova-services", "neutron-agents", "cinder-services"} {
		st, msg := status(m, name)
		assert.Equal(t, "FAIL", st, "member cloud declared admin: %s fails, not skips", name)
		assert.Equal(t, name+": "+noRole, msg)
	}

	// token rotation under the running service
	code := func(tok string) int {
		s.token = tok
		return s.call(t, "GET", "/cpulse/results?limit=1", "", nil)
	}
	require.NoError(t, os.WriteFile(tokenFile, []byte(oldToken+"\n"+newToken+"\n"), 0o600))
	bump(t, tokenFile, time.Minute)
	assert.Equal(t, 200, code(oldToken), "old token while both are listed")
	assert.Equal(t, 200, code(newToken), "new token while both are listed")
	require.NoError(t, os.WriteFile(tokenFile, []byte(newToken+"\n"), 0o600))
	bump(t, tokenFile, 2*time.Minute)
	assert.Equal(t, 401, code(oldToken), "old token after its line is gone")
	assert.Equal(t, 200, code(newToken))
}

// bump moves the file's modification time on by d, so a rewrite within the
// file system's time granularity is seen as a change.
func bump(t *testing.T, p string, d time.Duration) {
	t.Helper()
	at := time.Now().Add(d)
	require.NoError(t, os.Chtimes(p, at, at))
}
