package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Operator mode: Go generates the new user's password (a fresh one per run),
// hands it to OpenTofu as the variable tenant_password, and the workspace's
// runners know it — with the cloud's own password — as secrets to redact.
// No fixture output carries it back.
func TestOperatorModeTenantPasswordIsGeneratedAndSecret(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	t.Setenv("CLOUDPULSE_ROOT", filepath.Join(wd, "..", ".."))
	t.Setenv("CLOUDPULSE_STATE_DIR", t.TempDir())
	c := &cloud.Config{Name: "admin", File: "/etc/openstack/clouds.yaml", Auth: gophercloud.AuthOptions{Password: "admin-pw-123"}}

	f, err := NewFunctional(FunctionalOptions{Cloud: c, CreateProject: true})
	require.NoError(t, err)
	pw := f.Options().TenantPassword
	assert.Regexp(t, `^Cp!`, pw)
	assert.GreaterOrEqual(t, len(pw), 24)
	assert.Equal(t, pw, f.Vars()["tenant_password"])
	assert.ElementsMatch(t, []string{"admin-pw-123", pw}, f.Secrets())

	g, err := NewFunctional(FunctionalOptions{Cloud: c, CreateProject: true})
	require.NoError(t, err)
	assert.NotEqual(t, pw, g.Options().TenantPassword, "one password per run")

	ws, err := f.Workspace()
	require.NoError(t, err)
	assert.Subset(t, ws.Secrets().Values(), []string{"admin-pw-123", pw})

	outputs, err := os.ReadFile(filepath.Join(ws.Dir, "outputs.tf"))
	require.NoError(t, err)
	assert.NotContains(t, string(outputs), "password", "no output of the fixture holds the password")
	assert.NotContains(t, string(outputs), "credentials")

	tenant, err := NewFunctional(FunctionalOptions{Cloud: c})
	require.NoError(t, err)
	assert.Empty(t, tenant.Options().TenantPassword, "tenant mode creates no user")
	assert.NotContains(t, tenant.Vars(), "tenant_password")

	_, err = NewFunctional(FunctionalOptions{Cloud: c, CreateProject: true, TenantPassword: "short"})
	assert.EqualError(t, err, "functional: the tenant password must be at least 12 characters")
	assert.False(t, strings.Contains(err.Error(), "short"), "the error never quotes it")
}
