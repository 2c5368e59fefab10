package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// Route is one route of the API: the OpenAPI document has exactly these.
type Route struct {
	Method, Path string
	Open         string // the open_reads name that opens it without a token ("" : never open)
	handler      func(*Service, http.ResponseWriter, *http.Request)
}

// Routes are the API's routes (the test compares them with the OpenAPI document).
var Routes = []Route{
	{"POST", "/cpulse/check", "", (*Service).postCheck},
	{"POST", "/cpulse/snapshot", "", (*Service).postSnapshot},
	{"GET", "/cpulse/result", "api", (*Service).getResult},
	{"GET", "/cpulse/results", "api", (*Service).getResults},
	{"DELETE", "/cpulse/check/{handle}", "", (*Service).deleteCheck},
	{"GET", "/healthz", "healthz", (*Service).healthz},
	{"GET", "/openapi.json", "openapi", (*Service).openapi},
}

// Handler serves the API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes {
		h := rt.handler
		mux.HandleFunc(rt.Method+" "+rt.Path, s.guard(rt.Open, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) }))
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s (see /openapi.json)", r.Method, r.URL.Path))
	}
	mux.HandleFunc("/cpulse/", notFound)
	if s.o.Metrics != nil {
		mux.HandleFunc("GET /metrics", s.guard("metrics", s.o.Metrics.Handler().ServeHTTP))
	}
	if s.o.StatusPage {
		page := status.Handler(s.store, status.Options{Clouds: s.o.Clouds, Families: s.scheduled(), Log: s.log})
		mux.HandleFunc("/", s.guard("status", page.ServeHTTP))
	} else {
		mux.HandleFunc("/", notFound)
	}
	return mux
}

// scheduled are the families with an interval, in Types' order.
func (s *Service) scheduled() []string {
	var out []string
	for _, t := range Types {
		if s.o.Intervals[t] > 0 && t != TypeUpgrade {
			out = append(out, t)
		}
	}
	return out
}

type checkRequest struct {
	Type  string `json:"type"`
	Cloud string `json:"cloud"`
	// type upgrade: the snapshot's handle ("handle" is API12.md's name for it),
	// and what verify does besides its checks
	Snapshot   string `json:"snapshot"`
	Handle     string `json:"handle"`
	Functional *bool  `json:"functional"`
	Destroy    *bool  `json:"destroy"`
}

// decodeBody reads one JSON object of at most MaxBody bytes; unknown fields are refused.
func (s *Service) decodeBody(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, terr := io.Copy(io.Discard, r.Body); terr != nil {
			err = terr
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("request body over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, errors.New("malformed JSON: empty body")
	case err != nil:
		return http.StatusBadRequest, fmt.Errorf("malformed JSON: %v", err)
	}
	return 0, nil
}

// cloudOf resolves a request's cloud: the one configured when it names none.
func (s *Service) cloudOf(name string) (string, error) {
	if name == "" {
		if len(s.o.Clouds) == 1 {
			return s.o.Clouds[0], nil
		}
		return "", fmt.Errorf("cloud: name one of %s", strings.Join(s.o.Clouds, ", "))
	}
	if !slices.Contains(s.o.Clouds, name) {
		return "", fmt.Errorf("cloud %q is not configured: use one of %s", name, strings.Join(s.o.Clouds, ", "))
	}
	return name, nil
}

func (s *Service) postCheck(w http.ResponseWriter, r *http.Request) {
	var req checkRequest
	if code, err := s.decodeBody(w, r, &req); err != nil {
		writeError(w, code, err.Error())
		return
	}
	if !slices.Contains(Types, req.Type) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("type %q: use one of %s", req.Type, strings.Join(Types, ", ")))
		return
	}
	if req.Type == TypeUpgrade {
		s.postUpgrade(w, r, req)
		return
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"snapshot", req.Snapshot != ""}, {"handle", req.Handle != ""}, {"functional", req.Functional != nil}, {"destroy", req.Destroy != nil}} {
		if f.set {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: only a check of type upgrade takes one, not %q", f.name, req.Type))
			return
		}
	}
	cloud, err := s.cloudOf(req.Cloud)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	run, joined, err := s.Submit(r.Context(), req.Type, cloud, "api")
	switch {
	case errors.Is(err, ErrStopping):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"handle": run.Handle, "type": run.Type, "cloud": run.Cloud,
		"state": run.State, "joined": joined})
}

func (s *Service) getResult(w http.ResponseWriter, r *http.Request) {
	h := r.URL.Query().Get("handle")
	if h == "" {
		writeError(w, http.StatusBadRequest, "handle: give ?handle=H (from POST /cpulse/check)")
		return
	}
	run, err := s.Get(r.Context(), h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no run with handle %q", h))
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		res := ResultOf(run)
		if since, paths, ok := s.watching(h); ok && run.Type == TypeSnapshot {
			res.Watching = &Watching{Since: rfc3339(since), Paths: paths}
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// filterOf reads the history filters: type, cloud, failed, since (a duration
// back from now, or RFC 3339), limit (1–store.MaxLimit, default 50), cursor.
func (s *Service) filterOf(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	f := store.Filter{Type: q.Get("type"), Cloud: q.Get("cloud"), Cursor: q.Get("cursor"), Limit: 50}
	if f.Type != "" && !slices.Contains(RunTypes, f.Type) {
		return f, fmt.Errorf("type %q: use one of %s", f.Type, strings.Join(RunTypes, ", "))
	}
	if v := q.Get("failed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, fmt.Errorf("failed=%q: use true or false", v)
		}
		f.Failed = b
	}
	if v := q.Get("since"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			f.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			f.Since = t
		} else {
			return f, fmt.Errorf("since=%q: use a duration such as 1h or an RFC 3339 time", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return f, fmt.Errorf("limit=%q: use a number from 1 to %d", v, store.MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Service) getResults(w http.ResponseWriter, r *http.Request) {
	f, err := s.filterOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, next, err := s.store.List(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := struct {
		Results []Result `json:"results"`
		Next    string   `json:"next"`
	}{Results: make([]Result, 0, len(runs)), Next: next}
	for _, run := range runs {
		out.Results = append(out.Results, ResultOf(run))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) deleteCheck(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("handle")
	run, active, err := s.Cancel(r.Context(), h)
	if err == nil && !active && run.Type == TypeSnapshot && run.State == Passed {
		s.finishSnapshot(w, r, run)
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no run with handle %q", h))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	state := run.State
	if active {
		state = "cancelling"
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"handle": run.Handle, "state": state})
}

func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Service) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI)
}
