package operator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadValidLab(t *testing.T) {
	m, err := Load("testdata/valid-lab.yaml")
	require.NoError(t, err)
	home, _ := os.UserHomeDir()

	assert.Equal(t, "testdata/valid-lab.yaml", m.File)
	assert.Equal(t, SSHConfig{User: "root", Port: 22, KeyFile: filepath.Join(home, ".ssh/cloudpulse_ed25519"),
		KnownHosts: filepath.Join(home, ".ssh/known_hosts")}, m.SSH, "defaults and ~ expansion")
	require.Len(t, m.Hosts, 2)
	assert.Equal(t, Host{Name: "controller", Address: "127.0.0.1", Roles: []string{"api", "messaging", "database", "storage", "dashboard"}}, m.Hosts[0])
	assert.Equal(t, []int{8774, 8775}, m.Roles["api"].Services["nova-api"])
	assert.Equal(t, &RabbitMQConfig{URL: "http://127.0.0.1:15672", User: "cloudpulse", PasswordEnv: "RABBIT_MON_PASS",
		ExpectedNodes: []string{"rabbit@localhost"}}, m.RabbitMQ)
	assert.Equal(t, &GaleraConfig{Hosts: []string{"controller"}, ExpectedSize: 1, Connect: "tcp", Port: 3306, User: "cloudpulse",
		PasswordEnv: "MYSQL_MON_PASS", MySQLCommand: "mysql"}, m.Galera)
	assert.Equal(t, &HAProxyConfig{Host: "controller", StatsSocket: "/run/haproxy/admin.sock"}, m.HAProxy)
	assert.Nil(t, m.Pacemaker)
	assert.False(t, m.OpenStack.AllowDisabled)

	var names []string
	for _, c := range Checks(m, NewHosts(m), nil, nil) {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{
		"listen/controller/ceph-mon", "listen/controller/cinder-api", "listen/controller/epmd", "listen/controller/galera-replication",
		"listen/controller/glance-api", "listen/controller/haproxy-stats", "listen/controller/horizon", "listen/controller/keystone",
		"listen/controller/mariadb", "listen/controller/memcached", "listen/controller/neutron-server", "listen/controller/nova-api",
		"listen/controller/placement-api", "listen/controller/rabbitmq", "listen/public-vip/haproxy",
		"rabbitmq", "galera/controller", "haproxy"}, names)
}

func TestDefaults(t *testing.T) {
	m, err := Parse(strings.NewReader(`
ssh: {insecure_ignore_host_key: true}
hosts: [{name: db-1, address: 10.0.0.1}, {name: db-2, address: 10.0.0.2}]
galera: {hosts: [db-1, db-2], connect: tcp}
`))
	require.NoError(t, err)
	assert.Equal(t, "", m.SSH.KnownHosts, "no known_hosts default when host keys are ignored")
	assert.Equal(t, 2, m.Galera.ExpectedSize, "default: one node per host")
	assert.Equal(t, 3306, m.Galera.Port)
	assert.Nil(t, m.RabbitMQ)
	assert.Nil(t, m.Pacemaker)
}

func TestLoadInvalid(t *testing.T) {
	for file, want := range map[string]string{
		"invalid-unknown-field.yaml": "service map testdata/invalid-unknown-field.yaml: line 4: field adress not found in type operator.Host",
		"invalid-empty.yaml":         "service map testdata/invalid-empty.yaml: empty file: describe at least hosts",
		"invalid-wrong-type.yaml":    "service map testdata/invalid-wrong-type.yaml: line 9: cannot unmarshal !!str `five-th...` into int",
		"invalid-no-hosts.yaml":      "service map testdata/invalid-no-hosts.yaml: hosts: list at least one host (name, address, roles)",
		"invalid-hosts.yaml": `service map testdata/invalid-hosts.yaml has 4 problems:
  hosts[0].name: required
  hosts[1].address: required (IP address or DNS name)
  hosts[1].roles: role "storage" is not defined under roles (defined: api)
  hosts[2].name: "controller-2" is already the name of hosts[1]`,
		"invalid-roles.yaml": `service map testdata/invalid-roles.yaml has 3 problems:
  roles.api.services.keystone: 70000 is not a TCP port (1-65535)
  roles.api.services.nova-compute: list the TCP ports it listens on
  roles.empty.services: list at least one service with its TCP ports`,
		"invalid-rabbitmq.yaml": `service map testdata/invalid-rabbitmq.yaml has 4 problems:
  rabbitmq.url: "10.0.0.11:15672" is not an http(s)://host[:port] URL
  rabbitmq.user: required (a management API user, e.g. with the monitoring tag)
  rabbitmq: set exactly one of password_env and password_file
  rabbitmq.expected_nodes[0]: "controller" is not a node name like rabbit@controller-1`,
		"invalid-galera.yaml": `service map testdata/invalid-galera.yaml has 4 problems:
  galera.hosts[1]: "db-2" is not one of hosts (db-1)
  galera.expected_size: -1 must be at least 1
  galera.connect: "udp" must be socket or tcp
  galera: set at most one of password_env and password_file`,
		"invalid-galera-socket-port.yaml": "service map testdata/invalid-galera-socket-port.yaml: galera.port: only with connect: tcp",
		"invalid-haproxy-both.yaml":       "service map testdata/invalid-haproxy-both.yaml: haproxy: set stats_socket or stats_url, not both",
		"invalid-haproxy-socket.yaml": `service map testdata/invalid-haproxy-socket.yaml has 2 problems:
  haproxy.host: required (the name of one of hosts)
  haproxy: user and password_* only apply to stats_url`,
		"invalid-haproxy-url.yaml": `service map testdata/invalid-haproxy-url.yaml has 3 problems:
  haproxy.stats_url: "ftp://10.0.0.5/stats" is not an http(s)://host[:port] URL
  haproxy.host: only with stats_socket
  haproxy: user and a password (password_env or password_file) go together`,
		"invalid-pacemaker.yaml": "service map testdata/invalid-pacemaker.yaml: pacemaker.host: required (the name of one of hosts)",
		"invalid-ssh.yaml": `service map testdata/invalid-ssh.yaml has 2 problems:
  ssh.port: 70000 is not a TCP port (1-65535)
  ssh: set known_hosts or insecure_ignore_host_key, not both`,
	} {
		t.Run(file, func(t *testing.T) {
			_, err := Load("testdata/" + file)
			require.Error(t, err)
			assert.Equal(t, want, err.Error())
		})
	}
}

func TestEveryInvalidFileHasATest(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	require.NoError(t, err)
	src, err := os.ReadFile("servicemap_test.go")
	require.NoError(t, err)
	for _, f := range files {
		assert.Contains(t, string(src), `"`+filepath.Base(f)+`"`, "%s has no expected error in TestLoadInvalid", f)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.yaml")
	assert.EqualError(t, err, "service map: open testdata/nope.yaml: no such file or directory")
}
