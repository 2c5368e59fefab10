package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Job is the Pushgateway job of cloudpulse's runs; with cloud and family it is
// the grouping key, the same for every run, so each push replaces the last.
const Job = "cloudpulse"

// Push replaces the group (job, cloud, family) at the Pushgateway at url with
// the metrics of family on cloud (and cloud's API latency, downtime and
// cleanup counts), the cloud and family labels moved into the grouping key.
// A failed run has no last success of its own: Push reads the group's
// previous last success back from the gateway (/api/v1/metrics) and pushes it
// again, so a failure does not erase when the family last passed.
func (r *Registry) Push(ctx context.Context, url, job, cloudName, family string) error {
	client := &http.Client{Timeout: 30 * time.Second}
	prev, havePrev, err := pushedLastSuccess(ctx, client, url, job, cloudName, family)
	if err != nil {
		return err
	}
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := r.reg.Gather()
		if err != nil {
			return nil, err
		}
		return group(mfs, cloudName, family, prev, havePrev), nil
	})
	err = push.New(url, job).Grouping("cloud", cloudName).Grouping("family", family).
		Gatherer(g).Client(client).PushContext(ctx)
	if err != nil {
		return fmt.Errorf("push %s/%s to %s: %w", cloudName, family, url, err)
	}
	return nil
}

// PushRun pushes one run of `cpulse check` (results, the API requests its
// checks sent) under Job: what --push and CLOUDPULSE_PUSHGATEWAY do. every is
// how often the caller runs it (--interval, CLOUDPULSE_PUSH_INTERVAL): pushed
// as cloudpulse_run_interval_seconds, which the alert on missed runs
// (CloudpulseNoSuccessfulRun) needs; 0: unknown, not pushed.
func PushRun(ctx context.Context, url, cloudName, family string, results []check.Result, api []cloud.APIRequest, started time.Time, every time.Duration) error {
	r := New()
	r.ObserveRun(cloudName, family, results, nil, started, check.Summarize(results).OK())
	r.ObserveAPIRequests(cloudName, api)
	r.SetInterval(cloudName, family, every)
	return r.Push(ctx, url, Job, cloudName, family)
}

// group keeps the metrics of cloud and family (and those of cloud without a
// family label), without those two labels, and adds the previous last
// success when the run has none.
func group(mfs []*dto.MetricFamily, cloudName, family string, prev float64, havePrev bool) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	sawLastSuccess := false
	for _, mf := range mfs {
		var keep []*dto.Metric
		for _, m := range mf.GetMetric() {
			if label(m, "cloud") != cloudName || (hasLabel(m, "family") && label(m, "family") != family) {
				continue
			}
			m = proto.Clone(m).(*dto.Metric)
			var ls []*dto.LabelPair
			for _, lp := range m.GetLabel() {
				if n := lp.GetName(); n != "cloud" && n != "family" {
					ls = append(ls, lp)
				}
			}
			m.Label = ls
			keep = append(keep, m)
		}
		if len(keep) == 0 {
			continue
		}
		if mf.GetName() == RunLastSuccess {
			sawLastSuccess = true
		}
		out = append(out, &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Metric: keep})
	}
	if !sawLastSuccess && havePrev {
		out = append(out, &dto.MetricFamily{
			Name:   proto.String(RunLastSuccess),
			Help:   proto.String("Unix time the family's last passed run started (kept when a run fails)."),
			Type:   dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(prev)}}},
		})
	}
	return out
}

func hasLabel(m *dto.Metric, name string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return true
		}
	}
	return false
}

func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// pushedLastSuccess reads the group's last success from the gateway's API.
func pushedLastSuccess(ctx context.Context, client *http.Client, url, job, cloudName, family string) (float64, bool, error) {
	api := strings.TrimRight(url, "/") + "/api/v1/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return 0, false, fmt.Errorf("read the last success back from the pushgateway: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("read the last success back from the pushgateway: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, false, fmt.Errorf("read the last success back from %s: %w", api, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("read the last success back from %s: HTTP %d (a Pushgateway of version 1.0 or later has this API)", api, resp.StatusCode)
	}
	var doc struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return 0, false, fmt.Errorf("read the last success back from %s: %w", api, err)
	}
	want := map[string]string{"job": job, "cloud": cloudName, "family": family}
	for _, g := range doc.Data {
		var labels map[string]string
		if err := json.Unmarshal(g["labels"], &labels); err != nil || !equal(labels, want) {
			continue
		}
		raw, ok := g[RunLastSuccess]
		if !ok {
			return 0, false, nil
		}
		var mf struct {
			Metrics []struct {
				Value string `json:"value"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(raw, &mf); err != nil || len(mf.Metrics) == 0 {
			return 0, false, fmt.Errorf("read the last success back from %s: unexpected %s: %s", api, RunLastSuccess, raw)
		}
		v, err := strconv.ParseFloat(mf.Metrics[0].Value, 64)
		if err != nil {
			return 0, false, fmt.Errorf("read the last success back from %s: %w", api, err)
		}
		return v, true, nil
	}
	return 0, false, nil
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
