package operator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Connector gives the Runner of a host of the service map. *Hosts is the
// real one; tests may use their own.
type Connector interface {
	Runner(ctx context.Context, host string) (Runner, error)
}

// Hosts connects to the service map's hosts on demand: Local for this
// machine, one shared ssh connection per remote host. A host that cannot be
// reached fails only the checks that need it; the next check retries.
// Close it when done.
type Hosts struct {
	m *ServiceMap

	mu     sync.Mutex
	conns  map[string]*SSH
	config *ssh.ClientConfig
	dials  map[string]*sync.Mutex // one dial at a time per host
}

// NewHosts returns the connector of m's hosts. Nothing is dialed yet.
func NewHosts(m *ServiceMap) *Hosts {
	return &Hosts{m: m, conns: map[string]*SSH{}, dials: map[string]*sync.Mutex{}}
}

// Runner returns the Runner of the host called name, connecting over ssh the
// first time a remote host is asked for.
func (h *Hosts) Runner(ctx context.Context, name string) (Runner, error) {
	host, ok := h.m.Host(name)
	if !ok {
		return nil, fmt.Errorf("host %q is not in the service map", name)
	}
	if IsLocal(host) {
		return Local{Name: host.Name}, nil
	}

	h.mu.Lock()
	dial, ok := h.dials[name]
	if !ok {
		dial = &sync.Mutex{}
		h.dials[name] = dial
	}
	h.mu.Unlock()
	dial.Lock()
	defer dial.Unlock()

	h.mu.Lock()
	c := h.conns[name]
	config := h.config
	h.mu.Unlock()
	if c != nil {
		if c.alive() {
			return c, nil
		}
		c.Close() // the host went away (reboot, network): dial again
		h.mu.Lock()
		delete(h.conns, name)
		h.mu.Unlock()
	}

	var err error
	if config == nil {
		if config, err = SSHClientConfig(h.m.SSH); err != nil {
			return nil, fmt.Errorf("ssh to %s: %w", name, err)
		}
		h.mu.Lock()
		h.config = config
		h.mu.Unlock()
	}
	c, err = DialSSH(ctx, host.Name, sshAddress(host.Address, h.m.SSH.Port), config)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.conns[name] = c
	h.mu.Unlock()
	return c, nil
}

// Close closes every ssh connection.
func (h *Hosts) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for name, c := range h.conns {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close ssh to %s: %w", name, err))
		}
		delete(h.conns, name)
	}
	return errors.Join(errs...)
}

// IsLocal reports whether commands for host run on this machine: its Local
// field when set, else whether its address is a loopback address or one of
// this machine's interface addresses (or "localhost").
func IsLocal(host Host) bool {
	if host.Local != nil {
		return *host.Local
	}
	if host.Address == "localhost" {
		return true
	}
	ip := net.ParseIP(host.Address)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
