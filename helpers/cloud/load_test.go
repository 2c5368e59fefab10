package cloud

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// useFile points the clouds.yaml search at one testdata file and clears OS_* variables.
func useFile(t *testing.T, dir string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", dir, "clouds.yaml"))
	require.NoError(t, err)
	for _, v := range []string{"OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_REGION_NAME", "OS_INTERFACE", "OS_PROJECT_NAME"} {
		t.Setenv(v, "")
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", p)
	return p
}

func TestLoadValid(t *testing.T) {
	p := useFile(t, "valid")
	t.Setenv("OS_CLOUD", "lab-member")
	cfg, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, "lab-member", cfg.Name)
	assert.Equal(t, p, cfg.File)
	assert.Equal(t, "http://127.0.0.1:5000/v3", cfg.Auth.IdentityEndpoint)
	assert.Equal(t, "cloudpulse-member", cfg.Auth.Username)
	assert.Equal(t, "RegionOne", cfg.Endpoint.Region)
	require.NotNil(t, cfg.Auth.Scope)
	assert.Equal(t, "cloudpulse", cfg.Auth.Scope.ProjectName)
	assert.Equal(t, map[string]string{"OS_CLOUD": "lab-member", "OS_CLIENT_CONFIG_FILE": p}, cfg.TerraformEnv())
}

func TestLoadExplicitNameBeatsOSCloud(t *testing.T) {
	useFile(t, "valid")
	t.Setenv("OS_CLOUD", "lab-member")
	cfg, err := Load("lab-admin")
	require.NoError(t, err)
	assert.Equal(t, "admin", cfg.Auth.Username)
}

func TestLoadUnknownCloudListsKnown(t *testing.T) {
	p := useFile(t, "valid")
	_, err := Load("nope")
	require.Error(t, err)
	assert.Equal(t, `cloud "nope" not found in `+p+`; known: lab-admin, lab-member`, err.Error())
}

func TestLoadMissingAuthURL(t *testing.T) {
	p := useFile(t, "noauth")
	_, err := Load("nourl")
	require.Error(t, err)
	assert.Equal(t, `cloud "nourl" in `+p+`: missing auth.auth_url, auth.password (in clouds.yaml or secure.yaml)`, err.Error())
}

func TestLoadMalformedYAML(t *testing.T) {
	p := useFile(t, "malformed")
	_, err := Load("broken")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "parse "+p+": yaml: line "), err.Error())
}

func TestLoadSecureYAMLMerge(t *testing.T) {
	useFile(t, "secure")
	cfg, err := Load("prod")
	require.NoError(t, err)
	assert.Equal(t, "from-secure-yaml", cfg.Auth.Password)
	assert.Equal(t, "monitor", cfg.Auth.Username)
	assert.Equal(t, "RegionTwo", cfg.Endpoint.Region)
}

func TestLoadNoCloudSelected(t *testing.T) {
	useFile(t, "valid")
	_, err := Load("")
	require.Error(t, err)
	assert.Equal(t, "no cloud selected: set OS_CLOUD to a cloud in clouds.yaml (or OS_AUTH_URL and the other OS_* variables)", err.Error())
}

func TestLoadMissingConfigFile(t *testing.T) {
	useFile(t, "valid")
	t.Setenv("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
	_, err := Load("x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cloud "x": OS_CLIENT_CONFIG_FILE=/nonexistent/clouds.yaml: `)
}

func TestLoadFromEnv(t *testing.T) {
	useFile(t, "valid")
	t.Setenv("OS_CLIENT_CONFIG_FILE", "")
	t.Setenv("OS_AUTH_URL", "http://127.0.0.1:1/v3")
	t.Setenv("OS_USERNAME", "u")
	t.Setenv("OS_PASSWORD", "p")
	t.Setenv("OS_REGION_NAME", "R1")
	cfg, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, EnvCloud, cfg.Name)
	assert.Equal(t, "R1", cfg.Endpoint.Region)
	env := cfg.TerraformEnv()
	assert.Equal(t, "", env["OS_CLOUD"], "OpenTofu must not pick a clouds.yaml cloud")
	assert.Equal(t, "u", env["OS_USERNAME"])
	assert.Equal(t, "default", env["OS_USER_DOMAIN_ID"], "the CLI's default domain, made explicit")
}

// A keystone that refuses every password: Connect must say so in one line, without the password.
func TestConnectWrongPassword(t *testing.T) {
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`))
	}))
	defer ks.Close()
	useFile(t, "valid")
	cfg, err := Load("lab-member")
	require.NoError(t, err)
	cfg.Auth.IdentityEndpoint = ks.URL + "/v3"
	_, err = cfg.Connect(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `keystone refused the credentials of user "cloudpulse-member" (401)`)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestConnectUnreachable(t *testing.T) {
	useFile(t, "valid")
	cfg, err := Load("lab-member")
	require.NoError(t, err)
	cfg.Auth.IdentityEndpoint = "http://127.0.0.1:1/v3" // a closed port on loopback
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	_, err = cfg.Connect(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cloud "lab-member" in `)
	assert.Contains(t, err.Error(), "authenticate at http://127.0.0.1:1/v3")
}
