package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// fakeHosts connects every host to Local, except those listed as unreachable.
type fakeHosts struct {
	unreachable map[string]error
}

func (f fakeHosts) Runner(_ context.Context, host string) (Runner, error) {
	if err := f.unreachable[host]; err != nil {
		return nil, err
	}
	return Local{Name: host}, nil
}

func runCheck(t *testing.T, c check.Check) check.Result {
	t.Helper()
	return check.Runner{}.RunOne(context.Background(), c)
}

// fakeCommand writes an executable script into a temp dir and returns its path.
func fakeCommand(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	return path
}

func listenOn(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestListening(t *testing.T) {
	open1, open2, closed := listenOn(t), listenOn(t), closedPort(t)
	m := &ServiceMap{
		Hosts: []Host{
			{Name: "controller", Address: "127.0.0.1", Roles: []string{"api", "db"}},
			{Name: "storage", Address: "127.0.0.1", Roles: []string{"db"}},
		},
		Roles: map[string]Role{
			"api": {Services: map[string][]int{"keystone": {open1}, "nova-api": {open2, closed}}},
			"db":  {Services: map[string][]int{"mariadb": {open2}, "keystone": {open1}}},
		},
	}
	checks := Listening(m)
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"listen/controller/keystone", "listen/controller/mariadb", "listen/controller/nova-api",
		"listen/storage/keystone", "listen/storage/mariadb"}, names)

	results := check.Runner{}.Run(context.Background(), checks...)
	for _, r := range results {
		if r.Name == "listen/controller/nova-api" {
			assert.Equal(t, fmt.Sprintf("controller (127.0.0.1): nova-api not listening: port %d: connect: connection refused", closed), r.Error)
		} else {
			assert.True(t, r.OK, "%s: %s", r.Name, r.Error)
		}
	}
}

func TestGalera(t *testing.T) {
	const synced = "wsrep_local_state_comment\tSynced\nwsrep_cluster_size\t3\nwsrep_cluster_status\tPrimary\nwsrep_connected\tON\nwsrep_ready\tON\nwsrep_provider_name\tGalera\n"
	for _, tc := range []struct {
		name, script, want string
		env                map[string]string
		cfg                func(*GaleraConfig)
	}{
		{name: "synced", script: "printf '" + strings.ReplaceAll(synced, "\t", `\t`) + "'"},
		{name: "donor and short", script: `printf 'wsrep_local_state_comment\tDonor/Desynced\nwsrep_cluster_size\t2\nwsrep_cluster_status\tPrimary\nwsrep_connected\tON\nwsrep_ready\tON\nwsrep_provider_name\tGalera\n'`,
			want: "galera db-1: wsrep_local_state_comment is Donor/Desynced, want Synced; wsrep_cluster_size is 2, want 3"},
		{name: "non-primary", script: `printf 'wsrep_local_state_comment\tInitialized\nwsrep_cluster_size\t1\nwsrep_cluster_status\tnon-Primary\nwsrep_connected\tON\nwsrep_ready\tOFF\nwsrep_provider_name\tGalera\n'`,
			want: "galera db-1: wsrep_ready is OFF, want ON (the node refuses queries); wsrep_cluster_status is non-Primary, want Primary (partitioned or quorum lost); wsrep_local_state_comment is Initialized, want Synced; wsrep_cluster_size is 1, want 3"},
		{name: "plain mariadb", script: `printf 'wsrep_cluster_size\t0\nwsrep_cluster_status\tDisconnected\nwsrep_connected\tOFF\nwsrep_ready\tOFF\nwsrep_provider_name\t\n'`,
			want: "galera db-1: wsrep_ready is OFF, want ON (the node refuses queries); wsrep_connected is OFF, want ON; wsrep_cluster_status is Disconnected, want Primary (partitioned or quorum lost); wsrep_local_state_comment is missing, want Synced; wsrep_cluster_size is 0, want 3; no Galera provider is loaded (wsrep_on=OFF or wsrep_provider=none): is this a Galera node?"},
		{name: "mysql without wsrep", script: "true",
			want: "galera db-1: no wsrep_* status variables: this server is not a Galera node (no wsrep provider)"},
		{name: "access denied", script: `echo "ERROR 1045 (28000): Access denied for user 'monitor'@'localhost' (using password: YES)" >&2; exit 1`,
			want: "galera db-1: query wsrep status: db-1: MYSQL: exit status 1: ERROR 1045 (28000): Access denied for user 'monitor'@'localhost' (using password: YES)"},
		{name: "password env unset", cfg: func(c *GaleraConfig) { c.PasswordEnv = "CLOUDPULSE_TEST_UNSET_PW" },
			want: "galera db-1: galera.password_env: $CLOUDPULSE_TEST_UNSET_PW is unset or empty: export it before running cloudpulse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := GaleraConfig{Hosts: []string{"db-1"}, ExpectedSize: 3, Connect: "socket",
				MySQLCommand: fakeCommand(t, "mysql", tc.script)}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			m := &ServiceMap{Hosts: []Host{{Name: "db-1", Address: "127.0.0.1"}}}
			checks := Galera(cfg, m, fakeHosts{})
			require.Len(t, checks, 1)
			assert.Equal(t, "galera/db-1", checks[0].Name)
			res := runCheck(t, checks[0])
			if tc.want == "" {
				assert.True(t, res.OK, res.Error)
				return
			}
			assert.Equal(t, strings.ReplaceAll(tc.want, "MYSQL", shellQuote(cfg.MySQLCommand)+" --batch --skip-column-names --execute='SHOW GLOBAL STATUS LIKE '\\''wsrep_%'\\'''"), res.Error)
		})
	}
}

