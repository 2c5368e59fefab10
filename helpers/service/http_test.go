package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

const token = "s3cret-token"

type env struct {
	svc    *service.Service
	srv    *httptest.Server
	store  *memStore
	runner *fakeRunner
}

func newEnv(t *testing.T, o service.Options) *env {
	t.Helper()
	if o.Clouds == nil {
		o.Clouds = []string{"lab-member"}
	}
	if o.Token == "" {
		o.Token = token
	}
	e := &env{store: &memStore{}, runner: newFakeRunner()}
	e.svc = service.New(o, e.store, e.runner.Run)
	e.srv = httptest.NewServer(e.svc.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		// let every run end
		for _, typ := range service.Types {
			func() {
				defer func() { _ = recover() }() // already open
				e.runner.open(typ)
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, e.svc.Shutdown(ctx))
	})
	return e
}

// do sends a request with the token (auth "" : none) and decodes the JSON answer.
func (e *env) do(t *testing.T, method, path, body string, auth ...string) (int, map[string]any) {
	t.Helper()
	code, b := e.raw(t, method, path, body, auth...)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "%s %s: %s", method, path, b)
	return code, v
}

func (e *env) raw(t *testing.T, method, path, body string, auth ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	a := "Bearer " + token
	if len(auth) > 0 {
		a = auth[0]
	}
	if a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, path)
	}
	return resp.StatusCode, b
}

// Every bad request gets a 4xx with a one-line JSON error, and nothing starts.
func TestBadRequestsGet4xxAndStartNothing(t *testing.T) {
	e := newEnv(t, service.Options{Clouds: []string{"a", "b"}, MaxBody: 64})
	for name, tc := range map[string]struct {
		method, path, body, auth string
		code                     int
		want                     string
	}{
		"no token":          {"POST", "/cpulse/check", `{"type":"functional","cloud":"a"}`, "", 401, "missing or bad token: send Authorization: Bearer TOKEN (or basic auth with the token as password)"},
		"bad token":         {"POST", "/cpulse/check", `{"type":"functional","cloud":"a"}`, "Bearer nope", 401, "missing or bad token: send Authorization: Bearer TOKEN (or basic auth with the token as password)"},
		"bad basic":         {"DELETE", "/cpulse/check/0123456789abcdef", ``, "Basic dXNlcjpub3Bl", 401, "missing or bad token: send Authorization: Bearer TOKEN (or basic auth with the token as password)"},
		"read no token":     {"GET", "/cpulse/results", ``, "", 401, "missing or bad token: send Authorization: Bearer TOKEN (or basic auth with the token as password)"},
		"unknown type":      {"POST", "/cpulse/check", `{"type":"everything","cloud":"a"}`, "-", 400, `type "everything": use one of operator, endpoint, functional, comprehensive, upgrade, all`},
		"no type":           {"POST", "/cpulse/check", `{"cloud":"a"}`, "-", 400, `type "": use one of operator, endpoint, functional, comprehensive, upgrade, all`},
		"unknown cloud":     {"POST", "/cpulse/check", `{"type":"endpoint","cloud":"c"}`, "-", 400, `cloud "c" is not configured: use one of a, b`},
		"which cloud":       {"POST", "/cpulse/check", `{"type":"endpoint"}`, "-", 400, `cloud: name one of a, b`},
		"malformed":         {"POST", "/cpulse/check", `{"type":`, "-", 400, `malformed JSON: unexpected EOF`},
		"empty body":        {"POST", "/cpulse/check", ``, "-", 400, `malformed JSON: empty body`},
		"unknown field":     {"POST", "/cpulse/check", `{"type":"endpoint","colud":"a"}`, "-", 400, `malformed JSON: json: unknown field "colud"`},
		"two values":        {"POST", "/cpulse/check", `{"type":"endpoint","cloud":"a"} {}`, "-", 400, `malformed JSON: more than one JSON value`},
		"oversize":          {"POST", "/cpulse/check", `{"type":"endpoint","cloud":"a","x":"` + strings.Repeat("x", 100) + `"}`, "-", 413, `request body over 64 bytes`},
		"upgrade":           {"POST", "/cpulse/check", `{"type":"upgrade","cloud":"a"}`, "-", 400, `snapshot: a check of type upgrade verifies a snapshot: give "snapshot": the handle POST /cpulse/snapshot answered`},
		"upgrade, no gate":  {"POST", "/cpulse/check", `{"type":"upgrade","snapshot":"0123456789abcdef"}`, "-", 501, `this service runs no upgrade gate (no snapshot directory configured)`},
		"snapshot, no gate": {"POST", "/cpulse/snapshot", `{"create":false}`, "-", 501, `this service runs no upgrade gate (no snapshot directory configured)`},
		"stray handle":      {"POST", "/cpulse/check", `{"type":"endpoint","cloud":"a","handle":"x"}`, "-", 400, `handle: only a check of type upgrade takes one, not "endpoint"`},
		"no handle":         {"GET", "/cpulse/result", ``, "-", 400, `handle: give ?handle=H (from POST /cpulse/check)`},
		"unknown handle":    {"GET", "/cpulse/result?handle=0123456789abcdef", ``, "-", 404, `no run with handle "0123456789abcdef"`},
		"cancel unknown":    {"DELETE", "/cpulse/check/0123456789abcdef", ``, "-", 404, `no run with handle "0123456789abcdef"`},
		"bad filter type":   {"GET", "/cpulse/results?type=x", ``, "-", 400, `type "x": use one of operator, endpoint, functional, comprehensive, upgrade, all, snapshot, finish`},
		"bad failed":        {"GET", "/cpulse/results?failed=maybe", ``, "-", 400, `failed="maybe": use true or false`},
		"bad since":         {"GET", "/cpulse/results?since=yesterday", ``, "-", 400, `since="yesterday": use a duration such as 1h or an RFC 3339 time`},
		"bad limit":         {"GET", "/cpulse/results?limit=0", ``, "-", 400, `limit="0": use a number from 1 to 500`},
		"no route":          {"GET", "/cpulse/nothing", ``, "-", 404, `no route GET /cpulse/nothing (see /openapi.json)`},
		"wrong method":      {"PUT", "/cpulse/check", `{}`, "-", 404, `no route PUT /cpulse/check (see /openapi.json)`},
	} {
		t.Run(name, func(t *testing.T) {
			auth := tc.auth
			if auth == "-" {
				auth = "Bearer " + token
			}
			code, v := e.do(t, tc.method, tc.path, tc.body, auth)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, map[string]any{"error": tc.want}, v)
		})
	}
	assert.Empty(t, e.runner.startedList(), "nothing ran")
	assert.Zero(t, e.store.count(), "nothing recorded")
}

