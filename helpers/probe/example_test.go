package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// A watch probes data-plane paths in the background while something else happens. Here the "upgrade" makes the
// web server answer 503 for 750ms, and the watch measures that outage within one probe interval; the ssh port
// stays open. report.WriteSVG draws the timelines, and json.Marshal(report) gives the numbers in seconds.
func ExampleStartWatch() {
	var upgrading atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if upgrading.Load() {
			http.Error(w, "upgrading", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "cp-abc123-vm-1")
	}))
	defer srv.Close()

	const interval = 100 * time.Millisecond
	page := probe.HTTPPath("http/vm-1", srv.URL)
	page.Threshold = 500 * time.Millisecond
	port := probe.TCPPath("ssh/vm-1", srv.Listener.Addr().String())
	w := probe.StartWatch(context.Background(), []probe.WatchPath{page, port}, probe.WatchOptions{Interval: interval})
	time.Sleep(300 * time.Millisecond)
	upgrading.Store(true)
	time.Sleep(750 * time.Millisecond)
	upgrading.Store(false)
	time.Sleep(300 * time.Millisecond)
	report := w.Stop()

	web, ssh := report.Paths[0], report.Paths[1]
	off := web.Downtime - 750*time.Millisecond
	fmt.Printf("%s: %d outage, measured within one probe interval: %v\n", web.Name, len(web.Outages), off >= -interval && off <= interval)
	fmt.Printf("%s: %d outages\n", ssh.Name, len(ssh.Outages))
	fmt.Printf("paths over their threshold: %d\n", len(report.Exceeded())) // "http/vm-1: down 700ms in total (threshold 500ms; ...)"
	// Output:
	// http/vm-1: 1 outage, measured within one probe interval: true
	// ssh/vm-1: 0 outages
	// paths over their threshold: 1
}
