package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// fakeRes is one resource of the fake cloud.
type fakeRes struct {
	kind, project, user, id, name, desc string
	tags                                []string
	meta                                map[string]string
}

// fakeCloud is the OpenStack APIs cleanup uses, on httptest: it keeps
// resources by project (Neutron shows an admin every project unless asked for
// one, as the real one does), answers lists and deletes, and records every
// request so tests can see where the listings looked.
type fakeCloud struct {
	srv      *httptest.Server
	admin    bool
	failList map[string]bool // path suffix → 500
	// path suffix → how many GETs answer 503 first
	unavailable map[string]int
	tokenGet    int // status of GET /auth/tokens (0: 200)

	mu       sync.Mutex
	res      []*fakeRes
	deleted  []string
	requests []string
}

const created = "2026-12-01T10:00:00Z"

func newFake(t *testing.T, admin bool, res ...*fakeRes) (*fakeCloud, *cloud.Cloud) {
	t.Helper()
	f := &fakeCloud{admin: admin, res: res, failList: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	pc, err := openstack.NewClient(f.srv.URL + "/identity/v3")
	require.NoError(t, err)
	require.NoError(t, openstack.Authenticate(context.Background(), pc, gophercloud.AuthOptions{
		IdentityEndpoint: f.srv.URL + "/identity/v3", Username: "demo", Password: "x", DomainName: "Default", TenantName: "demo"}))
	return f, &cloud.Cloud{Name: "fake", Provider: pc, Endpoint: gophercloud.EndpointOpts{Region: "RegionOne"}}
}

func (f *fakeCloud) token() string {
	ep := func(typ, path string) string {
		return fmt.Sprintf(`{"id":"%s","type":"%s","name":"%s","endpoints":[{"id":"e%s","interface":"public","region":"RegionOne","region_id":"RegionOne","url":"%s%s"}]}`,
			typ, typ, typ, typ, f.srv.URL, path)
	}
	role := "member"
	if f.admin {
		role = "admin"
	}
	return `{"token":{"methods":["password"],"expires_at":"2999-01-01T00:00:00.000000Z",` +
		`"user":{"id":"u1","name":"demo","domain":{"id":"default","name":"Default"}},` +
		`"project":{"id":"p1","name":"demo","domain":{"id":"default","name":"Default"}},` +
		`"roles":[{"id":"r1","name":"` + role + `"}],"catalog":[` + strings.Join([]string{ep("identity", "/identity"),
		ep("compute", "/compute/v2.1"), ep("image", "/image"), ep("network", "/network"), ep("volumev3", "/volume/v3/p1")}, ",") + `]}}`
}

// listed is what a listing request sees: the resources of kind in project (all projects when "").
func (f *fakeCloud) listed(kind, project, user string) []*fakeRes {
	var out []*fakeRes
	for _, r := range f.res {
		if r.kind == kind && (project == "" || r.project == project) && (user == "" || r.user == user) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	w.Header().Set("Content-Type", "application/json")
	reply := func(status int, v any) {
		w.WriteHeader(status)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	path := r.URL.Path
	for suffix, n := range f.unavailable {
		if r.Method == http.MethodGet && strings.HasSuffix(path, suffix) && n > 0 {
			f.unavailable[suffix] = n - 1
			reply(503, map[string]string{"error": "no server is available"})
			return
		}
	}
	for suffix := range f.failList {
		if r.Method == http.MethodGet && strings.HasSuffix(path, suffix) {
			reply(500, map[string]string{"error": "boom"})
			return
		}
	}
	switch {
	case path == "/identity/v3/auth/tokens" && r.Method == http.MethodPost:
		w.Header().Set("X-Subject-Token", "tok")
		w.WriteHeader(201)
		fmt.Fprint(w, f.token())
		return
	case path == "/identity/v3/auth/tokens":
		if f.tokenGet != 0 {
			reply(f.tokenGet, map[string]string{"error": "keystone down"})
			return
		}
		w.Header().Set("X-Subject-Token", "tok")
		fmt.Fprint(w, f.token())
		return
	case path == "/network/":
		reply(200, map[string]any{"versions": []any{map[string]any{"id": "v2.0", "status": "CURRENT", "links": []any{}}}})
		return
	case path == "/image/":
		reply(300, map[string]any{"versions": []any{map[string]any{"id": "v2.9", "status": "CURRENT", "links": []any{}}}})
		return
	}
	if r.Method == http.MethodDelete || (r.Method == http.MethodPut && strings.HasSuffix(path, "/remove_router_interface")) {
		id := path[strings.LastIndex(path, "/")+1:]
		if r.Method == http.MethodPut {
			reply(200, map[string]any{"id": "x"})
			return
		}
		user := q.Get("user_id")
		if user == "" {
			user = "u1"
		}
		for i, x := range f.res {
			if x.id == id && (x.kind != "keypair" || x.user == user) {
				f.res = append(f.res[:i], f.res[i+1:]...)
				f.deleted = append(f.deleted, x.id)
				reply(204, nil)
				return
			}
		}
		reply(404, map[string]string{"error": "not found"})
		return
	}
	neutron := map[string]string{"floatingips": "floating-ip", "ports": "port", "routers": "router",
		"subnets": "subnet", "networks": "network", "security-groups": "security-group"}
	if kind, ok := neutron[strings.TrimPrefix(path, "/network/v2.0/")]; ok {
		items := []map[string]any{}
		for _, x := range f.listed(kind, q.Get("project_id"), "") {
			items = append(items, map[string]any{"id": x.id, "name": x.name, "description": x.desc, "floating_ip_address": "172.24.4.9",
				"tags": x.tags, "project_id": x.project, "created_at": created})
		}
		key := strings.ReplaceAll(strings.TrimPrefix(path, "/network/v2.0/"), "-", "_")
		reply(200, map[string]any{key: items})
		return
	}
	// Nova and Cinder list the token's project unless an admin asks for all (and then filters by project).
	project := "p1"
	if q.Get("all_tenants") != "" || q.Get("all_projects") != "" {
		project = q.Get("tenant_id") + q.Get("project_id")
	}
	switch {
	case path == "/compute/v2.1/servers/detail":
		items := []map[string]any{}
		for _, x := range f.listed("server", project, "") {
			items = append(items, map[string]any{"id": x.id, "name": x.name, "metadata": x.meta, "tenant_id": x.project, "created": created})
		}
		reply(200, map[string]any{"servers": items})
	case strings.HasPrefix(path, "/compute/v2.1/servers/"):
		reply(404, map[string]string{"error": "not found"}) // deleted at once
	case path == "/compute/v2.1/os-server-groups":
		items := []map[string]any{}
		for _, x := range f.listed("server-group", project, "") {
			items = append(items, map[string]any{"id": x.id, "name": x.name, "project_id": x.project, "policies": []string{"anti-affinity"}})
		}
		reply(200, map[string]any{"server_groups": items})
	case path == "/compute/v2.1/os-keypairs":
		user := q.Get("user_id")
		if user == "" {
			user = "u1"
		}
		items := []map[string]any{}
		for _, x := range f.listed("keypair", "", user) {
			items = append(items, map[string]any{"keypair": map[string]any{"name": x.name}})
		}
		reply(200, map[string]any{"keypairs": items})
	case strings.HasPrefix(path, "/compute/v2.1/os-keypairs/"):
		reply(200, map[string]any{"keypair": map[string]any{"name": "k", "created_at": "2026-12-01T10:00:00.000000"}})
	case path == "/volume/v3/p1/volumes/detail":
		items := []map[string]any{}
		for _, x := range f.listed("volume", project, "") {
			items = append(items, map[string]any{"id": x.id, "name": x.name, "metadata": x.meta, "created_at": "2026-12-01T10:00:00.000000"})
		}
		reply(200, map[string]any{"volumes": items})
	case path == "/image/v2/images":
		items := []map[string]any{}
		for _, x := range f.listed("image", q.Get("owner"), "") {
			items = append(items, map[string]any{"id": x.id, "name": x.name, "tags": x.tags, "owner": x.project, "created_at": created})
		}
		reply(200, map[string]any{"images": items})
	case path == "/identity/v3/projects":
		items := []map[string]any{}
		for _, x := range f.listed("project", "", "") {
			if x.name == q.Get("name") {
				items = append(items, map[string]any{"id": x.id, "name": x.name, "domain_id": "default", "tags": x.tags})
			}
		}
		reply(200, map[string]any{"projects": items, "links": map[string]any{}})
	case path == "/identity/v3/users":
		items := []map[string]any{}
		for _, x := range f.listed("user", "", "") {
			if x.name == q.Get("name") {
				items = append(items, map[string]any{"id": x.id, "name": x.name, "domain_id": "default", "default_project_id": x.project})
			}
		}
		reply(200, map[string]any{"users": items, "links": map[string]any{}})
	default:
		reply(404, map[string]string{"error": "no route " + path})
	}
}