func TestAuthBearerBasicAndOpenReads(t *testing.T) {
	e := newEnv(t, service.Options{OpenReads: []string{"healthz"}})
	code, v := e.do(t, "GET", "/healthz", "", "")
	assert.Equal(t, 200, code, "healthz opened")
	assert.Equal(t, map[string]any{"status": "ok"}, v)
	code, _ = e.do(t, "GET", "/cpulse/results", "", "")
	assert.Equal(t, 401, code, "results not opened")
	code, _ = e.do(t, "GET", "/cpulse/results", "", "Basic dXNlcjpzM2NyZXQtdG9rZW4=") // user:s3cret-token
	assert.Equal(t, 200, code, "basic auth with the token as password")
	code, _ = e.do(t, "GET", "/cpulse/results", "", "bearer "+token)
	assert.Equal(t, 200, code, "scheme is case-insensitive")
	code, _ = e.raw(t, "GET", "/openapi.json", "", "")
	assert.Equal(t, 401, code)

	e2 := newEnv(t, service.Options{OpenReads: []string{"api"}})
	code, _ = e2.do(t, "GET", "/cpulse/results", "", "")
	assert.Equal(t, 200, code, "api opens the reads")
	code, _ = e2.raw(t, "GET", "/openapi.json", "", "")
	assert.Equal(t, 200, code)
	code, _ = e2.do(t, "POST", "/cpulse/check", `{"type":"endpoint"}`, "")
	assert.Equal(t, 401, code, "writes never open")
}

// waitState polls the result until the run is in state.
func (e *env) waitState(t *testing.T, handle, state string) map[string]any {
	t.Helper()
	var v map[string]any
	require.Eventually(t, func() bool {
		_, v = e.do(t, "GET", "/cpulse/result?handle="+handle, "")
		return v["state"] == state
	}, 5*time.Second, 5*time.Millisecond, "run %s never %s: %v", handle, state, v)
	return v
}

