package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

var now = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

func svc(host, status, state, reason string) services.Service {
	return services.Service{Binary: "nova-compute", Host: host, Zone: "nova", Status: status, State: state, DisabledReason: reason, UpdatedAt: now.Add(-90 * time.Second)}
}

func TestClassifyHosts(t *testing.T) {
	all := []services.Service{
		svc("compute-3", "enabled", "down", ""),
		svc("compute-1", "enabled", "up", ""),
		svc("compute-2", "disabled", "up", "hardware swap, ticket 42"),
		svc("compute-4", "enabled", "up", ""),
	}
	use, results, err := classifyHosts(all, nil, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"compute-1", "compute-4"}, use)
	require.Len(t, results, 2)

	assert.Equal(t, "boot/compute-2", results[0].Name)
	assert.Equal(t, check.Skipped, results[0].Status())
	assert.Equal(t, "nova-compute on compute-2 is disabled by an operator: hardware swap, ticket 42", results[0].Reason)

	assert.Equal(t, "boot/compute-3", results[1].Name)
	assert.Equal(t, check.Failed, results[1].Status())
	assert.Equal(t, "nova-compute on compute-3 is enabled but down (last heartbeat 2026-12-02T13:58:30Z, 1m30s ago)", results[1].Error)
	assert.Equal(t, "compute-3", results[1].Details["host"])

	// CLOUDPULSE_HOSTS narrows the set
	use, results, err = classifyHosts(all, []string{"compute-4", "compute-3"}, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"compute-4"}, use)
	require.Len(t, results, 1)
	assert.Equal(t, "boot/compute-3", results[0].Name)

	_, _, err = classifyHosts(all, []string{"compute-9", "compute-1"}, now)
	require.EqualError(t, err, "CLOUDPULSE_HOSTS names compute-9, not a nova-compute host of this cloud (hosts: compute-1, compute-2, compute-3, compute-4)")

	_, _, err = classifyHosts(all, []string{"compute-2", "compute-3"}, now)
	require.EqualError(t, err, "no compute host is enabled and up: nova-compute on compute-2 is disabled by an operator: hardware swap, ticket 42; "+
		"nova-compute on compute-3 is enabled but down (last heartbeat 2026-12-02T13:58:30Z, 1m30s ago)")

	forced := svc("compute-1", "enabled", "up", "")
	forced.ForcedDown = true
	_, results, err = classifyHosts([]services.Service{forced}, nil, now)
	require.Error(t, err)
	assert.Equal(t, "nova-compute on compute-1 is enabled but down (forced down, last heartbeat 2026-12-02T13:58:30Z, 1m30s ago)", results[0].Error)

	_, _, err = classifyHosts(nil, nil, now)
	require.EqualError(t, err, "no nova-compute host found")
}

// precheckFake is a cloud with what the comprehensive precheck reads.
type precheckFake struct {
	admin      bool
	services   []map[string]any
	zones      []map[string]any
	servicesRC int // status of the services list (0: 200)
	instances  int // max instances (0: unlimited)
}

func (p *precheckFake) serve(w http.ResponseWriter, r *http.Request) bool {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	maxInst := -1
	if p.instances > 0 {
		maxInst = p.instances
	}
	switch r.URL.Path {
	case "/compute/v2.1/os-services":
		if p.servicesRC != 0 {
			reply(p.servicesRC, map[string]string{"error": "policy does not allow os_compute_api:os-services:list"})
			return true
		}
		if r.URL.Query().Get("binary") != "nova-compute" {
			reply(400, map[string]string{"error": "want binary=nova-compute"})
			return true
		}
		reply(200, map[string]any{"services": p.services})
	case "/compute/v2.1/os-availability-zone":
		reply(200, map[string]any{"availabilityZoneInfo": p.zones})
	case "/compute/v2.1/flavors/detail":
		reply(200, map[string]any{"flavors": []map[string]any{{"id": "f1", "name": "cp.tiny", "vcpus": 1, "ram": 128, "disk": 1}}})
	case "/compute/v2.1/limits":
		reply(200, map[string]any{"limits": map[string]any{"absolute": map[string]any{"maxTotalInstances": maxInst, "totalInstancesUsed": 0,
			"maxTotalCores": -1, "maxTotalRAMSize": -1}}})
	case "/image/v2/images":
		reply(200, map[string]any{"images": []map[string]any{{"id": "i1", "name": "cloudpulse-tiny", "status": "active"}}})
	case "/network/v2.0/networks":
		reply(200, map[string]any{"networks": []map[string]any{{"id": "n1", "name": "public", "router:external": true}}})
	case "/network/v2.0/quotas/p1/details.json":
		unl := map[string]any{"limit": -1, "used": 0, "reserved": 0}
		reply(200, map[string]any{"quota": map[string]any{"floatingip": unl, "network": unl, "router": unl, "security_group": unl, "port": unl}})
	default:
		return false
	}
	return true
}

