package endpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/stretchr/testify/require"
)

// fakeCloud is a small OpenStack on httptest: Keystone issues and validates a
// token whose catalog points every service at this server under a path
// prefix; each API route answers a canned, realistic body. Tests replace
// routes to inject failures.
type fakeCloud struct {
	srv          *httptest.Server
	mu           sync.Mutex
	routes       map[string]route // "GET /compute/v2.1/servers"
	tokensIssued atomic.Int32
	provider     *gophercloud.ProviderClient
	eo           gophercloud.EndpointOpts
	role         string // the token's role
}

type route struct {
	status int
	body   string
}

func (f *fakeCloud) set(methodPath string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[methodPath] = route{status, body}
}

func (f *fakeCloud) tokenBody(catalog bool) string {
	cat := "[]"
	if catalog {
		ep := func(typ, path string) string {
			return fmt.Sprintf(`{"id":"%s-id","type":"%s","name":"%s","endpoints":[{"id":"e-%s","interface":"public","region":"RegionOne","region_id":"RegionOne","url":"%s%s"}]}`,
				typ, typ, typ, typ, f.srv.URL, path)
		}
		cat = "[" + strings.Join([]string{
			ep("identity", "/identity"), ep("compute", "/compute/v2.1"), ep("image", "/image"),
			ep("network", "/network"), ep("volumev3", "/volume/v3/p1"), ep("placement", "/placement"),
		}, ",") + "]"
	}
	return `{"token":{"methods":["password"],"expires_at":"2999-01-01T00:00:00.000000Z",` +
		`"user":{"id":"u1","name":"demo","domain":{"id":"default","name":"Default"}},` +
		`"project":{"id":"p1","name":"demo","domain":{"id":"default","name":"Default"}},` +
		`"roles":[{"id":"r1","name":"` + f.role + `"},{"id":"r2","name":"reader"}],"catalog":` + cat + `}}`
}

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	return newFakeCloudAs(t, "member")
}

// newFakeCloudAs authenticates with a token that has role (and reader).
func newFakeCloudAs(t *testing.T, role string) *fakeCloud {
	t.Helper()
	f := &fakeCloud{routes: map[string]route{}, role: role}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)

	// version documents of the unversioned endpoints (gophercloud discovers them)
	f.set("GET /image/", 300, `{"versions":[{"id":"v2.9","status":"CURRENT","links":[]},{"id":"v2.8","status":"SUPPORTED","links":[]}]}`)
	f.set("GET /network/", 200, `{"versions":[{"id":"v2.0","status":"CURRENT","links":[]}]}`)
	f.set("GET /placement/", 200, `{"versions":[{"id":"v1.0","max_version":"1.39","min_version":"1.0","status":"CURRENT","links":[]}]}`)
	f.set("GET /identity/v3/services", 200, `{"services":[{"id":"s1","type":"compute","name":"nova","enabled":true}],"links":{"next":null}}`)
	f.set("GET /compute/v2.1/servers", 200, `{"servers":[{"id":"9e5476bd","name":"vm-1","links":[]}]}`)
	f.set("GET /compute/v2.1/os-hypervisors/detail", 200, `{"hypervisors":[{"id":1,"hypervisor_hostname":"compute-1","state":"up","status":"enabled","hypervisor_type":"QEMU","hypervisor_version":7002000,"host_ip":"10.0.0.11","vcpus":2,"memory_mb":4096,"local_gb":40,"free_disk_gb":40,"cpu_info":"{}","service":{"host":"compute-1","id":5,"disabled_reason":null}}]}`)
	f.set("GET /image/v2/images", 200, `{"images":[{"id":"i1","name":"cloudpulse-tiny","status":"active"}],"first":"/v2/images"}`)
	f.set("GET /network/v2.0/networks", 200, `{"networks":[{"id":"n1","name":"public","status":"ACTIVE","admin_state_up":true}]}`)
	f.set("GET /network/v2.0/agents", 200, `{"agents":[{"id":"a1","agent_type":"Linux bridge agent","binary":"neutron-linuxbridge-agent","host":"controller","alive":true,"admin_state_up":true}]}`)
	f.set("GET /volume/v3/p1/volumes/detail", 200, `{"volumes":[]}`)
	f.set("GET /placement/resource_providers", 200, `{"resource_providers":[{"uuid":"rp1","name":"compute-1","generation":3}]}`)

	pc, err := openstack.NewClient(f.srv.URL + "/identity/v3")
	require.NoError(t, err)
	require.NoError(t, openstack.Authenticate(context.Background(), pc, gophercloud.AuthOptions{
		IdentityEndpoint: f.srv.URL + "/identity/v3", Username: "demo", Password: "secret",
		DomainName: "Default", TenantName: "demo", AllowReauth: true,
	}))
	f.provider = pc
	f.eo = gophercloud.EndpointOpts{Region: "RegionOne"}
	return f
}

func (f *fakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/identity/v3/auth/tokens" {
		f.mu.Lock()
		override, overridden := f.routes[r.Method+" /identity/v3/auth/tokens"]
		f.mu.Unlock()
		if overridden {
			w.WriteHeader(override.status)
			fmt.Fprint(w, override.body)
			return
		}
		switch r.Method {
		case http.MethodPost:
			n := f.tokensIssued.Add(1)
			w.Header().Set("X-Subject-Token", fmt.Sprint("tok-", n))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, f.tokenBody(true))
			return
		case http.MethodGet:
			if r.Header.Get("X-Subject-Token") != r.Header.Get("X-Auth-Token") {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
			fmt.Fprint(w, f.tokenBody(true))
			return
		}
	}
	f.mu.Lock()
	rt, ok := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":"no route %s %s"}`, r.Method, r.URL.Path)
		return
	}
	w.WriteHeader(rt.status)
	fmt.Fprint(w, rt.body)
}

// The Clients the checks use, built from the catalog like helpers/cloud does.
func (f *fakeCloud) Identity() (*gophercloud.ServiceClient, error) {
	return openstack.NewIdentityV3(f.provider, f.eo)
}
func (f *fakeCloud) Compute() (*gophercloud.ServiceClient, error) {
	return openstack.NewComputeV2(f.provider, f.eo)
}
func (f *fakeCloud) Image() (*gophercloud.ServiceClient, error) {
	return openstack.NewImageV2(f.provider, f.eo)
}
func (f *fakeCloud) Network() (*gophercloud.ServiceClient, error) {
	return openstack.NewNetworkV2(f.provider, f.eo)
}
func (f *fakeCloud) BlockStorage() (*gophercloud.ServiceClient, error) {
	return openstack.NewBlockStorageV3(f.provider, f.eo)
}
func (f *fakeCloud) Placement() (*gophercloud.ServiceClient, error) {
	return openstack.NewPlacementV1(f.provider, f.eo)
}