func TestJoinQueueAndOverlap(t *testing.T) {
	e := newEnv(t, service.Options{})
	code, fn := e.do(t, "POST", "/cpulse/check", `{"type":"functional"}`)
	require.Equal(t, 202, code)
	assert.Equal(t, false, fn["joined"])
	assert.Equal(t, "lab-member", fn["cloud"], "the one configured cloud is the default")
	h := fn["handle"].(string)
	assert.Regexp(t, `^[0-9a-f]{16}$`, h)
	e.waitState(t, h, "running")

	_, again := e.do(t, "POST", "/cpulse/check", `{"type":"functional","cloud":"lab-member"}`)
	assert.Equal(t, map[string]any{"handle": h, "type": "functional", "cloud": "lab-member", "state": "running", "joined": true}, again)

	// a second scenario on the same cloud waits, visibly
	_, comp := e.do(t, "POST", "/cpulse/check", `{"type":"comprehensive"}`)
	assert.Equal(t, "queued", comp["state"])
	// endpoint and operator overlap with it
	_, ep := e.do(t, "POST", "/cpulse/check", `{"type":"endpoint"}`)
	e.waitState(t, ep["handle"].(string), "running")
	_, op := e.do(t, "POST", "/cpulse/check", `{"type":"operator"}`)
	e.waitState(t, op["handle"].(string), "running")
	time.Sleep(50 * time.Millisecond)
	q := e.waitState(t, comp["handle"].(string), "queued")
	assert.Nil(t, q["started"])
	_, joinedQ := e.do(t, "POST", "/cpulse/check", `{"type":"comprehensive"}`)
	assert.Equal(t, comp["handle"], joinedQ["handle"], "a queued run is joined too")
	assert.Equal(t, true, joinedQ["joined"])

	// the queued run is listed as queued in the history
	_, list := e.do(t, "GET", "/cpulse/results?type=comprehensive", "")
	assert.Equal(t, "queued", list["results"].([]any)[0].(map[string]any)["state"])

	e.runner.open("functional")
	done := e.waitState(t, h, "passed")
	assert.Equal(t, []any{"functional-first", "functional-second"}, done["tests_passed"])
	assert.Equal(t, []any{"cp12021200-0000abcd"}, done["run_ids"])
	assert.Equal(t, []any{map[string]any{"name": "apply", "seconds": 12.5}}, done["steps"])
	assert.Equal(t, map[string]any{"name": "functional-skipped", "status": "skip", "seconds": 0.0, "error": "not here"}, done["checks"].([]any)[2])
	e.waitState(t, comp["handle"].(string), "running")
	assert.EqualValues(t, 1, e.runner.maxRun.Load(), "never two scenarios on one cloud at once")

	// after the end a new request makes a new run
	_, fresh := e.do(t, "POST", "/cpulse/check", `{"type":"functional"}`)
	assert.NotEqual(t, h, fresh["handle"])
	assert.Equal(t, false, fresh["joined"])
}

func TestFailedRunInHistory(t *testing.T) {
	e := newEnv(t, service.Options{})
	e.runner.fail["operator"] = true
	e.runner.open("operator")
	e.runner.open("endpoint")
	_, op := e.do(t, "POST", "/cpulse/check", `{"type":"operator"}`)
	r := e.waitState(t, op["handle"].(string), "failed")
	assert.Equal(t, []any{map[string]any{"operator-second": "router: HTTP 503\nmore"}}, r["tests_failed"])
	_, ep := e.do(t, "POST", "/cpulse/check", `{"type":"endpoint"}`)
	e.waitState(t, ep["handle"].(string), "passed")
	_, list := e.do(t, "GET", "/cpulse/results?failed=true&since=1h", "")
	res := list["results"].([]any)
	require.Len(t, res, 1)
	assert.Equal(t, op["handle"], res[0].(map[string]any)["handle"])
	_, all := e.do(t, "GET", "/cpulse/results?limit=1", "")
	assert.Len(t, all["results"], 1)
	assert.Equal(t, "1", all["next"])
	_, page2 := e.do(t, "GET", "/cpulse/results?limit=1&cursor=1", "")
	assert.Equal(t, op["handle"], page2["results"].([]any)[0].(map[string]any)["handle"])
}

func TestCancelRunningAndQueued(t *testing.T) {
	e := newEnv(t, service.Options{})
	_, fn := e.do(t, "POST", "/cpulse/check", `{"type":"functional"}`)
	h := fn["handle"].(string)
	e.waitState(t, h, "running")
	_, comp := e.do(t, "POST", "/cpulse/check", `{"type":"comprehensive"}`)
	ch := comp["handle"].(string)

	code, v := e.do(t, "DELETE", "/cpulse/check/"+ch, "")
	assert.Equal(t, 202, code)
	assert.Equal(t, map[string]any{"handle": ch, "state": "cancelling"}, v)
	r := e.waitState(t, ch, "cancelled")
	assert.Equal(t, "cancelled by request", r["error"])

	code, v = e.do(t, "DELETE", "/cpulse/check/"+h, "")
	assert.Equal(t, 202, code)
	assert.Equal(t, "cancelling", v["state"])
	e.waitState(t, h, "cancelled")
	assert.Equal(t, []string{"functional/lab-member"}, e.runner.destroyedList(), "the running scenario destroyed; the queued one never started")
	assert.Equal(t, []string{"functional/lab-member"}, e.runner.startedList())

	_, v = e.do(t, "DELETE", "/cpulse/check/"+h, "")
	assert.Equal(t, map[string]any{"handle": h, "state": "cancelled"}, v, "a finished run answers its final state")
}
