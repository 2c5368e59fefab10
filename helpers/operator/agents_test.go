package operator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// fakeAdmin serves nova's os-services, neutron's agents and cinder's
// os-services with canned bodies (status 200 unless set).
type fakeAdmin struct {
	pc     *gophercloud.ProviderClient
	srv    *httptest.Server
	bodies map[string]string
	status map[string]int
}

func newFakeAdmin(t *testing.T) *fakeAdmin {
	f := &fakeAdmin{status: map[string]int{}, bodies: map[string]string{
		"/compute/v2.1/os-services": `{"services":[
 {"id":1,"binary":"nova-scheduler","host":"controller","zone":"internal","status":"enabled","state":"up","updated_at":"2025-11-24T10:00:00.000000","disabled_reason":null,"forced_down":false},
 {"id":5,"binary":"nova-compute","host":"compute-1","zone":"nova","status":"enabled","state":"up","updated_at":"2025-11-24T10:00:01.000000","disabled_reason":null,"forced_down":false},
 {"id":6,"binary":"nova-compute","host":"compute-2","zone":"nova","status":"enabled","state":"up","updated_at":"2025-11-24T10:00:02.000000","disabled_reason":null,"forced_down":false}]}`,
		"/network/v2.0/agents": `{"agents":[
 {"id":"a1","agent_type":"Linux bridge agent","binary":"neutron-linuxbridge-agent","host":"compute-1","alive":true,"admin_state_up":true,"heartbeat_timestamp":"2025-11-24 10:00:00"},
 {"id":"a2","agent_type":"DHCP agent","binary":"neutron-dhcp-agent","host":"controller","alive":true,"admin_state_up":true,"heartbeat_timestamp":"2025-11-24 10:00:00"}]}`,
		"/volume/v3/p1/os-services": `{"services":[
 {"binary":"cinder-scheduler","host":"controller","zone":"nova","status":"enabled","state":"up","updated_at":"2025-11-24T10:00:00.000000","disabled_reason":null},
 {"binary":"cinder-volume","host":"controller@ceph","zone":"nova","status":"enabled","state":"up","updated_at":"2025-11-24T10:00:00.000000","disabled_reason":null}]}`,
	}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := f.bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if s := f.status[r.URL.Path]; s != 0 {
			w.WriteHeader(s)
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAdmin) client(endpoint, resourceBase string) *gophercloud.ServiceClient {
	if f.pc == nil {
		f.pc = &gophercloud.ProviderClient{}
		f.pc.SetToken("admin-token")
	}
	return &gophercloud.ServiceClient{ProviderClient: f.pc, Endpoint: f.srv.URL + endpoint, ResourceBase: resourceBase}
}

// authenticateAs gives the provider a Keystone token result with these roles.
func (f *fakeAdmin) authenticateAs(t *testing.T, roles ...string) {
	var rs []string
	for _, r := range roles {
		rs = append(rs, `{"id":"`+r+`","name":"`+r+`"}`)
	}
	f.bodies["/identity/v3/auth/tokens"] = `{"token":{"expires_at":"2999-01-01T00:00:00Z","roles":[` + strings.Join(rs, ",") + `],"catalog":[]}}`
	f.status["/identity/v3/auth/tokens"] = 201
	idc := f.client("/identity/v3/", "")
	r := tokens.Create(context.Background(), idc, &tokens.AuthOptions{UserID: "u", Password: "p"})
	require.NoError(t, r.Err)
	require.NoError(t, f.pc.SetTokenAndAuthResult(r))
}

func (f *fakeAdmin) Compute() (*gophercloud.ServiceClient, error) {
	return f.client("/compute/v2.1/", ""), nil
}
func (f *fakeAdmin) Network() (*gophercloud.ServiceClient, error) {
	return f.client("/network/", f.srv.URL+"/network/v2.0/"), nil
}
func (f *fakeAdmin) BlockStorage() (*gophercloud.ServiceClient, error) {
	return f.client("/volume/v3/p1/", ""), nil
}

func TestOpenStackServicesHealthy(t *testing.T) {
	f := newFakeAdmin(t)
	for _, c := range []check.Check{NovaServices(f, false), NeutronAgents(f, false), CinderServices(f, false)} {
		res := runCheck(t, c)
		assert.True(t, res.OK, "%s: %s", c.Name, res.Error)
	}
}

func TestOpenStackServicesNameEachBadOne(t *testing.T) {
	f := newFakeAdmin(t)
	f.bodies["/compute/v2.1/os-services"] = `{"services":[
 {"id":1,"binary":"nova-conductor","host":"controller","status":"enabled","state":"up","forced_down":false},
 {"id":5,"binary":"nova-compute","host":"compute-1","status":"enabled","state":"down","updated_at":"2025-11-24T09:31:00.000000","forced_down":false},
 {"id":6,"binary":"nova-compute","host":"compute-2","status":"disabled","state":"up","disabled_reason":"maintenance: disk swap","forced_down":false},
 {"id":7,"binary":"nova-compute","host":"compute-3","status":"enabled","state":"down","forced_down":true}]}`
	f.bodies["/network/v2.0/agents"] = `{"agents":[
 {"id":"a1","binary":"neutron-linuxbridge-agent","host":"compute-1","alive":false,"admin_state_up":true,"heartbeat_timestamp":"2025-11-24 09:30:00"},
 {"id":"a2","binary":"neutron-l3-agent","host":"controller","alive":true,"admin_state_up":false}]}`
	f.bodies["/volume/v3/p1/os-services"] = `{"services":[
 {"binary":"cinder-volume","host":"controller@ceph","status":"enabled","state":"down","updated_at":"2025-11-24T09:00:00.000000"},
 {"binary":"cinder-backup","host":"controller","status":"disabled","state":"up","disabled_reason":""}]}`

	assert.Equal(t, "nova services: nova-compute on compute-1 is down (last seen 2025-11-24T09:31:00Z); nova-compute on compute-2 is disabled (maintenance: disk swap); nova-compute on compute-3 is forced down",
		runCheck(t, NovaServices(f, false)).Error)
	assert.Equal(t, "nova services: nova-compute on compute-1 is down (last seen 2025-11-24T09:31:00Z); nova-compute on compute-3 is forced down",
		runCheck(t, NovaServices(f, true)).Error, "allow_disabled")
	assert.Equal(t, "neutron agents: neutron-linuxbridge-agent on compute-1 is not alive (last seen 2025-11-24T09:30:00Z); neutron-l3-agent on controller is administratively down",
		runCheck(t, NeutronAgents(f, false)).Error)
	assert.Equal(t, "cinder services: cinder-volume on controller@ceph is down (last seen 2025-11-24T09:00:00Z); cinder-backup on controller is disabled",
		runCheck(t, CinderServices(f, false)).Error)
}

func TestOpenStackServicesEmptyAndForbidden(t *testing.T) {
	f := newFakeAdmin(t)
	f.bodies["/compute/v2.1/os-services"] = `{"services":[{"id":1,"binary":"nova-scheduler","host":"controller","status":"enabled","state":"up"}]}`
	assert.Equal(t, "nova services: no nova-compute service is registered", runCheck(t, NovaServices(f, false)).Error)

	f.bodies["/network/v2.0/agents"] = `{"agents":[]}`
	assert.Equal(t, "neutron agents: neutron reports no agent", runCheck(t, NeutronAgents(f, false)).Error)

	f.status["/volume/v3/p1/os-services"] = 403
	f.bodies["/volume/v3/p1/os-services"] = `{"forbidden":{"code":403,"message":"Policy doesn't allow volume_extension:services:index to be performed."}}`
	res := runCheck(t, CinderServices(f, false))
	assert.Equal(t, check.Skipped, res.Status())
	assert.Equal(t, "listing cinder services needs admin rights (HTTP 403 for these credentials)", res.Reason)

	f.status["/compute/v2.1/os-services"] = 500
	f.bodies["/compute/v2.1/os-services"] = `{"computeFault":{"code":500,"message":"Unexpected API Error."}}`
	assert.Equal(t, fmt.Sprintf(`nova services: GET %s/compute/v2.1/os-services: got HTTP 500: {"computeFault":{"code":500,"message":"Unexpected API Error."}}`, f.srv.URL),
		runCheck(t, NovaServices(f, false)).Error)
}

func TestNeutronAgentsEmptyListForNonAdminSkips(t *testing.T) {
	f := newFakeAdmin(t)
	f.bodies["/network/v2.0/agents"] = `{"agents":[]}`
	f.authenticateAs(t, "member", "reader")
	res := runCheck(t, NeutronAgents(f, false))
	assert.Equal(t, check.Skipped, res.Status())
	assert.Equal(t, "listing neutron agents needs admin rights (neutron shows non-admins no agent; these credentials have roles member, reader)", res.Reason)

	f.authenticateAs(t, "admin")
	assert.Equal(t, "neutron agents: neutron reports no agent", runCheck(t, NeutronAgents(f, false)).Error)
}
