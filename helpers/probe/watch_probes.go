package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// The paths below make one attempt each and answer for the moment they start: a watch reads the start of the
// first failed probe as the start of an outage, so a probe must not try again later within its timeout.

// PingPath sends one ICMP echo request to ip and waits for its reply until the probe's ctx ends. One request,
// not PingOnce's two a second: a reply to a second request half a second later would describe the path then,
// not at the probe's start. Raw ICMP needs root or CAP_NET_RAW.
func PingPath(name, ip string) WatchPath {
	return WatchPath{Name: name, Probe: func(ctx context.Context) error {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return fmt.Errorf("ping %q: not an IP address", ip)
		}
		start := time.Now()
		res, err := runPinger(ctx, addr, 1)
		switch {
		case res.Received > 0:
			return nil
		case err != nil:
			return fmt.Errorf("ping %s: %w", ip, err)
		}
		return fmt.Errorf("ping %s: no echo reply within %s", ip, time.Since(start).Round(time.Millisecond))
	}}
}

// TCPPath connects to address (host:port, such as the ssh port of a floating IP) once: the path is up when the
// connection is accepted. Refused is down (nothing listens), and so is no answer before the probe's ctx ends.
func TCPPath(name, address string) WatchPath {
	return WatchPath{Name: name, Probe: func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", address)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", address, unwrapOp(err))
		}
		conn.Close()
		return nil
	}}
}

// HTTPPath sends one GET url (no proxy, no redirects followed, a new connection each time): the path is up when
// the status is 2xx.
func HTTPPath(name, url string) WatchPath {
	return WatchPath{Name: name, Probe: func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("http GET %s: %w", url, err)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return fmt.Errorf("http GET %s: %w", url, unwrapOp(err))
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("http GET %s: status %d, body %q", url, resp.StatusCode, excerpt(body))
		}
		return nil
	}}
}

// unwrapOp drops the wrappers that repeat what the message already says (the URL, "dial tcp ADDR", "connect").
func unwrapOp(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		err = oe.Err
	}
	if se, ok := errors.AsType[*os.SyscallError](err); ok {
		err = se.Err
	}
	return err
}

// SessionPath runs cmd on h in a new session per probe, over one kept ssh connection: exit status 0 is up. The
// connection is dialled at the first probe and again only when it broke: when it closed, a session could not
// be opened on it, or a probe ran out of time and the connection then did not answer a keepalive within the
// same time (a connection that hung through an outage is not trusted to recover: TCP's backoff would add
// seconds to the downtime). Probes run concurrently over it. It is closed when the watch stops.
//
// The paths of one watch that log in to the same user@address share that connection (a guest's ssh server
// refuses many logins at once, and each costs a slow guest a key exchange). While there is none (the first
// probes, or during an outage), logins run in the background, bounded on their own (see sessionLoginTimeout).
//
// From inside a VM: east-west ("ping -c1 -W1 10.0.0.12") and metadata
// ("wget -q -T 1 -O /dev/null http://169.254.169.254/openstack/latest/meta_data.json"). The probe's ctx should
// leave the command its own timeout plus a round trip.
func SessionPath(name string, h Host, cmd string) WatchPath {
	s := sharedSession(h)
	return WatchPath{Name: name, Probe: func(ctx context.Context) error { return s.probe(ctx, cmd) }, close: s.release1, Sequential: true}
}

// sessions are the kept connections in use, by user@address:port, each with how many paths use it.
var (
	sessionsMu sync.Mutex
	sessions   = map[string]*keptSession{}
)

// sharedSession is the kept connection to h that the watch's other paths to h use, or a new one.
func sharedSession(h Host) *keptSession {
	key := h.String()
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	if s, ok := sessions[key]; ok && h.Signer == s.host.Signer && string(h.PrivateKey) == string(s.host.PrivateKey) && h.HostKeys == s.host.HostKeys {
		s.users++
		return s
	}
	s := &keptSession{host: h, key: key, users: 1}
	sessions[key] = s
	return s
}

// release1 is one path done with s: the last one closes it.
func (s *keptSession) release1() {
	sessionsMu.Lock()
	s.users--
	last := s.users == 0
	if last && sessions[s.key] == s {
		delete(sessions, s.key)
	}
	sessionsMu.Unlock()
	if last {
		s.close()
	}
}

type keptSession struct {
	host  Host
	key   string
	users int // paths using it (sessionsMu)

	mu        sync.Mutex
	client    *ssh.Client // nil: dial at the next probe
	release   context.CancelFunc
	checking  *ssh.Client // the client a keepalive check runs on
	closed    bool
	logins    int                // logins under way
	lastLogin time.Time          // when the last one started
	lastErr   error              // how the last login failed (nil after one succeeded)
	event     chan struct{}      // closed when a login ends (a new one is made for the next)
	base      context.Context    // every login's context: cancelled when the watch stops
	stopAll   context.CancelFunc // cancels base
	wg        sync.WaitGroup     // sessions and checks still running
}

func (s *keptSession) probe(ctx context.Context, cmd string) error {
	window := time.Second
	if deadline, ok := ctx.Deadline(); ok {
		window = time.Until(deadline)
	}
	client, done, err := s.get(ctx)
	if err != nil { // no session to run it in: the path was not observed
		return Inconclusive(fmt.Errorf("ssh %s: connect: %w", s.host, err))
	}
	defer done()

	result := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		result <- runSession(ctx, client, cmd)
	}()
	select {
	case err = <-result:
	case <-ctx.Done():
		err = ctx.Err()
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		s.check(client, window)
		return Inconclusive(fmt.Errorf("ssh %s: run %q: no answer: %w", s.host, cmd, ctx.Err()))
	}
	if _, ok := errors.AsType[*ssh.ExitError](err); !ok {
		s.drop(client) // the session broke, not the command: not an observation of the path
		return Inconclusive(fmt.Errorf("ssh %s: run %q: %w", s.host, cmd, err))
	}
	return fmt.Errorf("ssh %s: run %q: %w", s.host, cmd, err)
}

