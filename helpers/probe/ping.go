package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

const (
	pingInterval = 500 * time.Millisecond // gap between echo requests
	pingAttempt  = 5 * time.Second        // Ping starts a fresh pinger this often (and after a send error)
	pingLinger   = 2 * time.Second        // PingCount waits this long after its last request for late replies
)

// PingResult is what PingCount measured.
type PingResult struct {
	Address  string
	Sent     int
	Received int
	RTTs     []time.Duration // one per reply, in arrival order
	Min      time.Duration
	Avg      time.Duration
	Max      time.Duration
}

// Loss is the fraction of requests that got no reply, from 0 to 1.
func (r PingResult) Loss() float64 {
	if r.Sent == 0 {
		return 1
	}
	return float64(r.Sent-r.Received) / float64(r.Sent)
}

// Ping sends ICMP echo requests to ip, two a second, until one is answered (nil) or ctx ends (an error that says
// how many requests went unanswered and the last failure, such as "network is unreachable"). ip must be an IP
// address: names are refused, not looked up. Raw ICMP needs root or CAP_NET_RAW.
func Ping(ctx context.Context, ip string) error {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("ping %q: not an IP address", ip)
	}
	sent := 0
	err = WaitFor(ctx, pingInterval, func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, pingAttempt)
		defer cancel()
		res, err := runPinger(ctx, addr, 0)
		sent += res.Sent
		if err != nil {
			return false, err
		}
		if res.Received == 0 {
			return false, fmt.Errorf("no reply to %d echo requests", res.Sent)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("ping %s (%d echo requests sent): %w", ip, sent, err)
	}
	return nil
}

// PingCount sends count echo requests to ip, two a second, and waits up to 2 s after the last one for replies
// (less if ctx ends first). It returns what it measured; the error is non-nil only when nothing answered or
// ping could not run: judge loss with PingResult.Loss.
func PingCount(ctx context.Context, ip string, count int) (PingResult, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return PingResult{Address: ip}, fmt.Errorf("ping %q: not an IP address", ip)
	}
	if count < 1 {
		return PingResult{Address: ip}, fmt.Errorf("ping %s: count must be at least 1, got %d", ip, count)
	}
	res, err := runPinger(ctx, addr, count)
	if err != nil {
		return res, fmt.Errorf("ping %s: %w", ip, err)
	}
	if res.Received == 0 {
		return res, fmt.Errorf("ping %s: no reply to %d echo requests", ip, res.Sent)
	}
	return res, nil
}

// runPinger runs one pinger until ctx ends. count 0: until the first reply; otherwise count requests and the
// replies that come within pingLinger of the last one. A socket that cannot be opened is a permanent error.
func runPinger(ctx context.Context, addr netip.Addr, count int) (PingResult, error) {
	res := PingResult{Address: addr.String()}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	pinger := probing.New(addr.String())
	if err := pinger.Resolve(); err != nil { // an IP literal: parsed, never looked up
		return res, Permanent(err)
	}
	pinger.SetPrivileged(true)
	pinger.SetLogger(probing.NoopLogger{})
	pinger.Interval = pingInterval
	if count > 0 {
		pinger.Count = count
		pinger.Timeout = time.Duration(count-1)*pingInterval + pingLinger
	} else {
		pinger.OnRecv = func(*probing.Packet) { pinger.Stop() }
	}
	var mu sync.Mutex
	var sendErr error
	pinger.OnSendError = func(_ *probing.Packet, err error) {
		mu.Lock()
		defer mu.Unlock()
		sendErr = err
	}

	runErr := pinger.RunWithContext(ctx)
	stats := pinger.Statistics()
	res.Sent, res.Received = stats.PacketsSent, stats.PacketsRecv
	res.RTTs, res.Min, res.Avg, res.Max = stats.Rtts, stats.MinRtt, stats.AvgRtt, stats.MaxRtt

	mu.Lock()
	defer mu.Unlock()
	switch {
	case sendErr != nil && res.Received == 0:
		return res, fmt.Errorf("send echo request: %w", sendErr)
	case runErr == nil, errors.Is(runErr, context.Canceled), errors.Is(runErr, context.DeadlineExceeded):
		return res, nil
	case res.Sent == 0:
		return res, Permanent(fmt.Errorf("open raw ICMP socket (needs root or CAP_NET_RAW): %w", runErr))
	default:
		return res, runErr
	}
}
