package service_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(service.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

// Every route of the mux is in the document, and every operation of the document is a route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	var inDoc, inMux []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc = append(inDoc, method+" "+path)
		}
	}
	for _, r := range service.Routes {
		inMux = append(inMux, r.Method+" "+r.Path)
	}
	slices.Sort(inDoc)
	slices.Sort(inMux)
	assert.Equal(t, inMux, inDoc)
}

// Real responses of every handler — successes and errors — match the document.
func TestOpenAPIResponsesMatchHandlers(t *testing.T) {
	doc := loadDoc(t)
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	web := newLoopbackWeb(t) // a snapshot is watched: its result has watching, the upgrade run's has watch
	e, fu := newUpgradeEnv(t, watchOptions(web))
	e.runner.fail["operator"] = true
	e.runner.open("operator")

	type call struct{ method, path, body, auth string }
	validate := func(c call) (int, []byte) {
		t.Helper()
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.auth != "none" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.svc.Handler().ServeHTTP(rec, req)
		route, params, err := router.FindRoute(req)
		require.NoError(t, err, "%s %s", c.method, c.path)
		in := &openapi3filter.RequestValidationInput{Request: httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)), PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		in.Request.Header = req.Header
		if rec.Code < 400 {
			require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in), "request %s %s", c.method, c.path)
		}
		body := rec.Body.Bytes()
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s → %d %s", c.method, c.path, rec.Code, body)
		return rec.Code, body
	}
	validate(call{"GET", "/healthz", "", ""})
	validate(call{"GET", "/openapi.json", "", ""})
	code, body := validate(call{"POST", "/cpulse/check", `{"type":"operator"}`, ""})
	require.Equal(t, 202, code)
	handle := string(body[strings.Index(string(body), `"handle":"`)+10:][:16])
	validate(call{"POST", "/cpulse/check", `{"type":"operator"}`, ""}) // joined, or a new one
	validate(call{"POST", "/cpulse/check", `{"type":"functional"}`, ""})
	validate(call{"POST", "/cpulse/check", `{"type":"comprehensive"}`, ""}) // queued
	e.waitState(t, handle, "failed")
	validate(call{"GET", "/cpulse/result?handle=" + handle, "", ""})
	validate(call{"GET", "/cpulse/results", "", ""})
	validate(call{"GET", "/cpulse/results?type=functional&failed=false&since=1h&limit=2", "", ""})
	code, _ = validate(call{"DELETE", "/cpulse/check/" + handle, "", ""})
	require.Equal(t, 202, code)
	// the upgrade gate: a snapshot, a check of type upgrade on it, DELETE runs finish, then it is finished
	code, body = validate(call{"POST", "/cpulse/snapshot", `{"create":false,"resources":{"vm":["web"]}}`, ""})
	require.Equal(t, 202, code)
	snap := string(body[strings.Index(string(body), `"handle":"`)+10:][:16])
	e.waitState(t, snap, "passed")
	_, body = validate(call{"GET", "/cpulse/result?handle=" + snap, "", ""})
	assert.Contains(t, string(body), `"watching":{"since":"`)
	time.Sleep(100 * time.Millisecond)
	code, body = validate(call{"POST", "/cpulse/check", `{"type":"upgrade","snapshot":"` + snap + `","destroy":false,"functional":false}`, ""})
	require.Equal(t, 202, code)
	up := string(body[strings.Index(string(body), `"handle":"`)+10:][:16])
	e.waitState(t, up, "passed")
	_, body = validate(call{"GET", "/cpulse/result?handle=" + up, "", ""})
	assert.Contains(t, string(body), `"watch":{"from":"`)
	validate(call{"GET", "/cpulse/results?type=upgrade", "", ""})
	require.Eventually(t, func() bool { return len(fu.callList()) == 2 }, 5*time.Second, 5*time.Millisecond)
	code, body = validate(call{"DELETE", "/cpulse/check/" + snap, "", ""})
	require.Equal(t, 202, code, "%s", body)
	require.Eventually(t, func() bool { return len(fu.callList()) == 3 }, 5*time.Second, 5*time.Millisecond)
	e.waitState(t, string(body[strings.Index(string(body), `"finish":"`)+10:][:16]), "passed")
	code, _ = validate(call{"DELETE", "/cpulse/check/" + snap, "", ""}) // finished
	require.Equal(t, 202, code)
	code, _ = validate(call{"POST", "/cpulse/check", `{"type":"upgrade","snapshot":"` + snap + `"}`, ""})
	require.Equal(t, 409, code)
	for _, c := range []call{
		{"POST", "/cpulse/snapshot", `{"resources":{"vm":["a","a"]}}`, ""},
		{"POST", "/cpulse/check", `{"type":"upgrade","snapshot":"ffffffffffffffff"}`, ""},
		{"POST", "/cpulse/check", `{"type":`, ""},
		{"POST", "/cpulse/check", `{"type":"endpoint"}`, "none"},
		{"GET", "/cpulse/result?handle=ffffffffffffffff", "", ""},
		{"GET", "/cpulse/results?limit=0", "", ""},
		{"DELETE", "/cpulse/check/ffffffffffffffff", "", ""},
		{"GET", "/healthz", "", "none"},
	} {
		code, _ := validate(c)
		assert.GreaterOrEqual(t, code, 400)
	}
	e.runner.open("functional")
	e.runner.open("comprehensive")
	_, list := e.do(t, "GET", "/cpulse/results", "")
	for _, r := range list["results"].([]any) {
		validate(call{"GET", "/cpulse/result?handle=" + r.(map[string]any)["handle"].(string), "", ""})
	}
}
