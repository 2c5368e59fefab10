package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpProxy forwards loopback connections to target. It counts the connections, and can drop (close) or freeze
// (stop forwarding, keep open: a path that went silent) the ones it has.
type tcpProxy struct {
	ln       net.Listener
	target   string
	delay    time.Duration // before each accepted connection is forwarded: a slow login
	accepted atomic.Int32
	open     atomic.Int32

	mu    sync.Mutex
	conns []*proxiedConn
	wg    sync.WaitGroup
}

type proxiedConn struct {
	client, server net.Conn
	frozen         atomic.Bool
	closed         atomic.Bool
}

func (c *proxiedConn) close() {
	c.closed.Store(true)
	c.client.Close()
	c.server.Close()
}

func startProxy(t *testing.T, target string) *tcpProxy { return startProxyDelayed(t, target, 0) }

func startProxyDelayed(t *testing.T, target string, delay time.Duration) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, delay: delay}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			time.Sleep(p.delay)
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.accepted.Add(1)
			p.open.Add(1)
			c := &proxiedConn{client: client, server: server}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			var halves sync.WaitGroup
			halves.Add(2)
			p.wg.Add(1)
			go func() { defer p.wg.Done(); halves.Wait(); c.close(); p.open.Add(-1) }()
			go func() { defer halves.Done(); c.pipe(server, client) }()
			go func() { defer halves.Done(); c.pipe(client, server) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.dropAll()
		p.wg.Wait()
	})
	return p
}

// pipe copies src to dst until either closes, holding data back while the connection is frozen.
func (c *proxiedConn) pipe(dst, src net.Conn) {
	defer c.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for c.frozen.Load() && !c.closed.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 && !c.closed.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil || c.closed.Load() {
			return
		}
	}
}

func (p *tcpProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *tcpProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.close()
	}
	p.conns = nil
}

func (p *tcpProxy) freezeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen.Store(true)
	}
}

// waitOpen waits until the proxy has n open connections.
func (p *tcpProxy) waitOpen(t *testing.T, n int32) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for p.open.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open through the proxy, want %d", p.open.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sessionFixture is an ssh server behind a proxy, and a Host that reaches it through the proxy.
func sessionFixture(t *testing.T) (*tcpProxy, Host) {
	t.Helper()
	keys := newKeys(t)
	srv := startSSHServer(t, "vm-1", "127.0.0.1:0", keys.Signer.PublicKey())
	proxy := startProxy(t, srv.ln.Addr().String())
	return proxy, Host{Address: "127.0.0.1", Port: proxy.port(), User: "root", Signer: keys.Signer}
}

func probeWithin(p WatchPath, parent context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	return p.Probe(ctx)
}

// Probes share one connection, concurrently; when the server drops it, the next probes dial again.
func TestSessionPathKeepsOneConnectionAndRedials(t *testing.T) {
	t.Parallel()
	proxy, h := sessionFixture(t)
	p := SessionPath("east-west/vm-1→vm-2", h, "echo ok")

	if err := probeWithin(p, t.Context(), 5*time.Second); err != nil {
		t.Fatalf("first probe: %v", err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- probeWithin(p, t.Context(), 5*time.Second) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent probe: %v", err)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Fatalf("%d ssh connections for 9 probes, want 1 kept", n)
	}

	proxy.dropAll()
	var err error
	for range 3 { // the probe that meets the broken connection may fail; the next dials again
		if err = probeWithin(p, t.Context(), 5*time.Second); err == nil {
			break
		}
		t.Logf("probe after the drop: %v", err)
	}
	if err != nil {
		t.Fatalf("no probe succeeded after the server dropped the connection: %v", err)
	}
	if n := proxy.accepted.Load(); n != 2 {
		t.Fatalf("%d ssh connections after one drop, want 2", n)
	}
	p.close()
	proxy.waitOpen(t, 0)
}

// A command that exits non-zero is the path down, over a connection that is fine: no new connection.
func TestSessionPathExitStatus(t *testing.T) {
	t.Parallel()
	proxy, h := sessionFixture(t)
	p := SessionPath("metadata/vm-1", h, "fail")
	defer p.close()
	want := fmt.Sprintf(`ssh root@127.0.0.1:%d: run "fail": exit status 3, stderr: "boom": Process exited with status 3`, proxy.port())
	for range 2 {
		err := probeWithin(p, t.Context(), 5*time.Second)
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Fatalf("%d ssh connections, want 1", n)
	}
}

// A command slower than the probe's timeout (ping -W1 on a VM↔VM path that is down) keeps the connection: it
// still answers keepalives. A connection that stopped answering (the path to the VM went silent) is dialled again.
func TestSessionPathTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond

	t.Run("slow command keeps the connection", func(t *testing.T) {
		t.Parallel()
		proxy, h := sessionFixture(t)
		p := SessionPath("east-west/vm-1→vm-2", h, "sleep")
		defer p.close()
		// The first probe logs in, so that the next ones have only the command to wait for.
		if err := probeWithin(p, t.Context(), time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the probe's deadline", err)
		}
		for range 2 {
			err := probeWithin(p, t.Context(), timeout)
			want := fmt.Sprintf(`ssh root@127.0.0.1:%d: run "sleep": no answer: context deadline exceeded`, proxy.port())
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
			time.Sleep(2 * timeout) // the keepalive check is over
		}
		if n := proxy.accepted.Load(); n != 1 {
			t.Fatalf("%d ssh connections, want 1: a slow command is not a broken connection", n)
		}
	})

	t.Run("silent connection is dialled again", func(t *testing.T) {
		t.Parallel()
		proxy, h := sessionFixture(t)
		p := SessionPath("east-west/vm-1→vm-2", h, "echo ok")
		defer p.close()
		if err := probeWithin(p, t.Context(), 5*time.Second); err != nil {
			t.Fatal(err)
		}
		proxy.freezeAll()
		err := probeWithin(p, t.Context(), timeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want no answer", err)
		}
		time.Sleep(2 * timeout) // the keepalive goes unanswered: the connection is dropped
		if err := probeWithin(p, t.Context(), 5*time.Second); err != nil {
			t.Fatalf("probe after the connection went silent: %v", err)
		}
		if n := proxy.accepted.Load(); n != 2 {
			t.Fatalf("%d ssh connections, want 2", n)
		}
	})
}

