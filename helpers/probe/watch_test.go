package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// calibrationOutage is the outage the calibration tests inject: 7.5 probe intervals. The measured downtime is
// a whole number of intervals (both edges are probe starts), so an outage of 7.5 is measured as 7 or 8, half an
// interval off whatever the phase of the probes; the other half of the tolerance is left to scheduling. An
// outage of a whole number of intervals would put the exact error on the tolerance's edge, where jitter alone
// decides.
const (
	calibrationInterval = 200 * time.Millisecond
	calibrationOutage   = 1500 * time.Millisecond
	calibrationSettle   = 600 * time.Millisecond // up before and after the outage
)

// checkCalibration asserts one closed outage whose length is within one interval of the one the test injected
// (down from t0 to t1, by the test's own clock).
func checkCalibration(t *testing.T, r WatchReport, t0, t1 time.Time) {
	t.Helper()
	if len(r.Paths) != 1 {
		t.Fatalf("%d path reports, want 1", len(r.Paths))
	}
	p := r.Paths[0]
	injected := t1.Sub(t0)
	calibrationErr := p.Downtime - injected
	t.Logf("%s: injected %s, measured %s (error %+.1fms, tolerance ±%s); %d probes, %d failed; outages %+v",
		p.Name, injected.Round(time.Microsecond), p.Downtime.Round(time.Microsecond),
		float64(calibrationErr)/float64(time.Millisecond), r.Interval, p.Probes, p.Failed, outageOffsets(r.Started, p.Outages))
	if len(p.Outages) != 1 {
		t.Fatalf("%d outages, want 1", len(p.Outages))
	}
	o := p.Outages[0]
	if o.Open {
		t.Fatalf("the outage is still open at Stop; it ended at %s", t1)
	}
	if calibrationErr < -r.Interval || calibrationErr > r.Interval {
		t.Fatalf("measured downtime %s, injected %s: off by %s, more than the probe interval %s",
			p.Downtime, injected, calibrationErr, r.Interval)
	}
	if p.LongestGap != p.Downtime || o.Duration != p.Downtime || o.End.Sub(o.Start) != o.Duration {
		t.Fatalf("one outage of %s, but downtime %s and longest gap %s", o.Duration, p.Downtime, p.LongestGap)
	}
}

func outageOffsets(started time.Time, os []Outage) []string {
	var out []string
	for _, o := range os {
		out = append(out, fmt.Sprintf("%s..%s", o.Start.Sub(started).Round(time.Millisecond), o.End.Sub(started).Round(time.Millisecond)))
	}
	return out
}

