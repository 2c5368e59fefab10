package scenario

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// existingFake answers the read calls ExistingVars makes for a project with
// web-1 (a port with a floating IP, group g1, volume v1 named "data") and two
// servers named dup, and records every request.
type existingFake struct {
	mu       sync.Mutex
	requests []string
}

func (e *existingFake) serve(f *fakeCloud) http.HandlerFunc {
	answers := map[string]string{
		"/compute/v2.1/servers/detail":         `{"servers": [{"id": "s1", "name": "web-1"}, {"id": "s2", "name": "dup"}, {"id": "s3", "name": "dup"}]}`,
		"/network/v2.0/ports?device_id=s1":     `{"ports": [{"id": "p1", "device_id": "s1", "security_groups": ["g1"]}]}`,
		"/network/v2.0/floatingips?port_id=p1": `{"floatingips": [{"id": "f1", "floating_ip_address": "172.24.4.10", "port_id": "p1"}]}`,
		"/network/v2.0/security-group-rules?security_group_id=g1": `{"security_group_rules": [
			{"id": "r2", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
			{"id": "r1", "direction": "egress", "ethertype": "IPv4"}]}`,
		"/compute/v2.1/servers/s1/os-volume_attachments": `{"volumeAttachments": [{"id": "v1", "serverId": "s1", "volumeId": "v1", "device": "/dev/vdb"}]}`,
		"/volume/v3/p1/volumes/v1":                       `{"volume": {"id": "v1", "name": "data", "status": "in-use"}}`,
		"/volume/v3/p1/volumes/detail?name=data":         `{"volumes": [{"id": "v1", "name": "data"}]}`,
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		e.mu.Lock()
		e.requests = append(e.requests, r.Method+" "+key)
		e.mu.Unlock()
		if body, ok := answers[key]; ok && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/identity/") || r.URL.Path == "/network/" {
			f.serve(w, r)
			return
		}
		http.Error(w, `{"error": "not faked: `+r.Method+" "+key+`"}`, http.StatusNotFound)
	}
}

func newExistingFake(t *testing.T) (*existingFake, *cloud.Cloud) {
	t.Helper()
	e, f := &existingFake{}, &fakeCloud{failList: map[string]bool{}}
	f.srv = httptest.NewServer(e.serve(f))
	t.Cleanup(f.srv.Close)
	pc, err := openstack.NewClient(f.srv.URL + "/identity/v3")
	require.NoError(t, err)
	require.NoError(t, openstack.Authenticate(context.Background(), pc, gophercloud.AuthOptions{
		IdentityEndpoint: f.srv.URL + "/identity/v3", Username: "demo", Password: "x", DomainName: "Default", TenantName: "demo"}))
	return e, &cloud.Cloud{Name: "fake", Provider: pc, Endpoint: gophercloud.EndpointOpts{Region: "RegionOne"}}
}

func TestExistingVarsReadsOnly(t *testing.T) {
	e, c := newExistingFake(t)
	vars, err := ExistingVars(context.Background(), c, ExistingSelection{Project: "demo", VMs: []string{"web-1"}})
	require.NoError(t, err)
	b, err := json.Marshal(vars)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"cloud": "fake",
		"server_ids": ["s1"],
		"floating_ips": {"172.24.4.10": "s1"},
		"volumes": [{"id": "v1", "name": "data", "server_id": "s1"}],
		"security_group_rules": {"g1": [
			{"direction": "egress", "ethertype": "IPv4", "protocol": "", "port_min": 0, "port_max": 0, "remote_ip_prefix": "", "remote_group_id": ""},
			{"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_min": 22, "port_max": 22, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": ""}]}
	}`, string(b))
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.requests {
		if !strings.HasPrefix(r, "GET ") && r != "POST /identity/v3/auth/tokens" {
			t.Errorf("ExistingVars made a request that is not a read: %s", r)
		}
	}
	assert.Contains(t, e.requests, "GET /compute/v2.1/servers/detail", "the caller's own project: no all_tenants")
}

func TestExistingVarsErrors(t *testing.T) {
	_, c := newExistingFake(t)
	ctx := context.Background()
	_, err := ExistingVars(ctx, c, ExistingSelection{VMs: []string{"dup"}})
	assert.EqualError(t, err, `2 servers are named "dup" in project p1 (s2, s3): name it by id`)
	_, err = ExistingVars(ctx, c, ExistingSelection{VMs: []string{"web-9"}})
	assert.EqualError(t, err, `no server named "web-9" or with that id in project p1`)
	_, err = ExistingVars(ctx, c, ExistingSelection{Project: "other"})
	assert.EqualError(t, err, `project "other" is not the credentials' project demo (p1): reading another project's servers needs the admin role, or credentials of that project`)
}
