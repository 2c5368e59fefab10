package operator

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// ValidationError lists every problem of a service map at once.
type ValidationError struct {
	File     string
	Problems []string
}

func (e *ValidationError) Error() string {
	where := "service map"
	if e.File != "" {
		where += " " + e.File
	}
	if len(e.Problems) == 1 {
		return where + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s has %d problems:\n  %s", where, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (m *ServiceMap) validate() error {
	var p problems
	m.validateHosts(&p)
	m.validateRoles(&p)
	if m.SSH.Port < 1 || m.SSH.Port > 65535 {
		p.addf("ssh.port: %d is not a TCP port (1-65535)", m.SSH.Port)
	}
	if m.SSH.InsecureIgnoreHostKey && m.SSH.KnownHosts != "" {
		p.addf("ssh: set known_hosts or insecure_ignore_host_key, not both")
	}
	if m.RabbitMQ != nil {
		m.validateRabbitMQ(&p)
	}
	if m.Galera != nil {
		m.validateGalera(&p)
	}
	if m.HAProxy != nil {
		m.validateHAProxy(&p)
	}
	if m.Pacemaker != nil {
		m.requireHost(&p, "pacemaker.host", m.Pacemaker.Host)
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func (m *ServiceMap) validateHosts(p *problems) {
	if len(m.Hosts) == 0 {
		p.addf("hosts: list at least one host (name, address, roles)")
	}
	seen := map[string]int{}
	for i, h := range m.Hosts {
		at := fmt.Sprintf("hosts[%d]", i)
		switch first, dup := seen[h.Name]; {
		case h.Name == "":
			p.addf("%s.name: required", at)
		case dup:
			p.addf("%s.name: %q is already the name of hosts[%d]", at, h.Name, first)
		default:
			seen[h.Name] = i
		}
		if h.Address == "" {
			p.addf("%s.address: required (IP address or DNS name)", at)
		}
		for _, r := range h.Roles {
			if _, ok := m.Roles[r]; !ok {
				p.addf("%s.roles: role %q is not defined under roles (defined: %s)", at, r, list(slices.Sorted(maps.Keys(m.Roles))))
			}
		}
	}
}

func (m *ServiceMap) validateRoles(p *problems) {
	for _, name := range slices.Sorted(maps.Keys(m.Roles)) {
		role := m.Roles[name]
		if len(role.Services) == 0 {
			p.addf("roles.%s.services: list at least one service with its TCP ports", name)
		}
		for _, svc := range slices.Sorted(maps.Keys(role.Services)) {
			ports := role.Services[svc]
			if len(ports) == 0 {
				p.addf("roles.%s.services.%s: list the TCP ports it listens on", name, svc)
			}
			for _, port := range ports {
				if port < 1 || port > 65535 {
					p.addf("roles.%s.services.%s: %d is not a TCP port (1-65535)", name, svc, port)
				}
			}
		}
	}
}

func (m *ServiceMap) validateRabbitMQ(p *problems) {
	r := m.RabbitMQ
	checkURL(p, "rabbitmq.url", r.URL, true)
	if r.User == "" {
		p.addf("rabbitmq.user: required (a management API user, e.g. with the monitoring tag)")
	}
	if (r.PasswordEnv == "") == (r.PasswordFile == "") {
		p.addf("rabbitmq: set exactly one of password_env and password_file")
	}
	for i, n := range r.ExpectedNodes {
		if !strings.Contains(n, "@") {
			p.addf("rabbitmq.expected_nodes[%d]: %q is not a node name like rabbit@controller-1", i, n)
		}
	}
}

func (m *ServiceMap) validateGalera(p *problems) {
	g := m.Galera
	if len(g.Hosts) == 0 {
		p.addf("galera.hosts: list the hosts running a Galera node")
	}
	for i, h := range g.Hosts {
		m.requireHost(p, fmt.Sprintf("galera.hosts[%d]", i), h)
	}
	if g.ExpectedSize < 1 {
		p.addf("galera.expected_size: %d must be at least 1", g.ExpectedSize)
	}
	switch g.Connect {
	case "socket":
		if g.Port != 0 {
			p.addf("galera.port: only with connect: tcp")
		}
	case "tcp":
		if g.Socket != "" {
			p.addf("galera.socket: only with connect: socket")
		}
		if g.Port < 1 || g.Port > 65535 {
			p.addf("galera.port: %d is not a TCP port (1-65535)", g.Port)
		}
	default:
		p.addf("galera.connect: %q must be socket or tcp", g.Connect)
	}
	if g.PasswordEnv != "" && g.PasswordFile != "" {
		p.addf("galera: set at most one of password_env and password_file")
	}
}

func (m *ServiceMap) validateHAProxy(p *problems) {
	h := m.HAProxy
	switch {
	case h.StatsSocket == "" && h.StatsURL == "":
		p.addf("haproxy: set stats_socket (with host) or stats_url")
	case h.StatsSocket != "" && h.StatsURL != "":
		p.addf("haproxy: set stats_socket or stats_url, not both")
	case h.StatsSocket != "":
		m.requireHost(p, "haproxy.host", h.Host)
		if h.User != "" || h.PasswordEnv != "" || h.PasswordFile != "" {
			p.addf("haproxy: user and password_* only apply to stats_url")
		}
	default:
		checkURL(p, "haproxy.stats_url", h.StatsURL, false)
		if h.Host != "" {
			p.addf("haproxy.host: only with stats_socket")
		}
		if h.PasswordEnv != "" && h.PasswordFile != "" {
			p.addf("haproxy: set at most one of password_env and password_file")
		}
		if (h.User != "") != (h.PasswordEnv != "" || h.PasswordFile != "") {
			p.addf("haproxy: user and a password (password_env or password_file) go together")
		}
	}
}

func (m *ServiceMap) requireHost(p *problems, at, name string) {
	if name == "" {
		p.addf("%s: required (the name of one of hosts)", at)
		return
	}
	if _, ok := m.Host(name); !ok {
		var names []string
		for _, h := range m.Hosts {
			names = append(names, h.Name)
		}
		p.addf("%s: %q is not one of hosts (%s)", at, name, list(names))
	}
}

func checkURL(p *problems, at, raw string, required bool) {
	if raw == "" {
		if required {
			p.addf("%s: required", at)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.addf("%s: %q is not an http(s)://host[:port] URL", at, raw)
	}
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
