package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
	"github.com/cloudpulse/cloudpulse/helpers/apiclient/apitest"
)

func newFake(t *testing.T, token string) (*apitest.Server, *apiclient.Client) {
	t.Helper()
	fake := &apitest.Server{Token: token}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(srv.URL+"/", token)
	require.NoError(t, err)
	return fake, c
}

func TestNewRejectsBadServers(t *testing.T) {
	for server, want := range map[string]string{
		"127.0.0.1:8787":             `server "127.0.0.1:8787": want a URL such as http://127.0.0.1:8787`,
		"ftp://x":                    `server "ftp://x": want a URL such as http://127.0.0.1:8787`,
		"http://u:secret@host:8787/": `server "http://u:xxxxx@host:8787": give the token with --token-file, $CPULSE_TOKEN or ~/.cpulserc, not in the URL`,
	} {
		_, err := apiclient.New(server, "")
		assert.EqualError(t, err, want, server)
	}
}

func TestCheckResultCancelSnapshotHealth(t *testing.T) {
	ctx := context.Background()
	fake, c := newFake(t, "s3cret")
	require.NoError(t, c.Health(ctx))

	a, err := c.Check(ctx, apiclient.CheckRequest{Type: "functional", Cloud: "lab-member"})
	require.NoError(t, err)
	assert.Equal(t, apiclient.Accepted{Handle: a.Handle, Type: "functional", Cloud: "lab-member", State: "queued"}, *a)
	assert.Len(t, a.Handle, 16)

	// the same type and cloud while queued: joined, same handle
	b, err := c.Check(ctx, apiclient.CheckRequest{Type: "functional", Cloud: "lab-member"})
	require.NoError(t, err)
	assert.True(t, b.Joined)
	assert.Equal(t, a.Handle, b.Handle)

	r, err := c.Result(ctx, a.Handle)
	require.NoError(t, err)
	assert.Equal(t, "queued", r.State)
	assert.Equal(t, "functional", r.Type)

	cn, err := c.Cancel(ctx, a.Handle)
	require.NoError(t, err)
	assert.Equal(t, apiclient.Cancellation{Handle: a.Handle, State: "cancelling"}, *cn)

	res := json.RawMessage(`{"vm":["web"]}`)
	s, err := c.Snapshot(ctx, apiclient.SnapshotRequest{Create: true, Cloud: "lab-admin", Resources: res})
	require.NoError(t, err)
	assert.NotEmpty(t, s.Handle)
	assert.JSONEq(t, string(res), string(s.Resources))
	assert.Equal(t, []string{
		`{"type":"functional","cloud":"lab-member"}`,
		`{"type":"functional","cloud":"lab-member"}`,
		`{"create":true,"cloud":"lab-admin","resources":{"vm":["web"]}}`,
	}, fake.Bodies)
	assert.Equal(t, []string{"GET /healthz", "POST /cpulse/check", "POST /cpulse/check", "GET /cpulse/result?handle=" + a.Handle,
		"DELETE /cpulse/check/" + a.Handle, "POST /cpulse/snapshot"}, fake.Log())
}