// runSession runs cmd in a new session on client; ctx ending closes the session.
func runSession(ctx context.Context, client *ssh.Client, cmd string) error {
	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	defer session.Close()
	stop := context.AfterFunc(ctx, func() { session.Close() })
	defer stop()
	var stderr strings.Builder
	session.Stderr = &limitedWriter{w: &stderr, n: 1024}
	err = session.Run(cmd)
	if exit, ok := errors.AsType[*ssh.ExitError](err); ok {
		return fmt.Errorf("exit status %d, stderr: %q: %w", exit.ExitStatus(), strings.TrimSpace(stderr.String()), err)
	}
	return err
}

// How a kept session logs in: in the background, each login bounded by
// sessionLoginTimeout and not by the probe that started it (a login to a
// guest on a busy host can take longer than a probe may), at most
// sessionMaxLogins at a time. A probe that finds no connection starts a login
// (unless that many are under way) and waits, within its own timeout, for one
// to finish. The first login that succeeds becomes the kept connection.
// During an outage logins time out one after another, so the end of an outage
// is seen at most sessionLoginTimeout/sessionMaxLogins after it.
// Besides a first one, a login starts only when the last one started at least sessionLoginEvery
// ago (a guest's ssh server resets connections when too many logins are
// pending: dropbear allows 5 per source address).
const (
	sessionLoginTimeout = 6 * time.Second
	sessionMaxLogins    = 3
	sessionLoginEvery   = time.Second
)

// get returns the kept client, waiting (within ctx) for a login when there is none; done is a no-op kept for
// the callers' symmetry.
func (s *keptSession) get(ctx context.Context) (*ssh.Client, func(), error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, errors.New("the watch has stopped")
	}
	if c := s.client; c != nil {
		s.mu.Unlock()
		return c, func() {}, nil
	}
	if s.event == nil {
		s.event = make(chan struct{})
	}
	if s.logins == 0 || s.logins < sessionMaxLogins && time.Since(s.lastLogin) >= sessionLoginEvery {
		s.logins++
		s.lastLogin = time.Now()
		s.wg.Add(1)
		go s.login()
	}
	event := s.event
	s.mu.Unlock()
	for {
		select {
		case <-event:
		case <-ctx.Done():
			s.mu.Lock()
			last := s.lastErr
			s.mu.Unlock()
			if last != nil {
				return nil, nil, fmt.Errorf("%w (still logging in; the last login failed: %w)", ctx.Err(), last)
			}
			return nil, nil, fmt.Errorf("%w (still logging in)", ctx.Err())
		}
		s.mu.Lock()
		c, err, closed := s.client, s.lastErr, s.closed
		if s.event == nil {
			s.event = make(chan struct{})
		}
		event = s.event
		s.mu.Unlock()
		switch {
		case closed:
			return nil, nil, errors.New("the watch has stopped")
		case c != nil:
			return c, func() {}, nil
		case err != nil:
			return nil, nil, err
		}
	}
}

// login logs in once, bounded by sessionLoginTimeout (and the watch's end);
// it keeps the connection when none is kept yet, and tells the waiting probes.
func (s *keptSession) login() {
	defer s.wg.Done()
	s.mu.Lock()
	if s.base == nil {
		s.base, s.stopAll = context.WithCancel(context.Background())
	}
	base := s.base
	s.mu.Unlock()
	life, release := context.WithCancel(base)
	timer := time.AfterFunc(sessionLoginTimeout, release)
	c, err := dial(life, s.host)
	if !timer.Stop() && err == nil { // the bound ran out just as the login ended: release closed it
		err = fmt.Errorf("login took longer than %s", sessionLoginTimeout)
		c.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins--
	notify := func() {
		if s.event != nil {
			close(s.event)
			s.event = nil
		}
	}
	if err != nil {
		release()
		s.lastErr = unwrapOp(err)
		notify()
		return
	}
	if s.client != nil || s.closed {
		c.Close() // another login won, or the watch is over
		release()
		notify()
		return
	}
	s.client, s.release, s.lastErr = c, release, nil
	notify()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = c.Wait()
		s.drop(c)
	}()
}

// check sends a keepalive on a client that let a probe run out of time, and drops it if no reply comes within
// window. One check at a time per client.
func (s *keptSession) check(c *ssh.Client, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != c || s.checking == c || s.closed {
		return
	}
	s.checking = c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		replied := make(chan struct{})
		go func() {
			_, _, _ = c.SendRequest("keepalive@openssh.com", true, nil) // any reply, even "unknown", is a live connection
			close(replied)
		}()
		timer := time.NewTimer(window)
		defer timer.Stop()
		select {
		case <-replied:
		case <-timer.C:
			s.drop(c)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.checking == c {
			s.checking = nil
		}
	}()
}

// drop closes c and forgets it if it is the kept client.
func (s *keptSession) drop(c *ssh.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == c {
		s.client = nil
		s.release()
	}
	c.Close()
}

// close closes the kept connection and waits for the sessions and checks still running on it.
func (s *keptSession) close() {
	s.mu.Lock()
	s.closed = true
	if s.stopAll != nil {
		s.stopAll() // logins under way end now
	}
	if s.event != nil {
		close(s.event)
		s.event = nil
	}
	if s.client != nil {
		s.client.Close()
		s.client = nil
		s.release()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// limitedWriter keeps the first n bytes written and discards the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
