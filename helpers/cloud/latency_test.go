package cloud

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeKeystone answers POST /identity/v3/auth/tokens with a token whose
// catalog puts every service behind one host under a path prefix, as
// DevStack does, and answers the service paths with 200 (or 503 for /image).
func fakeKeystone(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/identity/v3/auth/tokens":
			w.Header().Set("X-Subject-Token", "tok")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			ep := func(typ, path string) string {
				return fmt.Sprintf(`{"id":"%s","type":"%s","name":"%s","endpoints":[{"id":"e-%s","interface":"public","region":"RegionOne","region_id":"RegionOne","url":"%s%s"}]}`,
					typ, typ, typ, typ, srv.URL, path)
			}
			fmt.Fprintf(w, `{"token":{"expires_at":"2999-01-01T00:00:00.000000Z","catalog":[%s,%s,%s,%s,%s]}}`,
				ep("identity", "/identity"), ep("compute", "/compute/v2.1"), ep("image", "/image"),
				ep("volumev3", "/volume/v3/p1"), ep("dns", "/dns"))
		case strings.HasPrefix(r.URL.Path, "/image"):
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			time.Sleep(2 * time.Millisecond)
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLatencyRecorderAttributesByCatalog(t *testing.T) {
	srv := fakeKeystone(t)
	rec := NewLatencyRecorder(nil)
	pc, err := openstack.NewClient(srv.URL + "/identity/v3")
	require.NoError(t, err)
	pc.HTTPClient = http.Client{Transport: rec}
	require.NoError(t, openstack.Authenticate(context.Background(), pc, gophercloud.AuthOptions{
		IdentityEndpoint: srv.URL + "/identity/v3", Username: "u", Password: "p", DomainName: "Default",
	}))
	require.True(t, rec.LearnCatalogFrom(pc))

	for _, path := range []string{"/compute/v2.1/servers", "/compute/v2.1/servers/detail", "/image/v2/images",
		"/volume/v3/p1/volumes", "/dns/v2/zones", "/computer/x"} {
		resp, err := pc.HTTPClient.Get(srv.URL + path + "?limit=1")
		require.NoError(t, err)
		resp.Body.Close()
	}
	reqs := rec.Requests()
	require.Len(t, reqs, 7)
	var got []string
	for _, r := range reqs {
		got = append(got, fmt.Sprintf("%s %s %d %s", r.Service, r.Method, r.Status, r.Path))
		assert.Positive(t, r.Duration)
		assert.False(t, r.StartedAt.IsZero())
	}
	assert.Equal(t, []string{
		"identity POST 201 /identity/v3/auth/tokens",
		"compute GET 200 /compute/v2.1/servers",
		"compute GET 200 /compute/v2.1/servers/detail",
		"image GET 503 /image/v2/images",
		"block-storage GET 200 /volume/v3/p1/volumes",
		"unknown GET 200 /dns/v2/zones", // in the catalog but not a service we label
		"unknown GET 200 /computer/x",   // a prefix of the path is not a path prefix
	}, got)

	stats := rec.Stats()
	var names []string
	for _, s := range stats {
		names = append(names, s.Service)
		if s.Service == ServiceImage {
			assert.Equal(t, 1, s.Errors)
		}
		if s.Service == ServiceCompute {
			assert.Equal(t, 2, s.Count)
			assert.GreaterOrEqual(t, s.P50, 2*time.Millisecond)
		}
	}
	assert.Equal(t, []string{"block-storage", "compute", "identity", "image", "unknown"}, names)
}

func TestLatencyRecorderGuessesWithoutCatalog(t *testing.T) {
	rec := NewLatencyRecorder(nil)
	for _, tc := range []struct{ url, want string }{
		{"http://10.0.0.1:5000/v3/auth/tokens", ServiceIdentity},
		{"https://cloud.example:35357/v3", ServiceIdentity},
		{"http://10.0.0.1:8774/v2.1/servers", ServiceCompute},
		{"http://10.0.0.1:9292/v2/images", ServiceImage},
		{"http://10.0.0.1:9696/v2.0/networks", ServiceNetwork},
		{"http://10.0.0.1:8776/v3/p/volumes", ServiceBlockStorage},
		{"http://10.0.0.1:8778/resource_providers", ServicePlacement},
		{"https://cloud.example/identity/v3", ServiceIdentity},
		{"https://cloud.example/networking/v2.0/ports", ServiceNetwork},
		{"https://cloud.example/volume/v3", ServiceBlockStorage},
		{"https://cloud.example/dashboard", ServiceUnknown},
		{"http://10.0.0.1:8080/", ServiceUnknown},
	} {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.want, rec.serviceOf(req.URL), tc.url)
	}
}

func TestLatencyRecorderTransportErrorAndMethods(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	addr := srv.URL
	srv.Close() // connection refused from now on

	var mu sync.Mutex
	var seen []APIRequest
	rec := &LatencyRecorder{OnRequest: func(r APIRequest) { mu.Lock(); seen = append(seen, r); mu.Unlock() }}
	client := http.Client{Transport: rec}
	req, err := http.NewRequest("PROPFIND", addr+"/compute/x", nil)
	require.NoError(t, err)
	_, err = client.Do(req)
	require.Error(t, err)

	reqs := rec.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, 0, reqs[0].Status)
	assert.Equal(t, "OTHER", reqs[0].Method)
	assert.Equal(t, ServiceCompute, reqs[0].Service)
	assert.Equal(t, reqs, seen)
	assert.Equal(t, 1, rec.Stats()[0].Errors)

	drained := rec.Reset()
	assert.Len(t, drained, 1)
	assert.Empty(t, rec.Requests())
}

func TestLatencyRecorderConcurrentUse(t *testing.T) {
	srv := fakeKeystone(t)
	rec := NewLatencyRecorder(http.DefaultTransport)
	rec.LearnCatalog(&tokens.ServiceCatalog{Entries: []tokens.CatalogEntry{
		{Type: "placement", Endpoints: []tokens.Endpoint{{URL: srv.URL + "/placement/"}}},
	}})
	client := http.Client{Transport: rec}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + "/placement/resource_providers")
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	stats := rec.Stats()
	require.Len(t, stats, 1)
	assert.Equal(t, ServicePlacement, stats[0].Service)
	assert.Equal(t, 20, stats[0].Count)
	assert.LessOrEqual(t, stats[0].P50, stats[0].P95)
	assert.LessOrEqual(t, stats[0].P95, stats[0].Max)
}

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 10*time.Millisecond, Percentile(ds, 50))
	assert.Equal(t, 19*time.Millisecond, Percentile(ds, 95))
	assert.Equal(t, 20*time.Millisecond, Percentile(ds, 100))
	assert.Equal(t, 1*time.Millisecond, Percentile(ds, 1))
	assert.Equal(t, 7*time.Millisecond, Percentile([]time.Duration{7 * time.Millisecond}, 95))
	assert.Zero(t, Percentile(nil, 50))
}
