package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protodelim"
)

// fakeGateway is an httptest Pushgateway: it answers the last-success
// read-back (GET /api/v1/metrics: no groups) and records each PUT's grouping
// key ("cloud=a,family=cleanup,job=cloudpulse": the path's pairs, sorted) and
// samples ("name{label=value,…} value", sorted); status is what a PUT gets.
type fakeGateway struct {
	url    string
	status int
	mu     sync.Mutex
	pushes map[string][]string // grouping key → samples
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	g := &fakeGateway{status: http.StatusOK, pushes: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/metrics":
			_, _ = io.WriteString(w, `{"status":"success","data":[]}`)
		case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/metrics/"):
			samples, err := decodePush(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			g.mu.Lock()
			g.pushes[groupingKey(r.URL.Path)] = samples
			g.mu.Unlock()
			w.WriteHeader(g.status)
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

func (g *fakeGateway) pushed() map[string][]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string][]string{}
	for k, v := range g.pushes {
		out[k] = v
	}
	return out
}

// decodePush reads the delimited protobuf MetricFamilies client_golang's push sends.
func decodePush(body io.Reader) ([]string, error) {
	br := bufio.NewReader(body)
	var out []string
	for {
		var mf dto.MetricFamily
		err := protodelim.UnmarshalFrom(br, &mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			out = append(out, mf.GetName()+"{"+strings.Join(ls, ",")+"} "+trimFloat(m.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func requireOnePush(t *testing.T, g *fakeGateway, key string) []string {
	t.Helper()
	p := g.pushed()
	require.Len(t, p, 1, "pushes: %v", p)
	require.Contains(t, p, key)
	return p[key]
}

// groupingKey is a push path's label pairs (/metrics/job/j/k/v…), sorted.
func groupingKey(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/metrics/"), "/")
	var kv []string
	for i := 0; i+1 < len(parts); i += 2 {
		kv = append(kv, parts[i]+"="+parts[i+1])
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
