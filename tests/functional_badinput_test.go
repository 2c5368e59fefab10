package tests

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// TestFunctionalBadInput proves, on a real cloud, that bad input to the
// Functional scenario is refused with one clear line each before anything
// exists: a wrong password, a missing image, flavor and external network (all
// three named in one error), and a project without quota for servers and
// floating IPs. After each, nothing carries the run's tag.
//
//	OS_CLOUD=mycloud CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -run FunctionalBadInput ./tests/
func TestFunctionalBadInput(t *testing.T) {
	cfg := cloudConfig(t)
	ctx := runContext(t, 2*time.Minute)

	t.Run("wrong password", func(t *testing.T) {
		if cfg.Auth.Password == "" {
			t.Skipf("cloud %q authenticates without a password", cfg.Name)
		}
		bad := *cfg
		// random, not a variant of the real one ("wrong-" + it), which a lockout or
		// password-guessing policy could count against the real user
		bad.Auth.Password = wrongPassword(t)
		require.NotContains(t, bad.Auth.Password, cfg.Auth.Password)
		_, err := bad.Connect(ctx)
		require.Error(t, err)
		t.Logf("refused: %v", err)
		assert.Contains(t, err.Error(), "keystone refused the credentials")
		assert.Contains(t, err.Error(), cfg.Name)
		assert.NotContains(t, err.Error(), bad.Auth.Password, "the error must not show the password")
		assert.NotContains(t, err.Error(), cfg.Auth.Password, "the error must not show the password")
		assert.NotContains(t, err.Error(), "\n", "one line")
	})

	t.Run("missing image, flavor and external network", func(t *testing.T) {
		c := connect(t, ctx, cfg)
		f, err := scenario.NewFunctional(scenario.FunctionalOptions{
			Cloud: cfg, Image: "cp-no-such-image", Flavor: "cp-no-such-flavor", ExternalNetwork: "cp-no-such-network",
		})
		require.NoError(t, err)
		err = f.Precheck(ctx, c)
		var pe *scenario.PrecheckError
		require.ErrorAs(t, err, &pe)
		t.Logf("refused: %v", err)
		require.Len(t, pe.Missing, 3, "exactly the three missing things: %v", pe.Missing)
		for _, want := range []string{
			`image "cp-no-such-image" not found`, `flavor "cp-no-such-flavor" not found`,
			`external network "cp-no-such-network" not found`,
		} {
			assert.Contains(t, err.Error(), want)
		}
		assertNothingTagged(t, ctx, c, f.RunID())
	})

	t.Run("no quota", func(t *testing.T) {
		admin := connect(t, ctx, adminCloud(t))
		runID := scenario.NewRunID()
		tenant := quotalessTenant(t, ctx, admin, cfg, runID)
		c := connect(t, ctx, tenant)
		f, err := scenario.NewFunctional(scenario.FunctionalOptions{Cloud: tenant, RunID: runID})
		require.NoError(t, err)
		err = f.Precheck(ctx, c)
		var pe *scenario.PrecheckError
		require.ErrorAs(t, err, &pe)
		t.Logf("refused: %v", err)
		assert.Contains(t, err.Error(), "quota: instances has room for 0, the scenario needs 2")
		assert.Contains(t, err.Error(), "quota: floating IPs has room for 0, the scenario needs 2")
		assertNothingTagged(t, ctx, c, runID)
	})
}

func assertNothingTagged(t *testing.T, ctx context.Context, c *cloud.Cloud, runID string) {
	t.Helper()
	left, err := scenario.Leftovers(ctx, c, runID)
	require.NoError(t, err)
	assert.Empty(t, left, "a refused run must create nothing")
}

// quotalessTenant creates, as admin, a project with no room for servers or
// floating IPs and a member user in it, and returns that user's credentials
// (the same auth_url and endpoint selection as base). Both are deleted when
// the test ends, with their own context.
func quotalessTenant(t *testing.T, ctx context.Context, admin *cloud.Cloud, base *cloud.Config, runID string) *cloud.Config {
	t.Helper()
	id, err := admin.Identity()
	require.NoError(t, err)
	_, adminUser, _, _, err := admin.Token(ctx)
	require.NoError(t, err)
	domain := adminUser.Domain.ID
	name := "cp-" + runID + "-noquota"

	proj, err := projects.Create(ctx, id, projects.CreateOpts{Name: name, DomainID: domain,
		Description: "cloudpulse TestFunctionalBadInput " + scenario.RunTag(runID)}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		cleanupIdentity(t, id, "project "+name, func(ctx context.Context) error { return projects.Delete(ctx, id, proj.ID).ExtractErr() })
	})

	password := rand.Text()
	user, err := users.Create(ctx, id, users.CreateOpts{Name: name, DomainID: domain, DefaultProjectID: proj.ID, Password: password}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		cleanupIdentity(t, id, "user "+name, func(ctx context.Context) error { return users.Delete(ctx, id, user.ID).ExtractErr() })
	})

	pages, err := roles.List(id, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	found, err := roles.ExtractRoles(pages)
	require.NoError(t, err)
	require.NotEmpty(t, found, "the cloud has no role named member")
	require.NoError(t, roles.Assign(ctx, id, found[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: proj.ID}).ExtractErr())

	zero := 0
	cc, err := admin.Compute()
	require.NoError(t, err)
	_, err = quotasets.Update(ctx, cc, proj.ID, quotasets.UpdateOpts{Instances: &zero}).Extract()
	require.NoError(t, err)
	nc, err := admin.Network()
	require.NoError(t, err)
	_, err = quotas.Update(ctx, nc, proj.ID, quotas.UpdateOpts{FloatingIP: &zero}).Extract()
	require.NoError(t, err)

	tenant := *base
	tenant.Name = base.Name + " as " + name
	tenant.File = ""
	tenant.Auth = gophercloud.AuthOptions{IdentityEndpoint: base.Auth.IdentityEndpoint, Username: name, DomainID: domain,
		Password: password, TenantID: proj.ID}
	return &tenant
}

func cleanupIdentity(t *testing.T, id *gophercloud.ServiceClient, what string, del func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := del(ctx); err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "404") {
		t.Errorf("delete %s: %v", what, err)
	}
}
