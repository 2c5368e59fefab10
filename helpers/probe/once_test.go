package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPingOnceLoopbackAnswers(t *testing.T) {
	needRawICMP(t)
	start := time.Now()
	ok, err := PingOnce(t.Context(), "127.0.0.1", 3*time.Second)
	if err != nil || !ok {
		t.Fatalf("PingOnce = %v, %v; want answered", ok, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("PingOnce took %s: it must return at the first reply", d)
	}
}

func TestPingOnceRefusesNamesAndEndedContext(t *testing.T) {
	if _, err := PingOnce(t.Context(), "example.invalid", time.Second); err == nil || err.Error() != `ping "example.invalid": not an IP address` {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ok, err := PingOnce(ctx, "127.0.0.1", time.Second)
	if ok || err == nil {
		t.Fatalf("PingOnce on an ended context = %v, %v; want an error (nothing was observed)", ok, err)
	}
}

func TestTCPOnceAcceptedAndRefusedAreAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().String()
	if ok, err := TCPOnce(t.Context(), open, 2*time.Second); err != nil || !ok {
		t.Fatalf("TCPOnce(listening) = %v, %v; want answered", ok, err)
	}
	ln.Close() // now closed: the kernel answers with a reset
	if ok, err := TCPOnce(t.Context(), open, 2*time.Second); err != nil || !ok {
		t.Fatalf("TCPOnce(closed port) = %v, %v; want answered (refused: the packets got through)", ok, err)
	}
}

// silentPort is a loopback port whose listen queue is full: Linux drops the
// SYNs that come next, so a connection attempt sees nothing, like a security
// group that drops.
func silentPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// fill the queue (never accepted)
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("could not fill a listen queue on loopback")
	return ""
}

func TestTCPOnceSilenceIsNoAnswerAfterTheWindow(t *testing.T) {
	addr := silentPort(t)
	start := time.Now()
	ok, err := TCPOnce(t.Context(), addr, 700*time.Millisecond)
	if err != nil || ok {
		t.Fatalf("TCPOnce(silent) = %v, %v; want no answer and no error", ok, err)
	}
	if d := time.Since(start); d < 650*time.Millisecond || d > 3*time.Second {
		t.Fatalf("TCPOnce observed for %s, want its 700ms window", d)
	}
}

func TestHTTPOnce(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	defer close(hang)

	// any status is an answer: the packets passed
	if ok, err := HTTPOnce(t.Context(), srv.URL+"/", time.Second); err != nil || !ok {
		t.Fatalf("HTTPOnce(403) = %v, %v; want answered", ok, err)
	}
	start := time.Now()
	if ok, err := HTTPOnce(t.Context(), srv.URL+"/hang", 500*time.Millisecond); err != nil || ok {
		t.Fatalf("HTTPOnce(no response) = %v, %v; want no answer after the window", ok, err)
	}
	if d := time.Since(start); d < 450*time.Millisecond || d > 3*time.Second {
		t.Fatalf("HTTPOnce observed for %s, want its 500ms window", d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := HTTPOnce(ctx, srv.URL+"/hang", time.Second)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cut short before its 1s window") {
		t.Fatalf("err = %v, want one saying the observation was cut short", err)
	}
}
