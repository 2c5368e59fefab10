package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// startDaemon starts bin on a free loopback port in a temporary directory and
// waits for ready; it returns its URL. The process is killed at cleanup.
func startDaemon(t *testing.T, ctx context.Context, bin, ready string, args func(addr, dir string) []string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dir := t.TempDir()
	var log bytes.Buffer
	cmd := exec.Command(bin, args(addr, dir)...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s log:\n%s", bin, lastLines(log.String(), 30))
		}
	})
	u := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(u + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return u
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited: %v\n%s", bin, err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s%s after 30s:\n%s", bin, u, ready, log.String())
		}
	}
}

// prometheusConfig writes observability/prometheus.yml with the service's and
// the gateway's addresses as targets, 1 s intervals and the rules by path.
func prometheusConfig(t *testing.T, obs, svc, gw string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(obs, "prometheus.yml"))
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, yaml.Unmarshal(b, &c))
	c["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	c["rule_files"] = []string{filepath.Join(obs, "cloudpulse-rules.yml")}
	jobs := c["scrape_configs"].([]any)
	require.Len(t, jobs, 2)
	for _, j := range jobs {
		job := j.(map[string]any)
		target := map[string]string{"cpulse-serve": svc, "pushgateway": gw}[job["job_name"].(string)]
		require.NotEmpty(t, target, "unknown job %v in prometheus.yml", job["job_name"])
		job["static_configs"] = []any{map[string]any{"targets": []string{target}}}
	}
	out, err := yaml.Marshal(c)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(p, out, 0o600))
	return p
}

type panelExpr struct{ panel, expr string }

type dashboard struct {
	exprs      []panelExpr
	cloudMatch string // the metric of label_values(METRIC, cloud)
}

func readDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	var out dashboard
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			out.exprs = append(out.exprs, panelExpr{p.Title, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Name == "cloud" {
			m := regexp.MustCompile(`^label_values\((\w+), cloud\)$`).FindStringSubmatch(v.Definition)
			require.NotNil(t, m, "cloud variable: %q", v.Definition)
			out.cloudMatch = m[1]
		}
	}
	require.NotEmpty(t, out.cloudMatch, "the dashboard has no cloud variable")
	return out
}

type alertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

func readRules(t *testing.T, path string) []alertRule {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	var out []alertRule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// splitComparison splits "A > B" or "A == B" at its top-level comparison.
func splitComparison(expr string) (string, string, bool) {
	depth := 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ' ':
			if depth > 0 {
				continue
			}
			for _, op := range []string{" == ", " > ", " < ", " >= ", " <= ", " != "} {
				if strings.HasPrefix(expr[i:], op) {
					return strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+len(op):]), true
				}
			}
		}
	}
	return "", "", false
}

// promValues runs an instant query and returns the value of each series
// (a scalar: one value); an error of Prometheus fails the test.
func promValues(t *testing.T, prom, query string) []float64 {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/query?query="+url.QueryEscape(query), &r)
	require.Equal(t, "success", r.Status, "query %s: %s", query, r.Error)
	var out []float64
	parse := func(v []any) {
		var f float64
		_, err := fmt.Sscanf(v[1].(string), "%g", &f)
		if err != nil { // NaN, +Inf
			f = -1
		}
		out = append(out, f)
	}
	switch r.Data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		require.NoError(t, json.Unmarshal(r.Data.Result, &vec))
		for _, s := range vec {
			parse(s.Value)
		}
	case "scalar":
		var v []any
		require.NoError(t, json.Unmarshal(r.Data.Result, &v))
		parse(v)
	default:
		t.Fatalf("query %s: result type %s", query, r.Data.ResultType)
	}
	return out
}

func promLabelValues(t *testing.T, prom, label, match string) []string {
	t.Helper()
	var r struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	promGet(t, prom+"/api/v1/label/"+label+"/values?match[]="+url.QueryEscape(match), &r)
	require.Equal(t, "success", r.Status)
	return r.Data
}

// rulesHealthy is the number of rules Prometheus evaluated with health "ok".
func rulesHealthy(t *testing.T, prom string) int {
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/rules", &r)
	n := 0
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			if rule.Health == "ok" {
				n++
			} else if rule.LastError != "" {
				t.Errorf("rule %s: %s", rule.Name, rule.LastError)
			}
		}
	}
	return n
}

// promAlerts lists the active alerts as "name/state/check" (check label, if any).
func promAlerts(t *testing.T, prom string) []string {
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	promGet(t, prom+"/api/v1/alerts", &r)
	var out []string
	for _, a := range r.Data.Alerts {
		out = append(out, a.Labels["alertname"]+"/"+a.State+"/"+a.Labels["check"])
	}
	t.Logf("active alerts: %v", out)
	return out
}

func promGet(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), "%s: %s", u, b)
}

// first is v's first value, or -1 when v is empty.
func first(v []float64) float64 {
	if len(v) == 0 {
		return -1
	}
	return v[0]
}
