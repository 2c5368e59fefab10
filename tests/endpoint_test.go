package tests

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
)

// adminOnlyEndpointChecks may skip ("needs admin") for credentials without
// the admin role; every other endpoint check must pass for any user.
var adminOnlyEndpointChecks = map[string]bool{
	"identity/services":   true,
	"compute/hypervisors": true,
	"network/agents":      true,
	"placement":           true,
}

// TestEndpoint answers "do the cloud's APIs answer?": one cheap read-only
// call per service (endpoint.Checks) as the OS_CLOUD user, and as
// CLOUDPULSE_ADMIN_CLOUD when set. As a member, the admin-only checks may
// skip; as an admin, every check must pass. It logs each service's API
// latency (p50/p95) and the wall time of the set.
//
//	OS_CLOUD=mycloud CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -run TestEndpoint ./tests/
func TestEndpoint(t *testing.T) {
	configs := []*cloud.Config{cloudConfig(t)}
	if name := os.Getenv("CLOUDPULSE_ADMIN_CLOUD"); name != "" && name != configs[0].Name {
		cfg, err := cloud.Load(name)
		require.NoError(t, err)
		configs = append(configs, cfg)
	}
	ctx := runContext(t, 10*time.Second)
	for _, cfg := range configs {
		t.Run(cfg.Name, func(t *testing.T) {
			c, rec, authTook := connectRecorded(t, ctx, cfg)
			admin, err := c.IsAdmin(ctx)
			require.NoError(t, err)
			t.Logf("cloud %q (admin: %t): token issued in %s", cfg.Name, admin, authTook.Round(time.Millisecond))
			rec.Reset() // the latency below is the check set's own

			results, wall := runChecks(t, ctx, endpoint.Checks(c))
			stats := rec.Stats()
			logLatency(t, stats)
			t.Logf("endpoint set on %q: %d checks in %s wall", cfg.Name, len(results), wall.Round(time.Millisecond))

			for _, s := range stats {
				assert.NotEqual(t, cloud.ServiceUnknown, s.Service, "%d requests could not be attributed to a service by the catalog", s.Count)
			}
			reportResults(t, results, func(name string) bool { return !admin && adminOnlyEndpointChecks[name] })
		})
	}
}

// TestEndpointHorizon logs in to the dashboard at CLOUDPULSE_HORIZON_URL as
// the OS_CLOUD user, through Horizon's real login form, and checks that a
// wrong password is refused with Horizon's own message.
//
//	OS_CLOUD=mycloud CLOUDPULSE_HORIZON_URL=https://dashboard.example.com/ go test -run TestEndpointHorizon ./tests/
func TestEndpointHorizon(t *testing.T) {
	url := os.Getenv("CLOUDPULSE_HORIZON_URL")
	if url == "" {
		t.Skip("set CLOUDPULSE_HORIZON_URL to the dashboard's URL (the lab's: http://127.0.0.1:8080/)")
	}
	cfg := cloudConfig(t)
	user, password, domain := cfg.Auth.Username, cfg.Auth.Password, cfg.Auth.DomainName
	if user == "" || password == "" {
		t.Skipf("cloud %q has no username and password (application credential or token?): Horizon needs a password login", cfg.Name)
	}
	ctx := runContext(t, 10*time.Second)

	t.Run("horizon", func(t *testing.T) {
		res := check.Runner{Timeout: checkTimeout}.RunOne(ctx, endpoint.Horizon(url, user, password, domain))
		require.True(t, res.OK, "log in to %s as %q: %s", url, user, res.Error)
		t.Logf("logged in to %s as %q in %s", url, user, res.Duration.Round(time.Millisecond))
	})

	t.Run("horizon/wrong-password", func(t *testing.T) {
		res := check.Runner{Timeout: checkTimeout}.RunOne(ctx, endpoint.Horizon(url, user, wrongPassword(t), domain))
		require.Equal(t, check.Failed, res.Status(), "Horizon accepted a wrong password for %q", user)
		// Horizon answers a refused login with its login page and this alert.
		assert.Contains(t, res.Error, "refused: Invalid credentials")
		assert.Contains(t, res.Error, user)
		assert.NotContains(t, res.Error, password)
		t.Logf("refused in %s: %s", res.Duration.Round(time.Millisecond), res.Error)
	})
}

func wrongPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "cloudpulse-wrong-" + hex.EncodeToString(b)
}