// An HTTP server that answers 503 for a known time: the watcher measures that time within one interval.
func TestWatchCalibrationHTTP(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			http.Error(w, "upgrading", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()

	w := StartWatch(t.Context(), []WatchPath{HTTPPath("http/vm-1", srv.URL)}, WatchOptions{Interval: calibrationInterval})
	time.Sleep(calibrationSettle)
	t0 := time.Now()
	down.Store(true)
	time.Sleep(calibrationOutage)
	down.Store(false)
	t1 := time.Now()
	time.Sleep(calibrationSettle)
	r := w.Stop()

	checkCalibration(t, r, t0, t1)
	if want := fmt.Sprintf(`http GET %s: status 503, body "upgrading"`, srv.URL); r.Paths[0].Outages[0].Error != want {
		t.Fatalf("outage error %q, want %q", r.Paths[0].Outages[0].Error, want)
	}
}

// A TCP listener closed for a known time and opened again on the same port: measured within one interval.
func TestWatchCalibrationTCP(t *testing.T) {
	t.Parallel()
	serve := func(ln net.Listener) {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go serve(ln)

	w := StartWatch(t.Context(), []WatchPath{TCPPath("ssh/vm-1", addr)}, WatchOptions{Interval: calibrationInterval})
	time.Sleep(calibrationSettle)
	t0 := time.Now()
	ln.Close()
	time.Sleep(calibrationOutage)
	ln, err = net.Listen("tcp", addr)
	t1 := time.Now()
	if err != nil {
		w.Stop()
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	defer ln.Close()
	go serve(ln)
	time.Sleep(calibrationSettle)
	r := w.Stop()

	checkCalibration(t, r, t0, t1)
	if want := "connect to " + addr + ": connection refused"; r.Paths[0].Outages[0].Error != want {
		t.Fatalf("outage error %q, want %q", r.Paths[0].Outages[0].Error, want)
	}
}

// The outages are read from the probes in start order: here failed probes take three intervals to fail and
// successful ones return at once, so they finish out of order.
func TestWatchOrdersProbesByStart(t *testing.T) {
	t.Parallel()
	const interval = 40 * time.Millisecond
	var n atomic.Int32
	slowFailures := WatchPath{Name: "slow", Probe: func(ctx context.Context) error {
		if i := n.Add(1); i >= 4 && i <= 8 {
			time.Sleep(3 * interval)
			return fmt.Errorf("probe %d failed", i)
		}
		return nil
	}}
	w := StartWatch(t.Context(), []WatchPath{slowFailures}, WatchOptions{Interval: interval, Timeout: 10 * interval})
	time.Sleep(16 * interval)
	r := w.Stop()

	p := r.Paths[0]
	if len(p.Outages) != 1 || p.Failed != 5 {
		t.Fatalf("%d outages and %d failed probes, want 1 and 5: %+v", len(p.Outages), p.Failed, p.Outages)
	}
	for i := 1; i < len(p.Samples); i++ {
		if p.Samples[i].At.Before(p.Samples[i-1].At) {
			t.Fatalf("sample %d started before sample %d", i, i-1)
		}
	}
	first := -1
	for i, s := range p.Samples {
		if !s.OK {
			first = i
			break
		}
	}
	o := p.Outages[0]
	if first < 0 || !o.Start.Equal(p.Samples[first].At) || !o.End.Equal(p.Samples[first+5].At) || !p.Samples[first+5].OK {
		t.Fatalf("outage %s..%s, want from the start of sample %d to the start of sample %d (%+v)",
			o.Start.Sub(r.Started), o.End.Sub(r.Started), first, first+5, p.Samples)
	}
	if o.Error != "probe 4 failed" {
		t.Fatalf("outage error %q, want the first failure's", o.Error)
	}
}

// A probe that hangs past its timeout (ignoring its ctx) neither shifts the schedule of the other paths nor
// hides its own ticks: once its slots are full, each tick counts as failed. Stop abandons it.
func TestWatchHangingProbeKeepsSchedule(t *testing.T) {
	t.Parallel()
	const interval, timeout = 20 * time.Millisecond, 60 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	var calls atomic.Int32
	hang := WatchPath{Name: "hang", Probe: func(context.Context) error {
		if calls.Add(1) == 1 {
			<-release // ignores its ctx
		}
		return nil
	}}
	var healthy atomic.Int32
	other := WatchPath{Name: "other", Probe: func(context.Context) error { healthy.Add(1); return nil }}

	w := StartWatch(t.Context(), []WatchPath{hang, other}, WatchOptions{Interval: interval, Timeout: timeout})
	time.Sleep(30 * interval)
	start := time.Now()
	r := w.Stop()
	if took := time.Since(start); took > timeout+50*time.Millisecond {
		t.Fatalf("Stop took %s with a hanging probe, want at most the probe timeout %s", took, timeout)
	}

	if got := r.Paths[1].Probes; got < 25 {
		t.Fatalf("the other path ran %d probes in 30 intervals", got)
	}
	h := r.Paths[0]
	if h.Probes < 25 || len(h.Outages) != 0 {
		t.Fatalf("hanging path: %d probes recorded, outages %+v; want every tick recorded and no outage (the "+
			"hanging probe never answered, the others did)", h.Probes, h.Outages)
	}

	// All slots hung: each tick is a failure.
	stuck := WatchPath{Name: "stuck", Probe: func(context.Context) error { <-release; return nil }}
	w = StartWatch(t.Context(), []WatchPath{stuck}, WatchOptions{Interval: interval, Timeout: timeout})
	time.Sleep(10 * interval)
	r = w.Stop()
	s := r.Paths[0]
	if len(s.Outages) != 1 || !s.Outages[0].Open {
		t.Fatalf("outages %+v, want one, open", s.Outages)
	}
	if want := "not probed: 4 probes still running past their 60ms timeout"; s.Outages[0].Error != want {
		t.Fatalf("outage error %q, want %q", s.Outages[0].Error, want)
	}
}

// The report's arithmetic on a fixed set of probes, given out of order.
func TestWatchReportOutages(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p := &watchedPath{path: WatchPath{Name: "ping/vm-1", Threshold: time.Second}}
	for _, r := range []probeRecord{
		{at: at(600), ok: true},
		{at: at(0), ok: true},
		{at: at(200), err: "first"}, // a single failed probe: down until the next probe, 200ms later
		{at: at(400), ok: true},
		{at: at(1000), err: "third"},
		{at: at(800), err: "second"},
		{at: at(1200), ok: true},
		{at: at(1400), err: "fourth"}, // still down at Stop
	} {
		p.records = append(p.records, r)
	}
	got := p.report(at(1500))

	want := []Outage{
		{Start: at(200), End: at(400), Duration: 200 * time.Millisecond, Error: "first"},
		{Start: at(800), End: at(1200), Duration: 400 * time.Millisecond, Error: "second"},
		{Start: at(1400), End: at(1500), Duration: 100 * time.Millisecond, Error: "fourth", Open: true},
	}
	if fmt.Sprint(got.Outages) != fmt.Sprint(want) {
		t.Fatalf("outages\n%+v\nwant\n%+v", got.Outages, want)
	}
	if got.Probes != 8 || got.Failed != 4 || got.Downtime != 700*time.Millisecond || got.LongestGap != 400*time.Millisecond {
		t.Fatalf("probes %d, failed %d, downtime %s, longest %s; want 8, 4, 700ms, 400ms",
			got.Probes, got.Failed, got.Downtime, got.LongestGap)
	}
	for i, s := range got.Samples {
		if s.At != at(200*i) {
			t.Fatalf("sample %d at %s, want in start order", i, s.At.Sub(t0))
		}
	}
}

// Stop is idempotent, and a watch whose ctx ends stops probing and ends then.
func TestWatchStopTwiceAndContextEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var calls atomic.Int32
	w := StartWatch(ctx, []WatchPath{{Name: "up", Probe: func(context.Context) error { calls.Add(1); return nil }}},
		WatchOptions{Interval: 10 * time.Millisecond})
	time.Sleep(50 * time.Millisecond)
	cancel()
	ended := time.Now()
	time.Sleep(50 * time.Millisecond)
	n := calls.Load()
	time.Sleep(30 * time.Millisecond)
	if calls.Load() != n {
		t.Fatal("probes went on after the watch's ctx ended")
	}
	r1, r2 := w.Stop(), w.Stop()
	if r1.Ended.After(ended.Add(20*time.Millisecond)) || r1.Ended.Before(r1.Started) {
		t.Fatalf("ended %s after the start, want when ctx ended (%s)", r1.Ended.Sub(r1.Started), ended.Sub(r1.Started))
	}
	if r1.Paths[0].Probes != r2.Paths[0].Probes || !r1.Ended.Equal(r2.Ended) || r1.Interval != 10*time.Millisecond {
		t.Fatalf("second Stop gave another report: %+v vs %+v", r1, r2)
	}
}

// A panicking probe is a failed probe, not a crash.
func TestWatchProbePanics(t *testing.T) {
	t.Parallel()
	w := StartWatch(t.Context(), []WatchPath{{Name: "boom", Probe: func(context.Context) error { panic("oops") }}},
		WatchOptions{Interval: 10 * time.Millisecond})
	time.Sleep(25 * time.Millisecond)
	r := w.Stop()
	if len(r.Paths[0].Outages) != 1 || r.Paths[0].Outages[0].Error != "probe panicked: oops" {
		t.Fatalf("outages %+v", r.Paths[0].Outages)
	}
}

func TestWatchExceeded(t *testing.T) {
	s := time.Second
	r := WatchReport{Paths: []PathReport{
		{Name: "http/vm-1", Downtime: 7200 * time.Millisecond, LongestGap: 7200 * time.Millisecond, Threshold: 5 * s,
			Outages: make([]Outage, 2)},
		{Name: "ping/vm-1", Downtime: 5 * s, LongestGap: 5 * s, Threshold: 5 * s, Outages: make([]Outage, 1)}, // at, not over
		{Name: "ssh/vm-1", Downtime: 9 * s, LongestGap: 9 * s, Outages: make([]Outage, 1)},                    // no threshold
		{Name: "metadata/vm-1", Downtime: 6000400 * time.Microsecond, LongestGap: 3200 * time.Millisecond,
			Threshold: 6 * s, Outages: make([]Outage, 1)},
		{Name: "east-west/vm-1→vm-2", Downtime: 0, Threshold: 5 * s},
	}}
	var got []string
	for _, err := range r.Exceeded() {
		got = append(got, err.Error())
	}
	want := []string{
		"http/vm-1: down 7.2s in total (threshold 5s; longest gap 7.2s, 2 outages)",
		"metadata/vm-1: down 6s in total (threshold 6s; longest gap 3.2s, 1 outage)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Exceeded:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if errs := (WatchReport{}).Exceeded(); errs != nil {
		t.Fatalf("empty report exceeded: %v", errs)
	}
}

// sampleReport is a small report with one open and one closed outage, and text that needs escaping.
func sampleReport() WatchReport {
	t0 := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	return WatchReport{Started: t0, Ended: at(3000), Interval: 200 * time.Millisecond, Paths: []PathReport{
		{Name: "http/vm-1", Probes: 15, Failed: 4, Downtime: 800 * time.Millisecond, LongestGap: 800 * time.Millisecond,
			Threshold: 5 * time.Second,
			Outages: []Outage{{Start: at(1000), End: at(1800), Duration: 800 * time.Millisecond,
				Error: `http GET http://172.24.4.10/?a=1&b=<2>: status 503, body "down"`}},
			Samples: []Sample{{At: at(0), OK: true, Latency: 1234 * time.Microsecond}, {At: at(1000), OK: false, Latency: time.Second}}},
		{Name: "east-west/vm-1→vm-2", Probes: 15, Failed: 1, Downtime: 200 * time.Millisecond, LongestGap: 200 * time.Millisecond,
			Outages: []Outage{{Start: at(2800), End: at(3000), Duration: 200 * time.Millisecond, Error: "exit status 1", Open: true}}},
	}}
}

// The paths' own verdicts and messages, on loopback.
func TestWatchPaths(t *testing.T) {
	t.Parallel()
	probe := func(p WatchPath) error {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		return p.Probe(ctx)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, c := range []struct {
		path WatchPath
		want string // "": up
	}{
		{HTTPPath("http/vm-1", "http://"+closed+"/"), "http GET http://" + closed + "/: connection refused"},
		{TCPPath("ssh/vm-1", closed), "connect to " + closed + ": connection refused"},
		{PingPath("ping/vm-1", "vm-1"), `ping "vm-1": not an IP address`},
	} {
		if err := probe(c.path); err == nil || err.Error() != c.want {
			t.Errorf("%s: err = %v, want %s", c.path.Name, err, c.want)
		}
	}
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer redirect.Close()
	if err := probe(HTTPPath("http/vm-1", redirect.URL)); err == nil || !strings.Contains(err.Error(), "status 302") {
		t.Errorf("a redirect is not up: err = %v", err)
	}
	if os.Geteuid() == 0 {
		if err := probe(PingPath("ping/lo", "127.0.0.1")); err != nil {
			t.Errorf("ping loopback: %v", err)
		}
	}
}

func TestWatchUp(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	w := StartWatch(t.Context(), []WatchPath{
		{Name: "a", Probe: func(context.Context) error { return nil }},
		{Name: "b", Probe: func(context.Context) error {
			if down.Load() {
				return errors.New("down")
			}
			return nil
		}},
	}, WatchOptions{Interval: 10 * time.Millisecond})
	defer w.Stop()
	time.Sleep(50 * time.Millisecond)
	if w.Up() {
		t.Fatal("Up while path b fails")
	}
	short, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := w.WaitUp(short); err == nil || !strings.Contains(err.Error(), "b: down") {
		t.Fatalf("WaitUp while b is down: %v, want an error naming b", err)
	}
	down.Store(false)
	ctx, cancel2 := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel2()
	if err := w.WaitUp(ctx); err != nil {
		t.Fatalf("WaitUp: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	rep := w.Stop()
	for _, p := range rep.Paths {
		if p.Failed != 0 || len(p.Outages) != 0 {
			t.Errorf("%s: %d failures, %v: the warm-up before WaitUp must not be in the report", p.Name, p.Failed, p.Outages)
		}
	}
}

// A sequential path is probed one at a time: ticks that come while a slow probe runs are skipped, not failed
// and not piled up.
func TestWatchSequentialSkipsTicks(t *testing.T) {
	var running, most atomic.Int32
	w := StartWatch(t.Context(), []WatchPath{{Name: "metadata/vm-1", Sequential: true, Probe: func(ctx context.Context) error {
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		time.Sleep(35 * time.Millisecond)
		return nil
	}}}, WatchOptions{Interval: 10 * time.Millisecond, Timeout: time.Second})
	time.Sleep(300 * time.Millisecond)
	rep := w.Stop()
	p := rep.Paths[0]
	if most.Load() != 1 {
		t.Errorf("%d probes ran at once, want 1", most.Load())
	}
	if p.Failed != 0 || len(p.Outages) != 0 {
		t.Errorf("%d failures, %v: a skipped tick is not a failure", p.Failed, p.Outages)
	}
	if p.Probes < 3 || p.Probes > 12 {
		t.Errorf("%d probes in 300ms of 35ms probes", p.Probes)
	}
}

// An inconclusive probe (the measuring channel failed) neither starts nor ends an outage, and is counted.
func TestWatchInconclusive(t *testing.T) {
	var n atomic.Int32
	w := StartWatch(t.Context(), []WatchPath{{Name: "east-west/vm-1→vm-2", Probe: func(context.Context) error {
		if n.Add(1)%2 == 0 {
			return Inconclusive(errors.New("ssh: no answer"))
		}
		return nil
	}}}, WatchOptions{Interval: 10 * time.Millisecond})
	time.Sleep(200 * time.Millisecond)
	p := w.Stop().Paths[0]
	if len(p.Outages) != 0 || p.Failed != 0 || p.Inconclusive == 0 {
		t.Fatalf("outages %v, %d failed, %d inconclusive: want none, 0, some", p.Outages, p.Failed, p.Inconclusive)
	}
}
