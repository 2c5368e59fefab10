package endpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

func run(t *testing.T, c check.Check) check.Result {
	t.Helper()
	return check.Runner{}.RunOne(context.Background(), c)
}

func TestChecksAllPassOnAHealthyCloud(t *testing.T) {
	f := newFakeCloud(t)
	results := check.Runner{}.Run(context.Background(), Checks(f)...)
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
		assert.Equal(t, check.Passed, r.Status(), "%s: %s", r.Name, r.Detail())
	}
	assert.Equal(t, []string{"identity", "compute", "image", "network", "block-storage",
		"identity/services", "compute/hypervisors", "network/agents", "placement"}, names)
}

func TestIdentityValidatesWithoutReissuing(t *testing.T) {
	f := newFakeCloud(t)
	before := f.tokensIssued.Load()
	require.Equal(t, check.Passed, run(t, Identity(f)).Status())
	assert.Equal(t, before, f.tokensIssued.Load(), "no re-authentication: it would stall concurrent checks")
}

func TestIdentityFailures(t *testing.T) {
	for _, tc := range []struct {
		name, method string
		status       int
		body, want   string
	}{
		{"token revoked", "GET", 404, `{"error":{"code":404,"message":"Could not find token."}}`,
			"identity: validate token: GET http://"},
		{"keystone down", "GET", 503, "<html><body>" + strings.Repeat("Service Unavailable ", 40) + "</body></html>",
			"/identity/v3/auth/tokens: got HTTP 503: <html><body>Service Unavailable"},
		{"validation fails", "GET", 500, `{"error":{"code":500}}`,
			"identity: validate token: GET http://"},
		{"empty catalog", "GET", 200, `{"token":{"expires_at":"2999-01-01T00:00:00Z","catalog":[]}}`,
			"identity: the token's service catalog is empty: scope the credentials to a project"},
		{"expired", "GET", 200, `{"token":{"expires_at":"2001-01-01T00:00:00Z","catalog":[{"type":"compute","endpoints":[]}]}}`,
			"identity: token already expired at 2001-01-01T00:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.set(tc.method+" /identity/v3/auth/tokens", tc.status, tc.body)
			res := run(t, Identity(f))
			assert.Equal(t, check.Failed, res.Status())
			assert.Contains(t, res.Error, tc.want)
			assert.Less(t, len(res.Error), 500, "error bodies are cut short: %s", res.Error)
		})
	}
}

func TestListFailuresNameTheCallURLAndStatus(t *testing.T) {
	for _, tc := range []struct {
		check func(Clients) check.Check
		route string
		want  string
	}{
		{Compute, "GET /compute/v2.1/servers", "compute: list servers: GET %s/compute/v2.1/servers?limit=1: got HTTP 503: {\"computeFault\": {\"code\": 503}}"},
		{Image, "GET /image/v2/images", "image: list images: GET %s/image/v2/images?limit=1: got HTTP 503"},
		{Network, "GET /network/v2.0/networks", "network: list networks: GET %s/network/v2.0/networks?limit=1: got HTTP 503"},
		{BlockStorage, "GET /volume/v3/p1/volumes/detail", "block-storage: list volumes: GET %s/volume/v3/p1/volumes/detail?limit=1: got HTTP 503"},
		{IdentityServices, "GET /identity/v3/services", "identity: list services: GET %s/identity/v3/services: got HTTP 503"},
		{ComputeHypervisors, "GET /compute/v2.1/os-hypervisors/detail", "compute: list hypervisors: GET %s/compute/v2.1/os-hypervisors/detail: got HTTP 503"},
		{NetworkAgents, "GET /network/v2.0/agents", "network: list agents: GET %s/network/v2.0/agents: got HTTP 503"},
		{Placement, "GET /placement/resource_providers", "placement: list resource providers: GET %s/placement/resource_providers: got HTTP 503"},
	} {
		t.Run(tc.route, func(t *testing.T) {
			f := newFakeCloud(t)
			f.set(tc.route, 503, `{"computeFault": {"code": 503}}`)
			res := run(t, tc.check(f))
			assert.Equal(t, check.Failed, res.Status())
			assert.Contains(t, res.Error, strings.Replace(tc.want, "%s", f.srv.URL, 1))
			var code gophercloud.ErrUnexpectedResponseCode
			assert.True(t, errors.As(res.Err, &code), "the gophercloud error stays reachable")
			assert.True(t, gophercloud.ResponseCodeIs(res.Err, 503))
		})
	}
}

