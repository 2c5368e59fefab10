package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

// memberCloud is a cloud whose token has no admin role (or whose roles cannot be read).
type memberCloud struct{ err error }

var errNoClient = errors.New("no client in this test")

func (memberCloud) Compute() (*gophercloud.ServiceClient, error)      { return nil, errNoClient }
func (memberCloud) Network() (*gophercloud.ServiceClient, error)      { return nil, errNoClient }
func (memberCloud) BlockStorage() (*gophercloud.ServiceClient, error) { return nil, errNoClient }
func (m memberCloud) IsAdmin(context.Context) (bool, error)           { return false, m.err }

func TestOperatorAgentChecksSkipVisiblyWithoutAdmin(t *testing.T) {
	checks := operatorChecks(t.Context(), &operator.ServiceMap{}, nil, memberCloud{}, "lab-member")
	results := check.Runner{}.Run(t.Context(), checks...)
	for i := range results {
		results[i].Duration = 0 // a stable table
	}
	var table bytes.Buffer
	require.NoError(t, check.WriteTable(&table, results))
	reason := `needs the admin role: cloud "lab-member"'s token has none (give --cloud a cloud with the admin role to run it)`
	assert.Equal(t, ""+
		"NAME             STATUS  DURATION  DETAIL\n"+
		"nova-services    skip    0s        "+reason+"\n"+
		"neutron-agents   skip    0s        "+reason+"\n"+
		"cinder-services  skip    0s        "+reason+"\n"+
		"0 passed, 0 failed, 3 skipped\n", table.String())
	var js bytes.Buffer
	require.NoError(t, check.WriteJSON(&js, results))
	assert.Contains(t, js.String(), `"name": "neutron-agents",
    "status": "skip",`)
	assert.Contains(t, js.String(), `"reason": "needs the admin role: cloud \"lab-member\"'s token has none`)
}

func TestOperatorAgentChecksFailWhenRolesUnknown(t *testing.T) {
	checks := operatorChecks(t.Context(), &operator.ServiceMap{}, nil, memberCloud{err: errors.New("token: HTTP 503")}, "a")
	results := check.Runner{}.Run(t.Context(), checks...)
	require.Len(t, results, 3)
	for _, r := range results {
		assert.Equal(t, check.Failed, r.Status(), r.Name)
		assert.Equal(t, r.Name+`: read the roles of cloud "a"'s token: token: HTTP 503`, r.Error)
	}
}
