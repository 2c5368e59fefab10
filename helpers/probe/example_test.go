package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// A probe keeps trying until its context ends: here the page answers 503 once, then the hostname.
func ExampleHTTP() {
	booted := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !booted {
			booted = true
			http.Error(w, "booting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "cp-abc123-vm-1")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := probe.HTTP(ctx, srv.URL, http.StatusOK, "cp-abc123-vm-1"); err != nil {
		fmt.Println("not serving:", err)
		return
	}
	fmt.Println("serving")
	// Output: serving
}