func TestGaleraPassesArgumentsAndPasswordOnStdin(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	script := fakeCommand(t, "mysql", `printf '%s\n' "$@" > `+log+`; echo "pw=$MYSQL_PWD" >> `+log+`
printf 'wsrep_local_state_comment\tSynced\nwsrep_cluster_size\t1\nwsrep_cluster_status\tPrimary\nwsrep_connected\tON\nwsrep_ready\tON\nwsrep_provider_name\tGalera\n'`)
	t.Setenv("CLOUDPULSE_TEST_DB_PW", "s3cr3t with 'quotes' and $dollar")
	cfg := GaleraConfig{Hosts: []string{"db-1"}, ExpectedSize: 1, Connect: "tcp", Port: 3307, User: "monitor",
		PasswordEnv: "CLOUDPULSE_TEST_DB_PW", MySQLCommand: script}
	m := &ServiceMap{Hosts: []Host{{Name: "db-1", Address: "127.0.0.1"}}}
	res := runCheck(t, Galera(cfg, m, fakeHosts{})[0])
	require.True(t, res.OK, res.Error)
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "--batch\n--skip-column-names\n--user=monitor\n--protocol=TCP\n--host=127.0.0.1\n--port=3307\n"+
		"--execute=SHOW GLOBAL STATUS LIKE 'wsrep_%'\npw=s3cr3t with 'quotes' and $dollar\n", string(b))

	cmd, _ := galeraCommand(cfg, m.Hosts[0], "s3cr3t")
	assert.NotContains(t, cmd, "s3cr3t", "the password never appears on a command line")
}

func TestGaleraMissingClientAndUnreachableHost(t *testing.T) {
	m := &ServiceMap{Hosts: []Host{{Name: "db-1", Address: "127.0.0.1"}, {Name: "db-2", Address: "10.0.0.2"}}}
	cfg := GaleraConfig{Hosts: []string{"db-1", "db-2"}, ExpectedSize: 2, Connect: "socket", MySQLCommand: "cloudpulse-no-such-mysql"}
	hosts := fakeHosts{unreachable: map[string]error{"db-2": errors.New("ssh root@db-2 (10.0.0.2:22): dial tcp 10.0.0.2:22: connect: no route to host")}}
	results := check.Runner{}.Run(context.Background(), Galera(cfg, m, hosts)...)
	assert.Equal(t, "galera db-1: cloudpulse-no-such-mysql not found on db-1: install the client (mariadb-client) there or set galera.mysql_command", results[0].Error)
	assert.Equal(t, "galera db-2: ssh root@db-2 (10.0.0.2:22): dial tcp 10.0.0.2:22: connect: no route to host", results[1].Error)
}

