// Package apitest is a fake of the cpulse service's REST API (API12.md's
// shapes) for tests of the client and the remote CLI: it keeps runs in
// memory, and the test moves them from state to state.
package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
)

// Server is an http.Handler answering like `cpulse serve`.
type Server struct {
	Token string // required on every /cpulse request when not ""
	// Progress, when set, is called on each GET /cpulse/result of a run not
	// yet final, and may change it (e.g. queued → running → passed).
	Progress func(r *apiclient.Result)

	mu        sync.Mutex
	runs      map[string]*apiclient.Result
	order     []string // oldest first
	Requests  []string // "METHOD /path?query", in order
	Bodies    []string // the bodies of the POSTs, in order
	Snapshots []apiclient.SnapshotRequest
	next      int
}

// Add stores a run as the newest.
func (s *Server) Add(r apiclient.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(r)
}

func (s *Server) add(r apiclient.Result) {
	if s.runs == nil {
		s.runs = map[string]*apiclient.Result{}
	}
	s.runs[r.Handle] = &r
	s.order = append(s.order, r.Handle)
}

// Run returns a copy of the stored run.
func (s *Server) Run(handle string) (apiclient.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[handle]
	if !ok {
		return apiclient.Result{}, false
	}
	return *r, true
}

// Log returns the requests seen so far.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.Requests...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

var types = map[string]bool{"operator": true, "endpoint": true, "functional": true, "comprehensive": true, "upgrade": true, "all": true}

func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := req.Method + " " + req.URL.Path
	if req.URL.RawQuery != "" {
		line += "?" + req.URL.RawQuery
	}
	s.Requests = append(s.Requests, line)
	if req.URL.Path == "/healthz" {
		writeJSON(w, 200, map[string]string{"status": "ok"})
		return
	}
	if s.Token != "" {
		_, pass, basic := req.BasicAuth()
		if req.Header.Get("Authorization") != "Bearer "+s.Token && !(basic && pass == s.Token) {
			fail(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer TOKEN")
			return
		}
	}
	switch {
	case req.Method == "POST" && req.URL.Path == "/cpulse/check":
		var body apiclient.CheckRequest
		if !s.decode(w, req, &body) {
			return
		}
		if !types[body.Type] {
			fail(w, http.StatusBadRequest, "unknown type %q: want operator, endpoint, functional, comprehensive, upgrade or all", body.Type)
			return
		}
		if body.Cloud == "" {
			body.Cloud = "lab-member"
		}
		for _, h := range s.order {
			if r := s.runs[h]; r.Type == body.Type && r.Cloud == body.Cloud && (r.State == apiclient.Queued || r.State == apiclient.Running) {
				writeJSON(w, http.StatusAccepted, apiclient.Accepted{Handle: h, Type: r.Type, Cloud: r.Cloud, State: r.State, Joined: true})
				return
			}
		}
		r := apiclient.Result{Handle: s.handle(), Type: body.Type, Cloud: body.Cloud, State: apiclient.Queued, Timestamp: time.Now().UTC().Truncate(time.Second)}
		s.add(r)
		writeJSON(w, http.StatusAccepted, apiclient.Accepted{Handle: r.Handle, Type: r.Type, Cloud: r.Cloud, State: r.State})
	case req.Method == "GET" && req.URL.Path == "/cpulse/result":
		r, ok := s.runs[req.URL.Query().Get("handle")]
		if !ok {
			fail(w, http.StatusNotFound, "unknown handle %q", req.URL.Query().Get("handle"))
			return
		}
		if s.Progress != nil && !apiclient.Final(r.State) {
			s.Progress(r)
		}
		writeJSON(w, 200, r)
	case req.Method == "GET" && req.URL.Path == "/cpulse/results":
		s.results(w, req)
	case req.Method == "DELETE" && strings.HasPrefix(req.URL.Path, "/cpulse/check/"):
		h := strings.TrimPrefix(req.URL.Path, "/cpulse/check/")
		r, ok := s.runs[h]
		if !ok {
			fail(w, http.StatusNotFound, "unknown handle %q", h)
			return
		}
		state := r.State
		if !apiclient.Final(r.State) {
			r.State, state = apiclient.Cancelled, apiclient.Cancelling
		}
		writeJSON(w, http.StatusAccepted, apiclient.Cancellation{Handle: h, State: state})
	case req.Method == "POST" && req.URL.Path == "/cpulse/snapshot":
		var body apiclient.SnapshotRequest
		if !s.decode(w, req, &body) {
			return
		}
		s.Snapshots = append(s.Snapshots, body)
		r := apiclient.Result{Handle: s.handle(), Type: "upgrade", Cloud: body.Cloud, State: apiclient.Queued, Timestamp: time.Now().UTC()}
		s.add(r)
		writeJSON(w, http.StatusAccepted, apiclient.SnapshotAccepted{Handle: r.Handle, Resources: body.Resources})
	default:
		fail(w, http.StatusNotFound, "no such endpoint: %s %s", req.Method, req.URL.Path)
	}
}

func (s *Server) handle() string {
	s.next++
	return fmt.Sprintf("%016x", 0xc0ffee0000+s.next)
}

func (s *Server) decode(w http.ResponseWriter, req *http.Request, v any) bool {
	var raw json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&raw); err != nil {
		fail(w, http.StatusBadRequest, "malformed JSON: %v", err)
		return false
	}
	s.Bodies = append(s.Bodies, string(raw))
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "malformed JSON: %v", err)
		return false
	}
	return true
}

// results answers GET /cpulse/results newest first; the cursor is the index
// of the next run in that order.
func (s *Server) results(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusBadRequest, "limit %q: want a positive number", v)
			return
		}
		limit = n
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fail(w, http.StatusBadRequest, "since %q: want a duration such as 1h", v)
			return
		}
		since = time.Now().Add(-d)
	}
	start := 0
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fail(w, http.StatusBadRequest, "cursor %q: not one this server gave", v)
			return
		}
		start = n
	}
	page := apiclient.Page{Results: []apiclient.Result{}}
	i := start
	for ; i < len(s.order) && len(page.Results) < limit; i++ {
		r := s.runs[s.order[len(s.order)-1-i]]
		if (q.Get("type") != "" && r.Type != q.Get("type")) || (q.Get("cloud") != "" && r.Cloud != q.Get("cloud")) ||
			(q.Get("failed") == "true" && r.State != apiclient.Failed) || r.Timestamp.Before(since) {
			continue
		}
		page.Results = append(page.Results, *r)
	}
	if i < len(s.order) {
		page.Next = strconv.Itoa(i)
	}
	writeJSON(w, 200, page)
}
