package endpoint

import (
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// tokenRoles returns the role names of the token sc's provider authenticated
// with (Keystone v3), and whether they could be read.
func tokenRoles(sc *gophercloud.ServiceClient) ([]string, bool) {
	r, ok := sc.ProviderClient.GetAuthResult().(interface {
		ExtractRoles() ([]tokens.Role, error)
	})
	if !ok {
		return nil, false
	}
	roles, err := r.ExtractRoles()
	if err != nil {
		return nil, false
	}
	names := make([]string, len(roles))
	for i, role := range roles {
		names[i] = role.Name
	}
	return names, true
}

// notAdmin reports whether the token certainly lacks the admin role, and its
// roles for the message. Some APIs (neutron's agents) answer non-admins with
// an empty list instead of HTTP 403.
func notAdmin(sc *gophercloud.ServiceClient) (string, bool) {
	roles, ok := tokenRoles(sc)
	if !ok || slices.Contains(roles, "admin") {
		return "", false
	}
	return strings.Join(roles, ", "), true
}