func TestErrorsCarryTheServersMessageAndStatus(t *testing.T) {
	ctx := context.Background()
	_, c := newFake(t, "s3cret")

	_, err := c.Result(ctx, "nope")
	assert.EqualError(t, err, `GET /cpulse/result: 404 Not Found: unknown handle "nope"`)
	assert.True(t, apiclient.IsNotFound(err))
	var e *apiclient.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 404, e.Status)
	assert.Equal(t, `unknown handle "nope"`, e.Message)

	_, err = c.Check(ctx, apiclient.CheckRequest{Type: "everything"})
	assert.EqualError(t, err, `POST /cpulse/check: 400 Bad Request: unknown type "everything": want operator, endpoint, functional, comprehensive, upgrade or all`)
	assert.False(t, apiclient.IsNotFound(err))

	wrong, err := apiclient.New(c.Server(), "wrong")
	require.NoError(t, err)
	_, err = wrong.Check(ctx, apiclient.CheckRequest{Type: "endpoint"})
	assert.EqualError(t, err, "POST /cpulse/check: 401 Unauthorized: missing or wrong token: send Authorization: Bearer TOKEN")

	// a body that is not JSON: its first line
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream connect error\nmore", http.StatusBadGateway)
	}))
	defer plain.Close()
	pc, err := apiclient.New(plain.URL, "")
	require.NoError(t, err)
	_, err = pc.Result(ctx, "h")
	assert.EqualError(t, err, "GET /cpulse/result: 502 Bad Gateway: upstream connect error")

	// a 2xx that is not the JSON expected
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>hi</html>")) }))
	defer bad.Close()
	bc, err := apiclient.New(bad.URL, "")
	require.NoError(t, err)
	_, err = bc.Result(ctx, "h")
	assert.EqualError(t, err, "GET /cpulse/result: the answer is not the JSON expected (invalid character '<' looking for beginning of value): <html>hi</html>")
	_, err = bc.Check(ctx, apiclient.CheckRequest{Type: "endpoint"})
	assert.ErrorContains(t, err, "POST /cpulse/check: the answer is not the JSON expected")
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := apiclient.New(srv.URL, "")
	require.NoError(t, err)
	c.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err = c.Result(context.Background(), "h")
	assert.EqualError(t, err, "GET /cpulse/result: no answer from "+strings.TrimPrefix(srv.URL, "http://")+" within 100ms")
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestResultsFollowsCursors(t *testing.T) {
	ctx := context.Background()
	fake, c := newFake(t, "")
	now := time.Now().UTC()
	for i, state := range []string{"passed", "failed", "passed", "failed", "passed"} {
		fake.Add(apiclient.Result{Handle: string(rune('a'+i)) + "000000000000000", Type: "endpoint", Cloud: "lab-member", State: state, Timestamp: now.Add(time.Duration(i-10) * time.Minute)})
	}
	fake.Add(apiclient.Result{Handle: "old0000000000000", Type: "endpoint", State: "failed", Timestamp: now.Add(-3 * time.Hour)})

	p, err := c.ResultsPage(ctx, apiclient.Query{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, "2", p.Next)
	require.Len(t, p.Results, 2)
	assert.Equal(t, "old0000000000000", p.Results[0].Handle)

	var handles []string
	for r, err := range c.Results(ctx, apiclient.Query{Failed: true, Since: time.Hour, Type: "endpoint", Limit: 2}) {
		require.NoError(t, err)
		handles = append(handles, r.Handle)
	}
	assert.Equal(t, []string{"d000000000000000", "b000000000000000"}, handles)
	log := fake.Log()
	assert.Equal(t, "GET /cpulse/results?failed=true&limit=2&since=1h0m0s&type=endpoint", log[1])
	assert.Contains(t, log[len(log)-1], "cursor=")

	// stopping early reads no more pages
	before := len(fake.Log())
	for range c.Results(ctx, apiclient.Query{Limit: 1}) {
		break
	}
	assert.Len(t, fake.Log(), before+1)
}

func TestResultsStopsOnARepeatedCursor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"results": [{"handle": "x"}], "next": "same"}`))
	}))
	defer srv.Close()
	c, err := apiclient.New(srv.URL, "")
	require.NoError(t, err)
	var n int
	var last error
	for _, err := range c.Results(context.Background(), apiclient.Query{}) {
		n++
		last = err
	}
	assert.Equal(t, 3, n)
	assert.EqualError(t, last, `GET /cpulse/results: cursor "same" came back twice`)
}

func TestWaitFollowsTheRunToAFinalState(t *testing.T) {
	ctx := context.Background()
	fake, c := newFake(t, "tok")
	fake.Progress = func(r *apiclient.Result) {
		switch r.State {
		case "queued":
			r.State = "running"
		case "running":
			r.State, r.TestsPassed = "passed", []string{"functional"}
		}
	}
	a, err := c.Check(ctx, apiclient.CheckRequest{Type: "functional"})
	require.NoError(t, err)
	var states []string
	r, err := c.Wait(ctx, a.Handle, time.Millisecond, func(r *apiclient.Result) { states = append(states, r.State) })
	require.NoError(t, err)
	assert.Equal(t, "passed", r.State)
	assert.Equal(t, []string{"running", "passed"}, states)

	_, err = c.Wait(ctx, "unknown", time.Millisecond, nil)
	assert.EqualError(t, err, `GET /cpulse/result: 404 Not Found: unknown handle "unknown"`)
}

// The service restarting (503, then connection refused) does not end a wait;
// the caller's deadline does, naming the last error.
func TestWaitRetriesTransientErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch calls.Add(1) {
		case 1, 2:
			http.Error(w, `{"error": "shutting down"}`, http.StatusServiceUnavailable)
		case 3:
			w.Write([]byte(`{"handle": "h", "state": "running"}`))
		default:
			w.Write([]byte(`{"handle": "h", "state": "failed", "tests_failed": [{"functional/ping": "100% loss"}]}`))
		}
	}))
	defer srv.Close()
	c, err := apiclient.New(srv.URL, "")
	require.NoError(t, err)
	r, err := c.Wait(context.Background(), "h", time.Millisecond, nil)
	require.NoError(t, err)
	assert.Equal(t, "failed", r.State)
	assert.Equal(t, []map[string]string{{"functional/ping": "100% loss"}}, r.TestsFailed)

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	dc, err := apiclient.New(down.URL, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = dc.Wait(ctx, "h", 5*time.Millisecond, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.Contains(t, err.Error(), "wait for h: context deadline exceeded (last: GET /cpulse/result: ")
	assert.Contains(t, err.Error(), "connection refused")
}

func TestBasicAuthIsAcceptedByTheFake(t *testing.T) {
	fake := &apitest.Server{Token: "tok"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/cpulse/results", nil)
	req.SetBasicAuth("anyone", "tok")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}