func TestAdminChecksSkipOn403(t *testing.T) {
	for _, tc := range []struct {
		check  func(Clients) check.Check
		route  string
		reason string
	}{
		{IdentityServices, "GET /identity/v3/services", "identity: list services needs admin rights (HTTP 403 for these credentials)"},
		{ComputeHypervisors, "GET /compute/v2.1/os-hypervisors/detail", "compute: list hypervisors needs admin rights (HTTP 403 for these credentials)"},
		{NetworkAgents, "GET /network/v2.0/agents", "network: list agents needs admin rights (HTTP 403 for these credentials)"},
		{Placement, "GET /placement/resource_providers", "placement: list resource providers needs admin rights (HTTP 403 for these credentials)"},
	} {
		t.Run(tc.route, func(t *testing.T) {
			f := newFakeCloud(t)
			f.set(tc.route, 403, `{"error":{"code":403,"message":"Policy doesn't allow"}}`)
			res := run(t, tc.check(f))
			assert.Equal(t, check.Skipped, res.Status())
			assert.Equal(t, tc.reason, res.Reason)
		})
	}
}

func TestMemberChecksFailOn403(t *testing.T) {
	f := newFakeCloud(t)
	f.set("GET /compute/v2.1/servers", 403, `{"forbidden":{"code":403}}`)
	res := run(t, Compute(f))
	assert.Equal(t, check.Failed, res.Status(), "listing one's own servers never needs admin")
}

func TestAdminChecksFailWhenEmpty(t *testing.T) {
	for _, tc := range []struct {
		check func(Clients) check.Check
		route string
		body  string
		want  string
	}{
		{IdentityServices, "GET /identity/v3/services", `{"services":[],"links":{}}`, "identity: list services: keystone has no services registered"},
		{ComputeHypervisors, "GET /compute/v2.1/os-hypervisors/detail", `{"hypervisors":[]}`, "compute: list hypervisors: nova knows no hypervisor"},
		{NetworkAgents, "GET /network/v2.0/agents", `{"agents":[]}`, "network: list agents: neutron reports no agent"},
		{Placement, "GET /placement/resource_providers", `{"resource_providers":[]}`, "placement: list resource providers: none registered"},
	} {
		t.Run(tc.route, func(t *testing.T) {
			f := newFakeCloudAs(t, "admin")
			f.set(tc.route, 200, tc.body)
			res := run(t, tc.check(f))
			assert.Equal(t, check.Failed, res.Status())
			assert.Contains(t, res.Error, tc.want)
		})
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	f := newFakeCloud(t)
	f.srv.Close()
	res := run(t, Compute(f))
	assert.Equal(t, check.Failed, res.Status())
	assert.Regexp(t, `^compute: list servers: Get "http://127\.0\.0\.1:\d+/compute/v2\.1/servers\?limit=1": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$`, res.Error)
}

func TestVersionDiscoveryFailureNamesTheService(t *testing.T) {
	f := newFakeCloud(t)
	f.set("GET /network/", 503, "<html>503 Service Unavailable</html>")
	res := run(t, Network(f))
	assert.Equal(t, check.Failed, res.Status())
	assert.Equal(t, fmt.Sprintf("network: version discovery: GET %s/network/: got HTTP 503: <html>503 Service Unavailable</html>", f.srv.URL), res.Error)
}

type noEndpoint struct{ Clients }

func (noEndpoint) Placement() (*gophercloud.ServiceClient, error) {
	return nil, errors.New(`cloud "lab": no placement endpoint in the catalog (region "RegionOne")`)
}

func TestMissingCatalogEntry(t *testing.T) {
	f := newFakeCloud(t)
	res := run(t, Placement(noEndpoint{f}))
	assert.Equal(t, `placement: cloud "lab": no placement endpoint in the catalog (region "RegionOne")`, res.Error)
}

func TestNetworkAgentsEmptyForNonAdminSkips(t *testing.T) {
	f := newFakeCloud(t) // member, reader
	f.set("GET /network/v2.0/agents", 200, `{"agents":[]}`)
	res := run(t, NetworkAgents(f))
	assert.Equal(t, check.Skipped, res.Status())
	assert.Equal(t, "network: list agents needs admin rights (neutron shows non-admins no agent; these credentials have roles member, reader)", res.Reason)
}
