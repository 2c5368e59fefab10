package cloud

import (
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// The services a recorded request is attributed to. The set is closed so that
// it can be a metric label: anything else is ServiceUnknown.
const (
	ServiceIdentity     = "identity"
	ServiceCompute      = "compute"
	ServiceImage        = "image"
	ServiceNetwork      = "network"
	ServiceBlockStorage = "block-storage"
	ServicePlacement    = "placement"
	ServiceUnknown      = "unknown"
)

// APIRequest is one HTTP request seen by a LatencyRecorder.
type APIRequest struct {
	Service   string        // one of the Service* constants
	Method    string        // GET, POST, PUT, PATCH, DELETE, HEAD, or OTHER
	Status    int           // HTTP status; 0 when no response came back
	Path      string        // URL path, without query (for reading logs, never a label)
	StartedAt time.Time     // when the request was sent
	Duration  time.Duration // until the response headers arrived, or the error
}

// ServiceLatency summarises the requests to one service.
type ServiceLatency struct {
	Service string
	Count   int
	Errors  int // no response, or HTTP status >= 500
	P50     time.Duration
	P95     time.Duration
	Max     time.Duration
}

// LatencyRecorder is an http.RoundTripper that times every request it passes to
// Next and attributes it to an OpenStack service. Pass it to Connect with
// WithTransport, then call LearnCatalog so that requests are attributed by the
// catalog's endpoints rather than by well-known ports and paths alone.
// It is safe for concurrent use.
type LatencyRecorder struct {
	// Next sends the requests; nil means http.DefaultTransport.
	Next http.RoundTripper
	// OnRequest, when set, is called after each request (for metrics). It
	// must be safe for concurrent use.
	OnRequest func(APIRequest)

	mu        sync.Mutex
	endpoints []catalogEndpoint // longest URL prefix first
	requests  []APIRequest
}

type catalogEndpoint struct {
	prefix  string // scheme://host:port/path, no trailing slash
	service string
}

// NewLatencyRecorder returns a recorder sending requests through next (nil
// means http.DefaultTransport).
func NewLatencyRecorder(next http.RoundTripper) *LatencyRecorder {
	return &LatencyRecorder{Next: next}
}

// RoundTrip sends req through Next and records it.
func (l *LatencyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := l.Next
	if next == nil {
		next = http.DefaultTransport
	}
	start := time.Now()
	resp, err := next.RoundTrip(req)
	r := APIRequest{
		Service:   l.serviceOf(req.URL),
		Method:    boundedMethod(req.Method),
		Path:      req.URL.Path,
		StartedAt: start,
		Duration:  time.Since(start),
	}
	if err == nil && resp != nil {
		r.Status = resp.StatusCode
	}
	l.mu.Lock()
	l.requests = append(l.requests, r)
	l.mu.Unlock()
	if l.OnRequest != nil {
		l.OnRequest(r)
	}
	return resp, err
}

// LearnCatalog attributes requests by the endpoints of catalog (every
// interface and region), which is exact even when services share a port
// behind a path prefix. Services of other types stay ServiceUnknown.
func (l *LatencyRecorder) LearnCatalog(catalog *tokens.ServiceCatalog) {
	if catalog == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, entry := range catalog.Entries {
		service := normalizeServiceType(entry.Type)
		for _, ep := range entry.Endpoints {
			u, err := url.Parse(ep.URL)
			if err != nil || u.Host == "" {
				continue
			}
			p := endpointKey(u)
			if !slices.ContainsFunc(l.endpoints, func(e catalogEndpoint) bool { return e.prefix == p }) {
				l.endpoints = append(l.endpoints, catalogEndpoint{prefix: p, service: service})
			}
		}
	}
	slices.SortStableFunc(l.endpoints, func(a, b catalogEndpoint) int { return len(b.prefix) - len(a.prefix) })
}

// LearnCatalogFrom learns the catalog of the token pc authenticated with
// (Keystone v3). It reports whether a catalog was found.
func (l *LatencyRecorder) LearnCatalogFrom(pc *gophercloud.ProviderClient) bool {
	r, ok := pc.GetAuthResult().(interface {
		ExtractServiceCatalog() (*tokens.ServiceCatalog, error)
	})
	if !ok {
		return false
	}
	cat, err := r.ExtractServiceCatalog()
	if err != nil || cat == nil {
		return false
	}
	l.LearnCatalog(cat)
	return true
}

// Requests returns a copy of the requests recorded so far, oldest first.
func (l *LatencyRecorder) Requests() []APIRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

// Reset forgets the recorded requests (not the learned catalog) and returns
// them, so a long-running service can summarise and drain per run.
func (l *LatencyRecorder) Reset() []APIRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.requests
	l.requests = nil
	return out
}

