package operator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ServiceMap describes what an operator expects of the cloud's control plane:
// its hosts, the services (and TCP ports) each role runs, and how to reach
// RabbitMQ, Galera, HAProxy and Pacemaker. In the spirit of
// openstack/cloudpulse's service_map. See testdata/valid-lab.yaml.
type ServiceMap struct {
	SSH       SSHConfig        `yaml:"ssh"`
	Hosts     []Host           `yaml:"hosts"`
	Roles     map[string]Role  `yaml:"roles"`
	RabbitMQ  *RabbitMQConfig  `yaml:"rabbitmq"`
	Galera    *GaleraConfig    `yaml:"galera"`
	HAProxy   *HAProxyConfig   `yaml:"haproxy"`
	Pacemaker *PacemakerConfig `yaml:"pacemaker"`
	OpenStack OpenStackConfig  `yaml:"openstack"`

	// File is where the map was read from ("" when parsed from a reader).
	File string `yaml:"-"`
}

// Host is one machine of the control plane.
type Host struct {
	Name    string   `yaml:"name"`
	Address string   `yaml:"address"` // IP or DNS name, used for TCP checks and ssh
	Roles   []string `yaml:"roles"`
	// Local forces (true) or forbids (false) running this host's commands on
	// this machine instead of over ssh. Unset: local when Address is a
	// loopback address or one of this machine's own addresses.
	Local *bool `yaml:"local"`
}

// Role lists the services a host with this role runs, each with the TCP ports
// it must listen on.
type Role struct {
	Services map[string][]int `yaml:"services"`
}

// SSHConfig is how commands reach hosts that are not this machine.
type SSHConfig struct {
	User                  string `yaml:"user"`        // default root
	Port                  int    `yaml:"port"`        // default 22
	KeyFile               string `yaml:"key_file"`    // private key; required to reach a remote host
	KnownHosts            string `yaml:"known_hosts"` // default ~/.ssh/known_hosts
	InsecureIgnoreHostKey bool   `yaml:"insecure_ignore_host_key"`
}

// RabbitMQConfig points at the RabbitMQ management API.
type RabbitMQConfig struct {
	URL           string   `yaml:"url"` // e.g. http://10.0.0.10:15672
	User          string   `yaml:"user"`
	PasswordEnv   string   `yaml:"password_env"`
	PasswordFile  string   `yaml:"password_file"`
	ExpectedNodes []string `yaml:"expected_nodes"` // e.g. rabbit@controller-1; empty: every node listed must run
}

// GaleraConfig says where to ask MariaDB/MySQL for its wsrep status. The
// mysql client runs on each host (over ssh, or here for a local host).
type GaleraConfig struct {
	Hosts        []string `yaml:"hosts"`
	ExpectedSize int      `yaml:"expected_size"` // default: len(Hosts)
	Connect      string   `yaml:"connect"`       // "socket" (default) or "tcp"
	Socket       string   `yaml:"socket"`        // with connect: socket; default: the client's own
	Port         int      `yaml:"port"`          // with connect: tcp (to the host's address); default 3306
	User         string   `yaml:"user"`          // default: the client's own (root over the unix socket)
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	MySQLCommand string   `yaml:"mysql_command"` // default mysql
}

// HAProxyConfig reads HAProxy's statistics from its admin socket on Host or
// from its CSV stats page.
type HAProxyConfig struct {
	Host         string `yaml:"host"`
	StatsSocket  string `yaml:"stats_socket"` // e.g. /run/haproxy/admin.sock (on Host)
	StatsURL     string `yaml:"stats_url"`    // e.g. http://10.0.0.10:1984/ (";csv" is appended)
	User         string `yaml:"user"`         // basic auth for stats_url
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
}

// PacemakerConfig is where crm_mon runs.
type PacemakerConfig struct {
	Host    string `yaml:"host"`
	Command string `yaml:"command"` // default "crm_mon --output-as=xml"
}

// OpenStackConfig tunes the checks of nova services, neutron agents and cinder services.
type OpenStackConfig struct {
	// AllowDisabled accepts services an operator disabled (still up); by
	// default a disabled nova or cinder service fails its check.
	AllowDisabled bool `yaml:"allow_disabled"`
}

// Load reads, defaults and validates the service map at path.
func Load(path string) (*ServiceMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("service map: %w", err)
	}
	m, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, relabel(err, path)
	}
	m.File = path
	return m, nil
}

// Parse reads, defaults and validates a service map. Unknown fields are
// errors; every validation problem is reported at once (*ValidationError).
func Parse(r io.Reader) (*ServiceMap, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var m ServiceMap
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{Problems: []string{"empty file: describe at least hosts"}}
		}
		return nil, fmt.Errorf("service map: %s", strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n  ", "; "), "yaml: unmarshal errors:; "))
	}
	m.applyDefaults()
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// relabel puts the file name into a Parse error.
func relabel(err error, path string) error {
	var v *ValidationError
	if errors.As(err, &v) {
		v.File = path
		return v
	}
	return fmt.Errorf("service map %s: %s", path, strings.TrimPrefix(err.Error(), "service map: "))
}

// Host returns the host called name.
func (m *ServiceMap) Host(name string) (Host, bool) {
	i := slices.IndexFunc(m.Hosts, func(h Host) bool { return h.Name == name })
	if i < 0 {
		return Host{}, false
	}
	return m.Hosts[i], true
}