func newPrecheckFake(t *testing.T, p *precheckFake) *cloud.Cloud {
	t.Helper()
	f := &fakeCloud{admin: p.admin, failList: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.serve(w, r) {
			f.serve(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	pc, err := openstack.NewClient(f.srv.URL + "/identity/v3")
	require.NoError(t, err)
	require.NoError(t, openstack.Authenticate(context.Background(), pc, gophercloud.AuthOptions{
		IdentityEndpoint: f.srv.URL + "/identity/v3", Username: "demo", Password: "x", DomainName: "Default", TenantName: "demo"}))
	return &cloud.Cloud{Name: "fake", Provider: pc, Endpoint: gophercloud.EndpointOpts{Region: "RegionOne"}}
}

func fakeService(host, status, state, reason string) map[string]any {
	return map[string]any{"id": "s-" + host, "binary": "nova-compute", "host": host, "zone": "nova", "status": status, "state": state,
		"disabled_reason": reason, "updated_at": "2026-12-02T13:54:38.000000"}
}

func newTestComprehensive(t *testing.T, o ComprehensiveOptions) *Comprehensive {
	t.Helper()
	o.Cloud = &cloud.Config{Name: "fake"}
	s, err := NewComprehensive(o)
	require.NoError(t, err)
	return s
}

func TestComprehensivePrecheckAsAdminPinsEveryUpHost(t *testing.T) {
	c := newPrecheckFake(t, &precheckFake{admin: true, services: []map[string]any{
		fakeService("compute-2", "enabled", "up", ""),
		fakeService("compute-1", "enabled", "up", ""),
		fakeService("compute-3", "disabled", "up", "maintenance"),
		fakeService("compute-4", "enabled", "down", ""),
	}})
	s := newTestComprehensive(t, ComprehensiveOptions{})
	require.NoError(t, s.Precheck(t.Context(), c))
	assert.Equal(t, []string{"compute-1", "compute-2"}, s.Vars()["hosts"])
	assert.Equal(t, "nova", s.Vars()["host_availability_zone"])
	pre := s.PrecheckResults()
	require.Len(t, pre, 2)
	assert.Equal(t, "boot/compute-3", pre[0].Name)
	assert.Equal(t, "nova-compute on compute-3 is disabled by an operator: maintenance", pre[0].Reason)
	assert.Equal(t, "boot/compute-4", pre[1].Name)
	assert.True(t, strings.HasPrefix(pre[1].Error, "nova-compute on compute-4 is enabled but down (last heartbeat 2026-12-02T13:54:38Z, "), pre[1].Error)

	// an unknown host is an error before anything is created, with what else is missing
	s = newTestComprehensive(t, ComprehensiveOptions{Hosts: []string{"compute-9"}, Flavor: "m1.huge"})
	err := s.Precheck(t.Context(), c)
	var pe *PrecheckError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, []string{
		"CLOUDPULSE_HOSTS names compute-9, not a nova-compute host of this cloud (hosts: compute-1, compute-2, compute-3, compute-4)",
		`flavor "m1.huge" not found (set CLOUDPULSE_FLAVOR; available: cp.tiny)`,
	}, pe.Missing)
	assert.Contains(t, err.Error(), `cloud "fake" is not ready for the comprehensive scenario (nothing was created)`)
}

func TestComprehensivePrecheckAsMemberSpreadsOverZones(t *testing.T) {
	c := newPrecheckFake(t, &precheckFake{zones: []map[string]any{
		{"zoneName": "nova", "zoneState": map[string]any{"available": true}, "hosts": nil},
	}})
	s := newTestComprehensive(t, ComprehensiveOptions{})
	require.NoError(t, s.Precheck(t.Context(), c))
	v := s.Vars()
	assert.Equal(t, []string{"nova"}, v["availability_zones"])
	assert.Equal(t, 2, v["server_count"], "at least two VMs")
	assert.NotContains(t, v, "hosts")
	pre := s.PrecheckResults()
	require.Len(t, pre, 1)
	assert.Equal(t, "host-coverage", pre[0].Name)
	assert.Equal(t, check.Skipped, pre[0].Status())
	assert.Equal(t, "per-host coverage needs the admin role (to list the compute hosts and pin a VM to each): 2 VMs over availability zones nova with anti-affinity instead", pre[0].Reason)

	c = newPrecheckFake(t, &precheckFake{zones: []map[string]any{
		{"zoneName": "az-b", "zoneState": map[string]any{"available": true}},
		{"zoneName": "az-a", "zoneState": map[string]any{"available": true}},
		{"zoneName": "az-c", "zoneState": map[string]any{"available": true}},
		{"zoneName": "az-dead", "zoneState": map[string]any{"available": false}},
	}, instances: 3})
	s = newTestComprehensive(t, ComprehensiveOptions{})
	err := s.Precheck(t.Context(), c)
	assert.Equal(t, []string{"az-a", "az-b", "az-c"}, s.zones)
	assert.Equal(t, 3, s.servers)
	var pe *PrecheckError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, []string{"quota: instances has room for 3, the scenario needs 4 (limit 3, used 0)"}, pe.Missing)

	s = newTestComprehensive(t, ComprehensiveOptions{Hosts: []string{"compute-1"}})
	err = s.Precheck(t.Context(), c)
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Contains(t, pe.Missing, `covering the hosts [compute-1] (CLOUDPULSE_HOSTS) needs the admin role; "fake" has not`)
}

func TestHostZone(t *testing.T) {
	a, b := svc("compute-1", "enabled", "up", ""), svc("compute-2", "enabled", "up", "")
	b.Zone = "az-2"
	z, err := hostZone([]services.Service{a, b}, []string{"compute-1"})
	require.NoError(t, err)
	assert.Equal(t, "nova", z)
	_, err = hostZone([]services.Service{a, b}, []string{"compute-1", "compute-2"})
	require.EqualError(t, err, "the hosts [compute-1 compute-2] are in several availability zones (az-2, nova): the fixture pins through one zone; narrow CLOUDPULSE_HOSTS to the hosts of one zone and run once per zone")
}

func TestComprehensivePrecheckAdminServicesListFails(t *testing.T) {
	c := newPrecheckFake(t, &precheckFake{admin: true, servicesRC: 403})
	s := newTestComprehensive(t, ComprehensiveOptions{})
	err := s.Precheck(t.Context(), c)
	var pe *PrecheckError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Len(t, pe.Missing, 1)
	assert.True(t, strings.HasPrefix(pe.Missing[0], "list nova-compute services: "), pe.Missing[0])
}
