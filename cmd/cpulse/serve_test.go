package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

func TestServeUsage(t *testing.T) {
	_, stderr, code := runCLI(t, "serve")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: serve: give --config FILE\n", stderr)
	p := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(p, []byte("listen: 0.0.0.0:8787\nclouds: [a]\n"), 0o600))
	_, stderr, code = runCLI(t, "serve", "--config", p)
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: "+p+":1: listen 0.0.0.0:8787 is not loopback: set token_file (or listen on 127.0.0.1)\n", stderr)
}

// serveBinary builds cpulse and starts `cpulse serve` on a free loopback port
// with cfg (YAML; listen is added); it returns the base URL and the process.
func serveBinary(tb testing.TB, dir, cfg string) (string, *exec.Cmd) {
	tb.Helper()
	bin := filepath.Join(dir, "cpulse")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(tb, build.Run())
	clouds := filepath.Join(dir, "clouds.yaml")
	require.NoError(tb, os.WriteFile(clouds, []byte("clouds:\n  a:\n    auth:\n      auth_url: http://127.0.0.1:1/v3\n      username: u\n      password: p\n"), 0o600))
	p := filepath.Join(dir, "serve.yaml")
	require.NoError(tb, os.WriteFile(p, []byte("listen: 127.0.0.1:0\n"+cfg), 0o600))
	cmd := exec.Command(bin, "serve", "--config", p)
	cmd.Env = append(os.Environ(), "OS_CLIENT_CONFIG_FILE="+clouds)
	out, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = io.Discard
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(tb, err)
	url := strings.TrimSpace(strings.TrimPrefix(line, "cpulse serve: listening on "))
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return url, cmd
}

func vmRSS(tb testing.TB, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(tb, err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			require.NoError(tb, err)
			return kb / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

func p99(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)*99/100]
}

// BenchmarkServe measures the real `cpulse serve`: its idle RSS 5 s after
// start, and the p99 of GET /cpulse/result and of the history listing with
// 10 000 stored runs.
//
//	go test -run '^$' -bench Serve -benchtime 1x ./cmd/cpulse/
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	hist := filepath.Join(dir, "history.db")
	st, err := store.Open(context.Background(), hist)
	require.NoError(b, err)
	var handles []string
	t0 := time.Now().Add(-24 * time.Hour)
	for i := range 10000 {
		r := store.Run{Handle: fmt.Sprintf("%016x", i+1), Cloud: "a", Type: []string{"endpoint", "operator", "functional"}[i%3],
			State: []string{"passed", "failed"}[i%7/6], Trigger: "schedule", Queued: t0.Add(time.Duration(i) * 8 * time.Second),
			Passed: []string{"keystone", "nova", "neutron"}, Checks: []store.Check{{Name: "keystone", Status: "ok", Seconds: 0.1}}}
		r.Started, r.Finished = r.Queued, r.Queued.Add(2*time.Second)
		if r.State == "failed" {
			r.Failed = []store.Failure{{Name: "cinder", Details: "HTTP 503"}}
		}
		require.NoError(b, st.Create(context.Background(), &r))
		handles = append(handles, r.Handle)
	}
	require.NoError(b, st.Close())
	url, cmd := serveBinary(b, dir, "insecure_no_token: true\nclouds: [a]\nhistory: {path: "+hist+"}\nintervals: {endpoint: 0, operator: 0}\n")
	time.Sleep(5 * time.Second)
	rss := vmRSS(b, cmd.Process.Pid)

	get := func(path string) time.Duration {
		start := time.Now()
		resp, err := http.Get(url + path)
		require.NoError(b, err)
		var v map[string]any
		require.NoError(b, json.NewDecoder(resp.Body).Decode(&v))
		resp.Body.Close()
		require.Equal(b, 200, resp.StatusCode, "%s: %v", path, v)
		return time.Since(start)
	}
	b.ResetTimer()
	var one, list []time.Duration
	for range b.N {
		for i := range 1000 {
			one = append(one, get("/cpulse/result?handle="+handles[(i*7919)%len(handles)]))
		}
		for i := range 200 {
			list = append(list, get([]string{"/cpulse/results?limit=50", "/cpulse/results?failed=true&since=1h", "/cpulse/results?type=functional&limit=50"}[i%3]))
		}
	}
	b.StopTimer()

	// 200 concurrent POSTs against the real store: every one answered with a
	// handle; those for a type in flight join its run.
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]bool{}
	codes := map[int]int{}
	types := []string{"endpoint", "operator", "functional", "comprehensive", "all"}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url+"/cpulse/check", "application/json", strings.NewReader(`{"type":"`+types[i%len(types)]+`"}`))
			if err != nil {
				b.Error(err)
				return
			}
			var v struct{ Handle string }
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			codes[resp.StatusCode]++
			if v.Handle != "" {
				got[v.Handle] = true
			}
		}()
	}
	wg.Wait()
	require.Equal(b, map[int]int{202: 200}, codes)
	for h := range got {
		resp, err := http.Get(url + "/cpulse/result?handle=" + h)
		require.NoError(b, err)
		resp.Body.Close()
		require.Equal(b, 200, resp.StatusCode, "handle %s lost", h)
	}
	b.ReportMetric(float64(len(got)), "runs-from-200-POSTs")
	b.ReportMetric(rss, "idle-RSS-MiB")
	b.ReportMetric(float64(p99(one).Microseconds())/1000, "result-p99-ms")
	b.ReportMetric(float64(p99(list).Microseconds())/1000, "results-p99-ms")
	b.ReportMetric(0, "ns/op")
}