func TestPacemakerFixtures(t *testing.T) {
	healthy, err := os.ReadFile("testdata/crm_mon-healthy.xml")
	require.NoError(t, err)
	c, err := ParseCrmMon(healthy)
	require.NoError(t, err)
	assert.Equal(t, &PacemakerCluster{DC: "controller-2", WithQuorum: true, Nodes: 3, NodesOnline: 3}, c)

	degraded, err := os.ReadFile("testdata/crm_mon-degraded.xml")
	require.NoError(t, err)
	c, err = ParseCrmMon(degraded)
	require.NoError(t, err)
	assert.Equal(t, "controller-1", c.DC)
	assert.Equal(t, 2, c.NodesOnline)
	assert.Equal(t, []string{
		"node controller-3 is OFFLINE",
		"resource ip-172.24.4.10 (ocf:heartbeat:IPaddr2) is Stopped",
		"promotable clone galera-clone has no Promoted instance",
		"resource rabbitmq (ocf:heartbeat:rabbitmq-cluster) FAILED on controller-2",
		"resource openstack-cinder-volume (systemd:openstack-cinder-volume) is blocked: it cannot be started or stopped",
		"failed action rabbitmq_monitor_10000 on controller-2: not running at 2025-11-24 09:58:31 +00:00",
		"failed action openstack-cinder-volume_stop_0 on controller-3: error (Resource agent did not complete within 1m40s), Timed Out at 2025-11-24 09:41:07 +00:00",
	}, c.Problems)

	notRunning, err := os.ReadFile("testdata/crm_mon-not-running.xml")
	require.NoError(t, err)
	_, err = ParseCrmMon(notRunning)
	assert.EqualError(t, err, "crm_mon failed: Not connected (code 102): crm_mon: Error: cluster is not available on this node")
}

func TestParseCrmMonEdges(t *testing.T) {
	for _, tc := range []struct{ name, xml, want string }{
		{"no quorum", `<pacemaker-result><summary><current_dc present="true" name="c1" with_quorum="false"/></summary><status code="0" message="OK"/></pacemaker-result>`,
			"partition c1 has no quorum"},
		{"no DC", `<pacemaker-result><summary><current_dc present="false"/></summary></pacemaker-result>`,
			"no designated controller (DC): the cluster has not formed"},
		{"maintenance", `<pacemaker-result><summary><cluster_options maintenance-mode="true"/></summary><nodes><node name="c1" online="true" standby="true" type="member"/><node name="c2" online="false" unclean="true" type="member"/></nodes></pacemaker-result>`,
			"the cluster is in maintenance mode (resources are not managed)|node c1 is in standby|node c2 is UNCLEAN (it needs fencing)"},
		{"clone short of nodes", `<pacemaker-result><nodes><node name="c1" online="true" type="member"/><node name="c2" online="true" type="member"/></nodes><resources>` +
			`<clone id="haproxy-clone" multi_state="false" disabled="false"><resource id="haproxy" role="Started" active="true"/><resource id="haproxy" role="Stopped" active="false"/><resource id="haproxy" role="Stopped" active="false"/></clone>` +
			`<clone id="off-clone" disabled="true" target_role="Stopped"><resource id="off" role="Stopped" active="false"/></clone>` +
			`<bundle id="b"><replica id="0"><resource id="b-ip" role="Started" active="true"/><resource id="b-docker-0" role="Started" active="true"/></replica><replica id="1"><resource id="b-ip" role="Stopped" active="false"/></replica></bundle>` +
			`</resources></pacemaker-result>`,
			"clone haproxy-clone runs 1 of 2 instances it could on 2 online node(s)|bundle b runs 1 of 2 instances it could on 2 online node(s)"},
		{"old crm_mon --as-xml", `<crm_mon version="1.1.18"><nodes><node name="n1" online="false" type="member"/></nodes></crm_mon>`,
			"node n1 is OFFLINE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCrmMon([]byte(tc.xml))
			require.NoError(t, err)
			assert.Equal(t, tc.want, strings.Join(c.Problems, "|"))
		})
	}
	_, err := ParseCrmMon([]byte("<html>not crm_mon</html>"))
	assert.EqualError(t, err, "parse crm_mon XML: root element is <html>, want <pacemaker-result>")
	_, err = ParseCrmMon([]byte("crm_mon: command line error"))
	assert.ErrorContains(t, err, "parse crm_mon XML: ")
}

