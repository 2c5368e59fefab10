package probetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingTB stands in for *testing.T to see what a wrapper reports; FailNow ends the goroutine like the real one.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	logs   []string
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return "recording" }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	panic(errFailNow)
}

var errFailNow = errors.New("FailNow")

// call runs f as a test body would run and reports whether it stopped the test.
func (r *recordingTB) call(f func()) (stopped bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != errFailNow {
				panic(p)
			}
			stopped = true
		}
	}()
	f()
	return false
}

func (r *recordingTB) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

func TestHTTPPassesAndLogs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "vm-1") }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	rec := &recordingTB{}
	if rec.call(func() { HTTP(rec, ctx, srv.URL, 200, "vm-1") }) || rec.failed {
		t.Fatalf("HTTP against a good server failed the test: %s", rec.text())
	}
	if !strings.Contains(rec.text(), "http GET "+srv.URL+": 200 after") {
		t.Fatalf("log %q does not record the check", rec.text())
	}
}

func TestSSHFailureStopsTheTestWithTheReason(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	keys := KeyPair(t, "probetest")

	rec := &recordingTB{}
	stopped := rec.call(func() {
		SSH(rec, ctx, probeHost(keys), "hostname")
	})
	if !stopped || !rec.failed {
		t.Fatal("SSH without a user did not stop the test")
	}
	if !strings.Contains(rec.text(), "has no user") {
		t.Fatalf("failure %q does not say why", rec.text())
	}
}

func TestWaitForFailureNamesWhatWasAwaited(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	rec := &recordingTB{}
	stopped := rec.call(func() {
		WaitFor(rec, ctx, "server ACTIVE", 100*time.Millisecond, func(context.Context) (bool, error) {
			return false, errors.New("status BUILD")
		})
	})
	if !stopped {
		t.Fatal("WaitFor that never held did not stop the test")
	}
	for _, want := range []string{"wait for server ACTIVE", "status BUILD"} {
		if !strings.Contains(rec.text(), want) {
			t.Errorf("failure %q does not mention %q", rec.text(), want)
		}
	}
}
