package operator

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runnerContract is what Local and SSH must both do.
func runnerContract(t *testing.T, r Runner, host string) {
	ctx := context.Background()

	out, err := r.Run(ctx, "echo hello; echo oops >&2", nil)
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(out))

	out, err = r.Run(ctx, "tr a-z A-Z", strings.NewReader("secret via stdin"))
	require.NoError(t, err)
	assert.Equal(t, "SECRET VIA STDIN", string(out))

	out, err = r.Run(ctx, "echo partial; echo line1 >&2; echo line2 >&2; exit 3", nil)
	var ce *CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.ExitCode)
	assert.Equal(t, "partial\n", string(out), "output comes back with the error")
	assert.Equal(t, host+": echo partial; echo line1 >&2; echo line2 >&2; exit 3: exit status 3: line1 / line2", err.Error())

	_, err = r.Run(ctx, "no-such-command-cloudpulse --x", nil)
	assert.True(t, IsCommandNotFound(err), "%v", err)

	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Run(cctx, "sleep 10", nil)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "ctx must stop the command")

	// DialContext: a unix socket on the host
	sock := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "hi from the socket\n")
			c.Close()
		}
	}()
	conn, err := r.DialContext(ctx, "unix", sock)
	require.NoError(t, err)
	b, err := io.ReadAll(conn)
	require.NoError(t, err)
	conn.Close()
	assert.Equal(t, "hi from the socket\n", string(b))
}

func TestLocalRunner(t *testing.T) {
	runnerContract(t, Local{Name: "controller"}, "controller")
}

func TestSSHRunner(t *testing.T) {
	srv := newTestSSHServer(t)
	cfg, err := SSHClientConfig(SSHConfig{User: "cloudpulse", KeyFile: srv.keyFile, KnownHosts: srv.knownHosts})
	require.NoError(t, err)
	s, err := DialSSH(context.Background(), "controller-2", srv.addr, cfg)
	require.NoError(t, err)
	defer s.Close()
	runnerContract(t, s, "controller-2")
	assert.True(t, s.alive())
}

func TestSSHClientConfigErrors(t *testing.T) {
	srv := newTestSSHServer(t)
	for _, tc := range []struct {
		cfg  SSHConfig
		want string
	}{
		{SSHConfig{User: "root"}, "ssh.key_file is not set in the service map: give the private key cloudpulse logs in with"},
		{SSHConfig{User: "root", KeyFile: "/nonexistent/key"}, "ssh.key_file: open /nonexistent/key: no such file or directory"},
		{SSHConfig{User: "root", KeyFile: srv.knownHosts, InsecureIgnoreHostKey: true}, "ssh.key_file " + srv.knownHosts + ": ssh: no key found (a passphrase-protected key is not supported)"},
		{SSHConfig{User: "root", KeyFile: srv.keyFile, KnownHosts: "/nonexistent/known_hosts"}, "ssh.known_hosts: open /nonexistent/known_hosts: no such file or directory (add the hosts' keys with ssh-keyscan, or set insecure_ignore_host_key)"},
	} {
		_, err := SSHClientConfig(tc.cfg)
		assert.EqualError(t, err, tc.want)
	}
}

func TestDialSSHFailures(t *testing.T) {
	srv := newTestSSHServer(t)
	ctx := context.Background()

	refused, err := SSHClientConfig(SSHConfig{User: "cloudpulse", KeyFile: srv.otherKey, KnownHosts: srv.knownHosts})
	require.NoError(t, err)
	_, err = DialSSH(ctx, "controller-2", srv.addr, refused)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ssh cloudpulse@controller-2 ("+srv.addr+"): ssh: handshake failed: ssh: unable to authenticate")

	wrongHost, err := SSHClientConfig(SSHConfig{User: "cloudpulse", KeyFile: srv.keyFile, KnownHosts: srv.wrongHosts})
	require.NoError(t, err)
	_, err = DialSSH(ctx, "controller-2", srv.addr, wrongHost)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "knownhosts: key mismatch")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	ln.Close()
	good, err := SSHClientConfig(SSHConfig{User: "cloudpulse", KeyFile: srv.keyFile, InsecureIgnoreHostKey: true})
	require.NoError(t, err)
	_, err = DialSSH(ctx, "controller-3", closed, good)
	assert.EqualError(t, err, "ssh cloudpulse@controller-3 ("+closed+"): dial tcp "+closed+": connect: connection refused")

	// a server that accepts TCP but never speaks ssh: the handshake ends with ctx
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		c, err := silent.Accept()
		if err == nil {
			time.Sleep(3 * time.Second)
			c.Close()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = DialSSH(cctx, "controller-4", silent.Addr().String(), good)
	assert.EqualError(t, err, "ssh cloudpulse@controller-4 ("+silent.Addr().String()+"): handshake: context deadline exceeded")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// A command sees a minimal environment: not the caller's OS_PASSWORD, tokens
// or service passwords; PATH, HOME and the locale still; Env on top.
func TestLocalRunnerMinimalEnvironment(t *testing.T) {
	t.Setenv("OS_PASSWORD", "admin-pw-must-not-leak")
	t.Setenv("OS_CLOUD", "lab-admin")
	t.Setenv("RABBIT_MON_PASS", "rabbit-pw-must-not-leak")
	t.Setenv("LC_TIME", "C.UTF-8")
	t.Setenv("HOME", "/home/cloudpulse-test")
	out, err := Local{Env: []string{"CIB_file=/tmp/cib.xml"}}.Run(context.Background(), "env", nil)
	require.NoError(t, err)
	env := string(out)
	assert.NotContains(t, env, "OS_PASSWORD")
	assert.NotContains(t, env, "admin-pw-must-not-leak")
	assert.NotContains(t, env, "rabbit-pw-must-not-leak")
	assert.NotContains(t, env, "OS_CLOUD=")
	assert.Contains(t, env, "PATH="+os.Getenv("PATH")+"\n")
	assert.Contains(t, env, "HOME=/home/cloudpulse-test\n")
	assert.Contains(t, env, "LC_TIME=C.UTF-8\n")
	assert.Contains(t, env, "CIB_file=/tmp/cib.xml\n", "what a command needs is given explicitly")
}
