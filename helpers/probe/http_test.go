package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPRetriesUntilStatusAndBody(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "still booting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "<h1>cp-run-vm-1</h1>")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	if err := HTTP(ctx, srv.URL, 200, "cp-run-vm-1"); err != nil {
		t.Fatalf("HTTP: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("server saw %d requests, want 3 (two 503s, then 200)", n)
	}
}

func TestHTTPWrongBodyFailsAtDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "some other page")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()

	err := HTTP(ctx, srv.URL, 200, "cp-run-vm-1")
	if err == nil {
		t.Fatal("HTTP accepted a body without the wanted text")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
	for _, want := range []string{srv.URL, `does not contain "cp-run-vm-1"`, `"some other page"`, "gave up after 2 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHTTPWrongStatusIsReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusNotFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
	defer cancel()

	err := HTTP(ctx, srv.URL+"/missing", 200, "")
	if err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("err = %v, want one mentioning status 404", err)
	}
}

func TestHTTPDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	if err := HTTP(ctx, srv.URL, http.StatusMovedPermanently, ""); err != nil {
		t.Fatalf("HTTP want 301: %v", err)
	}
}

func TestHTTPRefusedPort(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/", freePort(t))

	err := HTTP(ctx, url, 200, "")
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v, want one naming %s and the refusal", err, url)
	}
}

func TestHTTPRejectsBadArguments(t *testing.T) {
	ctx := t.Context()
	if err := HTTP(ctx, "http://127.0.0.1/", 42, ""); err == nil || !strings.Contains(err.Error(), "not an HTTP status") {
		t.Errorf("status 42: err = %v", err)
	}
	if err := HTTP(ctx, "http://[bad", 200, ""); err == nil || !strings.Contains(err.Error(), "http://[bad") {
		t.Errorf("bad URL: err = %v", err)
	}
}