// Stats returns per-service latency of the requests recorded so far, sorted by
// service name.
func (l *LatencyRecorder) Stats() []ServiceLatency {
	return SummarizeLatency(l.Requests())
}

// SummarizeLatency returns per-service count, errors, p50, p95 and max of requests,
// sorted by service name. Percentiles are nearest-rank.
func SummarizeLatency(requests []APIRequest) []ServiceLatency {
	by := map[string][]time.Duration{}
	errs := map[string]int{}
	for _, r := range requests {
		by[r.Service] = append(by[r.Service], r.Duration)
		if r.Status == 0 || r.Status >= 500 {
			errs[r.Service]++
		}
	}
	out := make([]ServiceLatency, 0, len(by))
	for svc, ds := range by {
		slices.Sort(ds)
		out = append(out, ServiceLatency{
			Service: svc,
			Count:   len(ds),
			Errors:  errs[svc],
			P50:     Percentile(ds, 50),
			P95:     Percentile(ds, 95),
			Max:     ds[len(ds)-1],
		})
	}
	slices.SortFunc(out, func(a, b ServiceLatency) int { return strings.Compare(a.Service, b.Service) })
	return out
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted durations, or 0 when there are none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func (l *LatencyRecorder) serviceOf(u *url.URL) string {
	key := endpointKey(u)
	l.mu.Lock()
	for _, e := range l.endpoints {
		if key == e.prefix || strings.HasPrefix(key, e.prefix+"/") {
			l.mu.Unlock()
			return e.service
		}
	}
	l.mu.Unlock()
	return guessService(u)
}

// endpointKey is scheme://host:port/path with the port made explicit and no
// trailing slash, so catalog URLs and request URLs compare as prefixes.
func endpointKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port) + strings.TrimRight(u.Path, "/")
}

// wellKnownPorts are the API ports the services register by default.
var wellKnownPorts = map[string]string{
	"5000":  ServiceIdentity,
	"35357": ServiceIdentity,
	"8774":  ServiceCompute,
	"9292":  ServiceImage,
	"9696":  ServiceNetwork,
	"8776":  ServiceBlockStorage,
	"8778":  ServicePlacement,
}

// guessService attributes a request without a catalog: by well-known port,
// then by the first path segment that DevStack-style deployments use behind one
// web server (/identity, /compute, /image, /networking, /volume, /placement).
func guessService(u *url.URL) string {
	if s, ok := wellKnownPorts[u.Port()]; ok {
		return s
	}
	first, _, _ := strings.Cut(strings.TrimLeft(u.Path, "/"), "/")
	if s := normalizeServiceType(first); s != ServiceUnknown {
		return s
	}
	return ServiceUnknown
}

func normalizeServiceType(t string) string {
	switch strings.ToLower(t) {
	case "identity":
		return ServiceIdentity
	case "compute":
		return ServiceCompute
	case "image":
		return ServiceImage
	case "network", "networking":
		return ServiceNetwork
	case "volume", "volumev2", "volumev3", "block-storage", "block-store", "block_storage":
		return ServiceBlockStorage
	case "placement":
		return ServicePlacement
	}
	return ServiceUnknown
}

func boundedMethod(m string) string {
	switch m = strings.ToUpper(m); m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
		return m
	}
	return "OTHER"
}
