package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestOpenrc answers "does an openrc work as the openstack CLI's does?": the
// OS_CLOUD user's credentials are turned into the OS_* variables of an openrc
// and OS_CLOUD is unset, then the endpoint checks run through them and
// OpenTofu logs in with them (fixtures/whoami, which creates nothing):
//
//   - kolla-ansible's form: OS_PROJECT_NAME, OS_PROJECT_DOMAIN_NAME,
//     OS_USER_DOMAIN_NAME, no OS_PROJECT_ID, OS_AUTH_URL without /v3
//     (refused before with "Missing environment variable [OS_PROJECT_ID]");
//
//   - an application credential made for the test (OS_AUTH_TYPE=v3applicationcredential),
//     deleted afterwards.
//
//     OS_CLOUD=mycloud go test -run TestOpenrc ./tests/
func TestOpenrc(t *testing.T) {
	src := cloudConfig(t)
	if src.File == "" {
		t.Skip("OS_CLOUD is not set: the test builds its openrc from a clouds.yaml cloud")
	}
	a := src.Auth
	if a.Password == "" || a.Username == "" || a.Scope == nil || a.Scope.ProjectName == "" {
		t.Skipf("cloud %q does not log in with a user name, password and project name: no openrc of kolla's form to build from it", src.Name)
	}
	ctx := runContext(t, 30*time.Second)
	tools, err := tf.FindTools()
	require.NoError(t, err)
	srcCloud := connect(t, ctx, src)
	_, user, project, _, err := srcCloud.Token(ctx)
	require.NoError(t, err)
	runID := scenario.NewRunID()

	// kolla-ansible's admin-openrc.sh, with this cloud's values
	kolla := map[string]string{
		"OS_PROJECT_DOMAIN_NAME":  a.Scope.DomainName,
		"OS_USER_DOMAIN_NAME":     a.DomainName,
		"OS_PROJECT_NAME":         a.Scope.ProjectName,
		"OS_TENANT_NAME":          a.Scope.ProjectName,
		"OS_USERNAME":             a.Username,
		"OS_PASSWORD":             a.Password,
		"OS_AUTH_URL":             strings.TrimSuffix(strings.TrimSuffix(a.IdentityEndpoint, "/"), "/v3"),
		"OS_INTERFACE":            string(src.Endpoint.Availability),
		"OS_ENDPOINT_TYPE":        string(src.Endpoint.Availability) + "URL",
		"OS_IDENTITY_API_VERSION": "3",
		"OS_REGION_NAME":          src.Endpoint.Region,
		"OS_AUTH_PLUGIN":          "password",
	}
	if kolla["OS_PROJECT_DOMAIN_NAME"] == "" || kolla["OS_USER_DOMAIN_NAME"] == "" {
		t.Skipf("cloud %q names its domains by id: no openrc of kolla's form to build from it", src.Name)
	}
	t.Run("kolla-openrc", func(t *testing.T) {
		useOpenrc(t, kolla)
		throughOpenrc(t, ctx, tools, scenario.NewRunID(), user.Name, project.ID)
	})

	t.Run("application-credential", func(t *testing.T) {
		id, err := srcCloud.Identity()
		require.NoError(t, err)
		secret := make([]byte, 24)
		_, err = rand.Read(secret)
		require.NoError(t, err)
		expires := time.Now().Add(time.Hour)
		ac, err := applicationcredentials.Create(ctx, id, user.ID, applicationcredentials.CreateOpts{
			Name: "cloudpulse-" + runID + "-openrc", Description: "cloudpulse TestOpenrc (deleted by the test)",
			Secret: hex.EncodeToString(secret), ExpiresAt: &expires,
		}).Extract()
		require.NoError(t, err)
		t.Cleanup(func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			err := applicationcredentials.Delete(dctx, id, user.ID, ac.ID).ExtractErr()
			if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				t.Errorf("delete application credential %s: %v", ac.ID, err)
			}
		})
		useOpenrc(t, map[string]string{
			"OS_AUTH_TYPE":                     "v3applicationcredential",
			"OS_AUTH_URL":                      a.IdentityEndpoint,
			"OS_APPLICATION_CREDENTIAL_ID":     ac.ID,
			"OS_APPLICATION_CREDENTIAL_SECRET": hex.EncodeToString(secret),
			"OS_INTERFACE":                     string(src.Endpoint.Availability),
			"OS_REGION_NAME":                   src.Endpoint.Region,
		})
		throughOpenrc(t, ctx, tools, scenario.NewRunID(), user.Name, project.ID)
	})
}

// useOpenrc replaces the test's OS_* environment by vars, as sourcing an openrc
// in a fresh shell would.
func useOpenrc(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, v := range []string{"OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_USERNAME",
		"OS_USER_ID", "OS_PASSWORD", "OS_TOKEN", "OS_PROJECT_ID", "OS_PROJECT_NAME", "OS_TENANT_ID", "OS_TENANT_NAME",
		"OS_USER_DOMAIN_ID", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_ID",
		"OS_DOMAIN_NAME", "OS_DEFAULT_DOMAIN", "OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME",
		"OS_APPLICATION_CREDENTIAL_SECRET", "OS_REGION_NAME", "OS_INTERFACE", "OS_ENDPOINT_TYPE", "OS_CACERT",
		"OS_CERT", "OS_KEY", "OS_INSECURE", "OS_SYSTEM_SCOPE", "OS_IDENTITY_API_VERSION", "OS_AUTH_PLUGIN"} {
		t.Setenv(v, vars[v])
	}
}

// throughOpenrc loads the cloud from the OS_* environment, runs the endpoint
// checks through it, and applies fixtures/whoami with its TerraformEnv: both
// must log in as wantUser in project wantProject.
func throughOpenrc(t *testing.T, ctx context.Context, tools tf.Tools, runID, wantUser, wantProject string) {
	t.Helper()
	cfg, err := cloud.Load("")
	require.NoError(t, err)
	require.Equal(t, cloud.EnvCloud, cfg.Name)
	c := connect(t, ctx, cfg)
	_, user, project, _, err := c.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, wantUser, user.Name)
	assert.Equal(t, wantProject, project.ID)

	results, _ := runChecks(t, ctx, endpoint.Checks(c))
	reportResults(t, results, func(name string) bool { return adminOnlyEndpointChecks[name] })

	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/whoami", RunID: runID, Vars: map[string]any{"run_id": runID}})
	require.NoError(t, err)
	r := tf.NewTerratest(t, ws, tools, cfg.TerraformEnv())
	err = tf.Lifecycle(ctx, r, tf.LifecycleOptions{DestroyTimeout: 2 * time.Minute}, func(_ context.Context, out tf.Outputs) error {
		u, err := out.String("user_name")
		if err != nil {
			return err
		}
		p, err := out.String("project_id")
		if err != nil {
			return err
		}
		assert.Equal(t, wantUser, u, "OpenTofu's user")
		assert.Equal(t, wantProject, p, "OpenTofu's project")
		t.Logf("%s logged in as %q in project %s through the openrc", tools, u, p)
		return nil
	})
	require.NoError(t, err)
}
