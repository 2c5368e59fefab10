package operator

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/haproxy-2.6-show-stat.csv is real `show stat` output, captured from
// Debian 12's HAProxy 2.6.12 with one UP server, one DOWN (connection refused),
// one in MAINT and one without health check.
func readStats(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/haproxy-2.6-show-stat.csv")
	require.NoError(t, err)
	return b
}

const wantDown = "2 of 5 backend servers not UP: keystone_public/controller-2 DOWN (L4CON: Connection refused); nova_api/controller-3 MAINT"

func TestParseHAProxyStats(t *testing.T) {
	servers, err := ParseHAProxyStats(readStats(t))
	require.NoError(t, err)
	assert.Equal(t, []HAProxyServer{
		{Backend: "keystone_public", Server: "controller-1", Status: "UP"},
		{Backend: "keystone_public", Server: "controller-2", Status: "DOWN", Check: "L4CON: Connection refused"},
		{Backend: "nova_api", Server: "controller-1", Status: "UP"},
		{Backend: "nova_api", Server: "controller-3", Status: "MAINT"},
		{Backend: "nova_api", Server: "controller-2", Status: "no check"},
	}, servers)
	assert.True(t, HAProxyServer{Status: "UP 1/3"}.Up())
	assert.False(t, HAProxyServer{Status: "DOWN 1/2"}.Up())
	assert.False(t, HAProxyServer{Status: "DRAIN"}.Up())

	_, err = ParseHAProxyStats([]byte("Permission denied\n"))
	assert.EqualError(t, err, `not HAProxy CSV statistics (first line "Permission denied"): the socket needs admin or operator level, the URL a stats page`)
	_, err = ParseHAProxyStats([]byte("# foo,bar\n1,2\n"))
	assert.EqualError(t, err, `parse HAProxy CSV statistics: no "pxname" column`)
}

// statsSocket serves `show stat` on a unix socket like HAProxy's admin socket.
func statsSocket(t *testing.T, csv []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			if strings.TrimSpace(string(buf[:n])) == "show stat" {
				c.Write(csv)
			} else {
				io.WriteString(c, "Unknown command.\n")
			}
			c.Close()
		}
	}()
	return path
}

func TestHAProxySocketLocal(t *testing.T) {
	sock := statsSocket(t, readStats(t))
	res := runCheck(t, HAProxy(HAProxyConfig{Host: "lb", StatsSocket: sock}, fakeHosts{}, nil))
	assert.Equal(t, "haproxy lb:"+sock+": "+wantDown, res.Error)

	healthy := strings.ReplaceAll(strings.ReplaceAll(string(readStats(t)), ",DOWN,", ",UP,"), ",MAINT,", ",UP,")
	sock = statsSocket(t, []byte(healthy))
	res = runCheck(t, HAProxy(HAProxyConfig{Host: "lb", StatsSocket: sock}, fakeHosts{}, nil))
	assert.True(t, res.OK, res.Error)

	res = runCheck(t, HAProxy(HAProxyConfig{Host: "lb", StatsSocket: "/nonexistent/admin.sock"}, fakeHosts{}, nil))
	assert.Equal(t, "haproxy: stats socket /nonexistent/admin.sock on lb: dial unix /nonexistent/admin.sock: connect: no such file or directory", res.Error)
}

func TestHAProxySocketOverSSH(t *testing.T) {
	srv := newTestSSHServer(t)
	sock := statsSocket(t, readStats(t))
	m := &ServiceMap{
		SSH:   SSHConfig{User: "cloudpulse", Port: srv.port, KeyFile: srv.keyFile, KnownHosts: srv.knownHosts},
		Hosts: []Host{{Name: "lb", Address: "127.0.0.1", Local: ptr(false)}},
	}
	hosts := NewHosts(m)
	defer hosts.Close()
	res := runCheck(t, HAProxy(HAProxyConfig{Host: "lb", StatsSocket: sock}, hosts, nil))
	assert.Equal(t, "haproxy lb:"+sock+": "+wantDown, res.Error)
}

func TestHAProxyStatsURL(t *testing.T) {
	stats := readStats(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/stats;csv" && r.URL.RawQuery != "stats;csv" {
			http.NotFound(w, r)
			return
		}
		w.Write(stats)
	}))
	defer srv.Close()
	t.Setenv("CLOUDPULSE_TEST_HAPROXY_PW", "pw")

	cfg := HAProxyConfig{StatsURL: srv.URL + "/stats", User: "admin", PasswordEnv: "CLOUDPULSE_TEST_HAPROXY_PW"}
	res := runCheck(t, HAProxy(cfg, fakeHosts{}, nil))
	assert.Equal(t, "haproxy "+srv.URL+"/stats: "+wantDown, res.Error)

	t.Setenv("CLOUDPULSE_TEST_HAPROXY_PW", "wrong")
	res = runCheck(t, HAProxy(cfg, fakeHosts{}, nil))
	assert.Equal(t, fmt.Sprintf("haproxy: GET %s/stats;csv: got HTTP 401: check haproxy.user and its password", srv.URL), res.Error)
}
