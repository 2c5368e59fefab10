package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// The single-attempt probes below prove a negative: "nothing answered within
// the window". Unlike Ping, SSH and HTTP they do not try again until ctx
// ends; they observe for a fixed window and say whether anything answered.
// A "must be blocked" check pairs one with a positive control from the same
// source (a blocked path proves nothing when the source reaches nothing).
//
// They return (answered, nil) when the observation ran its window or got an
// answer, and an error when the probe could not observe: a bad address, no raw
// socket, the network unreachable, or ctx ending before the window did.

// PingOnce sends ICMP echo requests to ip, two a second, for window and
// reports whether any was answered (it returns at the first reply).
func PingOnce(ctx context.Context, ip string, window time.Duration) (bool, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false, fmt.Errorf("ping %q: not an IP address", ip)
	}
	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	res, err := runPinger(wctx, addr, 0)
	if res.Received > 0 {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("ping %s once (%s): %w", ip, window, err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("ping %s once: cut short before its %s window: %w", ip, window, err)
	}
	return false, nil
}

// TCPOnce connects to address (host:port) once, waiting up to window, and
// reports whether the host answered: it accepted, or refused (a reset came
// back, so the packets passed). A connection attempt that times out is "no
// answer"; an unreachable network or host is an error.
func TCPOnce(ctx context.Context, address string, window time.Duration) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(wctx, "tcp", address)
	if err == nil {
		conn.Close()
		return true, nil
	}
	return onceVerdict(ctx, "connect to "+address, window, err)
}

// HTTPOnce sends one GET url, waiting up to window, and reports whether
// anything answered: any HTTP response, or a refused connection. Silence until
// the window ends is "no answer".
func HTTPOnce(ctx context.Context, url string, window time.Duration) (bool, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("http GET %s: %w", url, err)
	}
	wctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	resp, err := httpClient.Do(req.WithContext(wctx))
	if err == nil {
		resp.Body.Close()
		return true, nil
	}
	return onceVerdict(ctx, "http GET "+url, window, err)
}

// onceVerdict sorts a failed single attempt: refused is an answer, a timeout
// at the window's end is none, anything else (or ctx ending first) an error.
func onceVerdict(ctx context.Context, what string, window time.Duration, err error) (bool, error) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return true, nil
	case ctx.Err() != nil:
		return false, fmt.Errorf("%s once: cut short before its %s window: %w", what, window, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, nil
	}
	return false, fmt.Errorf("%s once (%s): %w", what, window, err)
}
