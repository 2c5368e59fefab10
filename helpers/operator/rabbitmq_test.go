package operator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

type fakeRabbit struct {
	nodes       string
	alarmStatus int
	alarms      string
}

func (f *fakeRabbit) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "cloudpulse" || p != "rabbit-pw" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"not_authorized","reason":"Login failed"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/nodes":
			fmt.Fprint(w, f.nodes)
		case "/api/health/checks/alarms":
			w.WriteHeader(f.alarmStatus)
			fmt.Fprint(w, f.alarms)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const threeNodes = `[
 {"name":"rabbit@controller-1","type":"disc","running":true,"partitions":[],"mem_alarm":false,"disk_free_alarm":false,"uptime":86400000},
 {"name":"rabbit@controller-2","type":"disc","running":true,"partitions":[],"mem_alarm":false,"disk_free_alarm":false,"uptime":86400000},
 {"name":"rabbit@controller-3","type":"disc","running":true,"partitions":[],"mem_alarm":false,"disk_free_alarm":false,"uptime":86400000}]`

func TestRabbitMQ(t *testing.T) {
	t.Setenv("CLOUDPULSE_TEST_RABBIT_PW", "rabbit-pw")
	expected := []string{"rabbit@controller-1", "rabbit@controller-2", "rabbit@controller-3"}
	for _, tc := range []struct {
		name     string
		rabbit   fakeRabbit
		expected []string
		want     string
	}{
		{"healthy", fakeRabbit{threeNodes, 200, `{"status":"ok"}`}, expected, ""},
		{"healthy without expected list", fakeRabbit{threeNodes, 200, `{"status":"ok"}`}, nil, ""},
		{"old rabbitmq without health endpoint", fakeRabbit{threeNodes, 404, `{"error":"Object Not Found"}`}, expected, ""},
		{"node down and one missing", fakeRabbit{`[
 {"name":"rabbit@controller-1","running":true,"partitions":[]},
 {"name":"rabbit@controller-2","running":false,"partitions":[]}]`, 200, `{"status":"ok"}`}, expected,
			"rabbit@controller-2 is not running; rabbit@controller-3 is not in the cluster (members: rabbit@controller-1, rabbit@controller-2)"},
		{"no node", fakeRabbit{`[]`, 200, `{"status":"ok"}`}, nil, "the management API lists no node"},
		{"null node list", fakeRabbit{`null`, 200, `{"status":"ok"}`}, nil, "the management API lists no node"},
		{"no node, some expected", fakeRabbit{`[]`, 200, `{"status":"ok"}`}, expected, "the management API lists no node"},
		{"partition", fakeRabbit{`[
 {"name":"rabbit@controller-1","running":true,"partitions":["rabbit@controller-3"]},
 {"name":"rabbit@controller-2","running":true,"partitions":[]},
 {"name":"rabbit@controller-3","running":true,"partitions":["rabbit@controller-1"]}]`, 200, `{"status":"ok"}`}, expected,
			"rabbit@controller-1 sees a network partition from rabbit@controller-3; rabbit@controller-3 sees a network partition from rabbit@controller-1"},
		{"alarms", fakeRabbit{`[
 {"name":"rabbit@controller-1","running":true,"partitions":[],"mem_alarm":true},
 {"name":"rabbit@controller-2","running":true,"partitions":[]},
 {"name":"rabbit@controller-3","running":true,"partitions":[]}]`, 503,
			`{"status":"failed","reason":"resource alarm(s) in effect in the cluster","alarms":[{"node":"rabbit@controller-1","resource":"memory"},{"node":"rabbit@controller-2","resource":"disk"}]}`}, expected,
			"rabbit@controller-1 has a memory alarm; rabbit@controller-2 has a disk alarm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.rabbit.start(t)
			cfg := RabbitMQConfig{URL: srv.URL + "/", User: "cloudpulse", PasswordEnv: "CLOUDPULSE_TEST_RABBIT_PW", ExpectedNodes: tc.expected}
			res := runCheck(t, RabbitMQ(cfg, nil))
			if tc.want == "" {
				assert.True(t, res.OK, res.Error)
				return
			}
			assert.Equal(t, "rabbitmq "+srv.URL+"/: "+tc.want, res.Error)
		})
	}
}

func TestRabbitMQAccessErrors(t *testing.T) {
	srv := (&fakeRabbit{threeNodes, 200, `{"status":"ok"}`}).start(t)
	t.Setenv("CLOUDPULSE_TEST_RABBIT_PW", "wrong")
	res := runCheck(t, RabbitMQ(RabbitMQConfig{URL: srv.URL, User: "cloudpulse", PasswordEnv: "CLOUDPULSE_TEST_RABBIT_PW"}, nil))
	assert.Equal(t, fmt.Sprintf(`rabbitmq: GET %s/api/nodes: got HTTP 401: the management API refused user "cloudpulse": check rabbitmq.user and its password`, srv.URL), res.Error)

	res = runCheck(t, RabbitMQ(RabbitMQConfig{URL: srv.URL, User: "cloudpulse", PasswordEnv: "CLOUDPULSE_TEST_RABBIT_UNSET"}, nil))
	assert.Equal(t, "rabbitmq: rabbitmq.password_env: $CLOUDPULSE_TEST_RABBIT_UNSET is unset or empty: export it before running cloudpulse", res.Error)

	notMgmt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>hello</html>") }))
	defer notMgmt.Close()
	t.Setenv("CLOUDPULSE_TEST_RABBIT_PW", "rabbit-pw")
	res = runCheck(t, RabbitMQ(RabbitMQConfig{URL: notMgmt.URL, User: "cloudpulse", PasswordEnv: "CLOUDPULSE_TEST_RABBIT_PW"}, nil))
	assert.Equal(t, fmt.Sprintf("rabbitmq: GET %s/api/nodes: not the management API's JSON: invalid character '<' looking for beginning of value", notMgmt.URL), res.Error)

	notMgmt.Close()
	res = runCheck(t, RabbitMQ(RabbitMQConfig{URL: notMgmt.URL, User: "cloudpulse", PasswordEnv: "CLOUDPULSE_TEST_RABBIT_PW"}, nil))
	assert.Contains(t, res.Error, "connect: connection refused")
}