func TestPacemakerCheck(t *testing.T) {
	degraded, err := filepath.Abs("testdata/crm_mon-degraded.xml")
	require.NoError(t, err)
	notRunning, err := filepath.Abs("testdata/crm_mon-not-running.xml")
	require.NoError(t, err)
	healthy, err := filepath.Abs("testdata/crm_mon-healthy.xml")
	require.NoError(t, err)

	res := runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1", Command: "cat " + healthy}, fakeHosts{}))
	assert.True(t, res.OK, res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1", Command: "cat " + degraded}, fakeHosts{}))
	assert.True(t, strings.HasPrefix(res.Error, "pacemaker (DC controller-1, 2 of 3 nodes online): node controller-3 is OFFLINE; resource ip-172.24.4.10"), res.Error)

	// crm_mon exits 102 and still prints its XML
	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1", Command: "cat " + notRunning + "; exit 102"}, fakeHosts{}))
	assert.Equal(t, "pacemaker on controller-1: crm_mon failed: Not connected (code 102): crm_mon: Error: cluster is not available on this node", res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1", Command: "cloudpulse-no-crm_mon --output-as=xml"}, fakeHosts{}))
	assert.Equal(t, "pacemaker: cloudpulse-no-crm_mon not found on controller-1: install the pacemaker CLI there (Debian: pacemaker-cli-utils), or set pacemaker.host to a cluster node", res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1", Command: "echo 'Could not connect to the CIB' >&2; exit 69"}, fakeHosts{}))
	assert.Equal(t, "pacemaker: controller-1: echo 'Could not connect to the CIB' >&2; exit 69: exit status 69: Could not connect to the CIB", res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller-1"}, fakeHosts{unreachable: map[string]error{"controller-1": errors.New("ssh root@controller-1 (10.0.0.11:22): ssh: handshake failed: ssh: unable to authenticate")}}))
	assert.Equal(t, "pacemaker: ssh root@controller-1 (10.0.0.11:22): ssh: handshake failed: ssh: unable to authenticate", res.Error)
}

func TestChecksUnreachableHostFailsOnlyItsChecks(t *testing.T) {
	open := listenOn(t)
	healthy, err := filepath.Abs("testdata/crm_mon-healthy.xml")
	require.NoError(t, err)
	sock := statsSocket(t, readStats(t))
	m, err := Parse(strings.NewReader(fmt.Sprintf(`
hosts:
  - {name: controller-1, address: 127.0.0.1, roles: [api]}
  - {name: controller-2, address: 203.0.113.12}
roles:
  api: {services: {keystone: [%d]}}
galera:
  hosts: [controller-1, controller-2]
  mysql_command: %s
haproxy: {host: controller-1, stats_socket: %s}
pacemaker: {host: controller-2, command: cat %s}
`, open, fakeCommand(t, "mysql", `printf 'wsrep_local_state_comment\tSynced\nwsrep_cluster_size\t2\nwsrep_cluster_status\tPrimary\nwsrep_connected\tON\nwsrep_ready\tON\nwsrep_provider_name\tGalera\n'`), sock, healthy)))
	require.NoError(t, err)

	down := errors.New("ssh root@controller-2 (203.0.113.12:22): dial tcp 203.0.113.12:22: i/o timeout")
	results := check.Runner{}.Run(context.Background(), Checks(m, fakeHosts{unreachable: map[string]error{"controller-2": down}}, nil, nil)...)
	got := map[string]string{}
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
		got[r.Name] = string(r.Status()) + " " + r.Error
	}
	assert.Equal(t, []string{"listen/controller-1/keystone", "galera/controller-1", "galera/controller-2", "haproxy", "pacemaker"}, names)
	assert.Equal(t, map[string]string{
		"listen/controller-1/keystone": "pass ",
		"galera/controller-1":          "pass ",
		"galera/controller-2":          "fail galera controller-2: " + down.Error(),
		"haproxy":                      "fail haproxy controller-1:" + sock + ": " + wantDown,
		"pacemaker":                    "fail pacemaker: " + down.Error(),
	}, got)
}

func TestChecksWithAdminClients(t *testing.T) {
	m := &ServiceMap{Hosts: []Host{{Name: "c", Address: "127.0.0.1"}}}
	f := newFakeAdmin(t)
	var names []string
	for _, c := range Checks(m, fakeHosts{}, f, nil) {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"nova-services", "neutron-agents", "cinder-services"}, names)
}
