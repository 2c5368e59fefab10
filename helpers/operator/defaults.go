package operator

import (
	"os"
	"path/filepath"
	"strings"
)

// applyDefaults fills every default of the service map; nothing else does.
func (m *ServiceMap) applyDefaults() {
	if m.SSH.User == "" {
		m.SSH.User = "root"
	}
	if m.SSH.Port == 0 {
		m.SSH.Port = 22
	}
	if m.SSH.KnownHosts == "" && !m.SSH.InsecureIgnoreHostKey {
		m.SSH.KnownHosts = "~/.ssh/known_hosts"
	}
	m.SSH.KeyFile = expandHome(m.SSH.KeyFile)
	m.SSH.KnownHosts = expandHome(m.SSH.KnownHosts)

	if r := m.RabbitMQ; r != nil {
		r.URL = strings.TrimRight(r.URL, "/")
		r.PasswordFile = expandHome(r.PasswordFile)
	}
	if g := m.Galera; g != nil {
		if g.ExpectedSize == 0 {
			g.ExpectedSize = len(g.Hosts)
		}
		if g.Connect == "" {
			g.Connect = "socket"
		}
		if g.Connect == "tcp" && g.Port == 0 {
			g.Port = 3306
		}
		if g.MySQLCommand == "" {
			g.MySQLCommand = "mysql"
		}
		g.PasswordFile = expandHome(g.PasswordFile)
	}
	if h := m.HAProxy; h != nil {
		h.PasswordFile = expandHome(h.PasswordFile)
	}
	if p := m.Pacemaker; p != nil && p.Command == "" {
		p.Command = "crm_mon --output-as=xml"
	}
}

// expandHome turns a leading ~/ into the user's home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
