package operator

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func TestIsLocal(t *testing.T) {
	assert.True(t, IsLocal(Host{Address: "127.0.0.1"}))
	assert.True(t, IsLocal(Host{Address: "127.0.1.1"}))
	assert.True(t, IsLocal(Host{Address: "::1"}))
	assert.True(t, IsLocal(Host{Address: "localhost"}))
	assert.False(t, IsLocal(Host{Address: "203.0.113.7"}), "TEST-NET-3 is never this machine")
	assert.False(t, IsLocal(Host{Address: "controller-1.example"}))
	assert.False(t, IsLocal(Host{Address: "127.0.0.1", Local: ptr(false)}))
	assert.True(t, IsLocal(Host{Address: "203.0.113.7", Local: ptr(true)}))

	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			assert.True(t, IsLocal(Host{Address: n.IP.String()}), "own address %s", n.IP)
		}
	}
}

func TestHostsConnectsOnDemandAndCaches(t *testing.T) {
	srv := newTestSSHServer(t)
	m := &ServiceMap{
		SSH: SSHConfig{User: "cloudpulse", Port: srv.port, KeyFile: srv.keyFile, KnownHosts: srv.knownHosts},
		Hosts: []Host{
			{Name: "here", Address: "127.0.0.1"},
			{Name: "remote", Address: "127.0.0.1", Local: ptr(false)},
		},
	}
	hosts := NewHosts(m)
	defer hosts.Close()
	ctx := context.Background()

	r, err := hosts.Runner(ctx, "here")
	require.NoError(t, err)
	assert.Equal(t, Local{Name: "here"}, r)

	r1, err := hosts.Runner(ctx, "remote")
	require.NoError(t, err)
	require.IsType(t, &SSH{}, r1)
	out, err := r1.Run(ctx, "echo via ssh", nil)
	require.NoError(t, err)
	assert.Equal(t, "via ssh\n", string(out))

	r2, err := hosts.Runner(ctx, "remote")
	require.NoError(t, err)
	assert.Same(t, r1, r2, "one connection per host")

	r1.(*SSH).Close() // the connection dies (host rebooted): the next Runner dials again
	r3, err := hosts.Runner(ctx, "remote")
	require.NoError(t, err)
	assert.NotSame(t, r1, r3)
	_, err = r3.Run(ctx, "true", nil)
	assert.NoError(t, err)

	_, err = hosts.Runner(ctx, "nowhere")
	assert.EqualError(t, err, `host "nowhere" is not in the service map`)
	assert.NoError(t, hosts.Close())
}

func TestHostsRefusedKeyFailsOnlyThatHost(t *testing.T) {
	srv := newTestSSHServer(t)
	m := &ServiceMap{
		SSH: SSHConfig{User: "cloudpulse", Port: srv.port, KeyFile: srv.otherKey, KnownHosts: srv.knownHosts},
		Hosts: []Host{
			{Name: "here", Address: "127.0.0.1"},
			{Name: "remote", Address: "127.0.0.1", Local: ptr(false)},
		},
	}
	hosts := NewHosts(m)
	defer hosts.Close()
	_, err := hosts.Runner(context.Background(), "remote")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ssh cloudpulse@remote (127.0.0.1:")
	assert.Contains(t, err.Error(), "unable to authenticate")

	r, err := hosts.Runner(context.Background(), "here")
	require.NoError(t, err)
	_, err = r.Run(context.Background(), "true", nil)
	assert.NoError(t, err)
}

func TestHostsWithoutKeyFile(t *testing.T) {
	hosts := NewHosts(&ServiceMap{SSH: SSHConfig{User: "root", Port: 22}, Hosts: []Host{{Name: "db-2", Address: "203.0.113.7"}}})
	_, err := hosts.Runner(context.Background(), "db-2")
	assert.EqualError(t, err, "ssh to db-2: ssh.key_file is not set in the service map: give the private key cloudpulse logs in with")
}