// In a watch: no outage, one connection, closed at Stop. A server that is not there is a clear error.
func TestSessionPathInWatch(t *testing.T) {
	t.Parallel()
	proxy, h := sessionFixture(t)
	nobody := h
	nobody.Port = freePort(t)
	w := StartWatch(t.Context(), []WatchPath{
		SessionPath("metadata/vm-1", h, "echo ok"),
		SessionPath("metadata/vm-2", nobody, "echo ok"),
	}, WatchOptions{Interval: 50 * time.Millisecond})
	// Probes that start while the first login is under way log in too (see SessionPath); the first login kept
	// serves every probe after it.
	time.Sleep(250 * time.Millisecond)
	proxy.waitOpen(t, 1)
	warm := proxy.accepted.Load()
	time.Sleep(250 * time.Millisecond)
	r := w.Stop()
	proxy.waitOpen(t, 0)

	if p := r.Paths[0]; p.Probes < 8 || p.Failed != 0 || proxy.accepted.Load() != warm {
		t.Fatalf("%d probes, %d failed; %d connections after the first 250ms, %d at the end; want about 10 probes, "+
			"none failed, no new connection", p.Probes, p.Failed, warm, proxy.accepted.Load())
	}
	t.Logf("%d probes over %d ssh connections", r.Paths[0].Probes, warm)
	// a guest the session cannot reach is not observed: its in-guest path is neither up nor down (the
	// floating-IP paths say whether the guest is reachable)
	if p := r.Paths[1]; len(p.Outages) != 0 || p.Inconclusive == 0 || p.Inconclusive != p.Probes {
		t.Fatalf("unreachable guest: outages %+v, %d of %d probes inconclusive; want none, all", p.Outages, p.Inconclusive, p.Probes)
	}
	if err := probeWithin(SessionPath("x", Host{Address: "127.0.0.1", Port: nobody.Port, User: "root", Signer: newKeys(t).Signer}, "true"), t.Context(), 2*time.Second); err == nil ||
		!strings.Contains(err.Error(), "ssh root@127.0.0.1:"+strconv.Itoa(nobody.Port)+": connect: connection refused") {
		t.Fatalf("err = %v, want the connect error", err)
	}
}

// A login slower than a probe may take (a guest on a busy host) still becomes the kept connection: logins run
// in the background, bounded on their own; probes meanwhile fail saying so.
func TestSessionPathSlowLogin(t *testing.T) {
	t.Parallel()
	keys := newKeys(t)
	srv := startSSHServer(t, "vm-1", "127.0.0.1:0", keys.Signer.PublicKey())
	proxy := startProxyDelayed(t, srv.ln.Addr().String(), 600*time.Millisecond)
	p := SessionPath("metadata/vm-1", Host{Address: "127.0.0.1", Port: proxy.port(), User: "root", Signer: keys.Signer}, "echo ok")
	defer p.close()
	err := probeWithin(p, t.Context(), 150*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "still logging in") {
		t.Fatalf("first probe: %v, want a failure while the login is under way", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err = probeWithin(p, t.Context(), 150*time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probe succeeded within 5s of a 600ms login: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := proxy.accepted.Load(); n > sessionMaxLogins {
		t.Fatalf("%d logins, want at most %d at a time", n, sessionMaxLogins)
	}
	proxy.waitOpen(t, 1) // the extra logins are closed; one connection is kept
}

// Paths to the same guest share its one connection (a guest's ssh server resets many pending logins); it is
// closed when the last of them is done.
func TestSessionPathsShareTheirHostsConnection(t *testing.T) {
	t.Parallel()
	proxy, h := sessionFixture(t)
	a := SessionPath("metadata/vm-1", h, "echo metadata")
	b := SessionPath("east-west/vm-1→vm-2", h, "echo ping")
	for _, p := range []WatchPath{a, b, a, b} {
		if err := probeWithin(p, t.Context(), 5*time.Second); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Fatalf("%d ssh connections for two paths to one host, want 1", n)
	}
	a.close()
	if err := probeWithin(b, t.Context(), 5*time.Second); err != nil {
		t.Fatalf("the other path after the first is done: %v", err)
	}
	b.close()
	proxy.waitOpen(t, 0)
}
