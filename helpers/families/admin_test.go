package families

import (
	"context"
	"errors"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

// roleCloud is a cloud whose token has the admin role or not (or whose roles cannot be read).
type roleCloud struct {
	admin bool
	err   error
}

var errNoClient = errors.New("no client in this test")

func (roleCloud) Compute() (*gophercloud.ServiceClient, error)      { return nil, errNoClient }
func (roleCloud) Network() (*gophercloud.ServiceClient, error)      { return nil, errNoClient }
func (roleCloud) BlockStorage() (*gophercloud.ServiceClient, error) { return nil, errNoClient }
func (r roleCloud) IsAdmin(context.Context) (bool, error)           { return r.admin, r.err }

const noRole = `cloud "prod-admin" is declared admin: true but its token has no admin role (give its clouds.yaml entry a user with the admin role, or drop admin: true)`

func TestDeclaredAdminWithoutTheRoleFailsInsteadOfSkipping(t *testing.T) {
	results := check.Runner{}.Run(t.Context(), operatorChecks(t.Context(), &operator.ServiceMap{}, nil, roleCloud{}, "prod-admin", true)...)
	require.Len(t, results, 3)
	for _, r := range results {
		assert.Equal(t, check.Failed, r.Status(), r.Name)
		assert.Equal(t, r.Name+": "+noRole, r.Error)
	}
	// not declared: the same cloud's checks skip, saying why
	results = check.Runner{}.Run(t.Context(), operatorChecks(t.Context(), &operator.ServiceMap{}, nil, roleCloud{}, "prod-admin", false)...)
	for _, r := range results {
		assert.Equal(t, check.Skipped, r.Status(), r.Name)
	}
}

func TestAdminRoleCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		cloud roleCloud
		want  string
	}{
		"has the role": {roleCloud{admin: true}, ""},
		"lost it":      {roleCloud{}, noRole},
		"roles unread": {roleCloud{err: errors.New("token: HTTP 503")}, `read the roles of cloud "prod-admin"'s token: token: HTTP 503`},
	} {
		t.Run(name, func(t *testing.T) {
			r := check.Runner{}.Run(t.Context(), AdminRoleCheck(tc.cloud, "prod-admin"))[0]
			assert.Equal(t, "admin-role", r.Name)
			assert.Equal(t, tc.want, r.Error)
		})
	}
}
