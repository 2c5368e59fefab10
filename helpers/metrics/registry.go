package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// The metric names; dashboards and alert rules in observability/ use them.
const (
	CheckSuccess       = "cloudpulse_check_success"
	CheckDuration      = "cloudpulse_check_duration_seconds"
	RunSuccess         = "cloudpulse_run_success"
	RunDuration        = "cloudpulse_run_duration_seconds"
	RunLast            = "cloudpulse_run_last_timestamp_seconds"
	RunLastSuccess     = "cloudpulse_run_last_success_timestamp_seconds"
	RunInterval        = "cloudpulse_run_interval_seconds"
	StepDuration       = "cloudpulse_step_duration_seconds"
	APIRequestDuration = "openstack_api_request_duration_seconds"
	UpgradeDowntime    = "cloudpulse_upgrade_downtime_seconds"
	UpgradeThreshold   = "cloudpulse_upgrade_downtime_threshold_seconds"
	CleanupLeftovers   = "cloudpulse_cleanup_leftovers"
)

// APIBuckets are the latency buckets of openstack_api_request_duration_seconds:
// from a cached token check (5 ms) to a server create behind a busy API (30 s).
var APIBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Registry holds cloudpulse's metrics. Its methods are safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	checkSuccess, checkDuration      *prometheus.GaugeVec
	runSuccess, runDuration          *prometheus.GaugeVec
	runLast, runLastSuccess          *prometheus.GaugeVec
	runInterval, stepDuration        *prometheus.GaugeVec
	apiDuration                      *prometheus.HistogramVec
	downtime, threshold, cleanupLeft *prometheus.GaugeVec
}

// New returns an empty Registry.
func New() *Registry {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	r := &Registry{
		reg:            prometheus.NewRegistry(),
		checkSuccess:   g(CheckSuccess, "1 when the check passed in its family's last run, 0 when it failed (skipped checks have no sample).", "cloud", "family", "check"),
		checkDuration:  g(CheckDuration, "How long the check took in its family's last run.", "cloud", "family", "check"),
		runSuccess:     g(RunSuccess, "1 when the family's last run passed, 0 when it failed.", "cloud", "family"),
		runDuration:    g(RunDuration, "How long the family's last run took.", "cloud", "family"),
		runLast:        g(RunLast, "Unix time the family's last run started.", "cloud", "family"),
		runLastSuccess: g(RunLastSuccess, "Unix time the family's last passed run started (kept when a run fails).", "cloud", "family"),
		runInterval:    g(RunInterval, "The family's configured run interval (cpulse serve).", "cloud", "family"),
		stepDuration:   g(StepDuration, "How long each step of the family's last run took (scenario steps).", "cloud", "family", "step"),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: APIRequestDuration, Help: "OpenStack API requests the checks sent, until the response headers (status: 2xx..5xx, or error when none came back).",
			Buckets: APIBuckets,
		}, []string{"cloud", "service", "method", "status"}),
		downtime:    g(UpgradeDowntime, "Total downtime of each watched path in the last upgrade watch.", "cloud", "path"),
		threshold:   g(UpgradeThreshold, "The downtime allowed on each watched path (paths with a threshold only).", "cloud", "path"),
		cleanupLeft: g(CleanupLeftovers, "Resources of cloudpulse's runs the last cleanup found left in the cloud, per kind.", "cloud", "kind"),
	}
	r.reg.MustRegister(r.checkSuccess, r.checkDuration, r.runSuccess, r.runDuration, r.runLast, r.runLastSuccess,
		r.runInterval, r.stepDuration, r.apiDuration, r.downtime, r.threshold, r.cleanupLeft)
	return r
}

// Gatherer is the registry, for promhttp or a test.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// ObserveRun records one run of family on cloud: each result's success and
// duration, the run's verdict, start time (and, when ok, last success), its
// duration until now and its steps. The checks of the family's previous run
// are replaced, so a check that is gone or skipped now has no sample.
func (r *Registry) ObserveRun(cloudName, family string, results []check.Result, steps []report.Step, started time.Time, ok bool) {
	fam := prometheus.Labels{"cloud": cloudName, "family": family}
	r.checkSuccess.DeletePartialMatch(fam)
	r.checkDuration.DeletePartialMatch(fam)
	for _, res := range results {
		if res.Status() == check.Skipped {
			continue
		}
		name := CheckName(res.Name)
		r.checkSuccess.WithLabelValues(cloudName, family, name).Set(b2f(res.OK))
		r.checkDuration.WithLabelValues(cloudName, family, name).Set(res.Duration.Seconds())
	}
	r.stepDuration.DeletePartialMatch(fam)
	for _, s := range steps {
		r.stepDuration.WithLabelValues(cloudName, family, CheckName(s.Name)).Set(s.Duration.Seconds())
	}
	r.runSuccess.With(fam).Set(b2f(ok))
	r.runDuration.With(fam).Set(time.Since(started).Seconds())
	r.runLast.With(fam).Set(unix(started))
	if ok {
		r.runLastSuccess.With(fam).Set(unix(started))
	}
}

// SetInterval records how often the service runs family on cloud (0 or less:
// not scheduled, the series is removed); the alert on missed runs needs it.
func (r *Registry) SetInterval(cloudName, family string, every time.Duration) {
	if every <= 0 {
		r.runInterval.DeleteLabelValues(cloudName, family)
		return
	}
	r.runInterval.WithLabelValues(cloudName, family).Set(every.Seconds())
}

// ObserveAPIRequest records one request a LatencyRecorder saw.
func (r *Registry) ObserveAPIRequest(cloudName string, req cloud.APIRequest) {
	r.apiDuration.WithLabelValues(cloudName, req.Service, req.Method, StatusClass(req.Status)).Observe(req.Duration.Seconds())
}

// ObserveAPIRequests records requests (LatencyRecorder.Requests or Reset).
func (r *Registry) ObserveAPIRequests(cloudName string, reqs []cloud.APIRequest) {
	for _, q := range reqs {
		r.ObserveAPIRequest(cloudName, q)
	}
}

// OnRequest returns a LatencyRecorder.OnRequest hook that records each request
// as it ends: rec.OnRequest = reg.OnRequest(cloudName).
func (r *Registry) OnRequest(cloudName string) func(cloud.APIRequest) {
	return func(q cloud.APIRequest) { r.ObserveAPIRequest(cloudName, q) }
}

// ObserveWatch records an upgrade watch's downtime (and threshold) per path;
// the paths of an earlier watch on cloud are replaced.
func (r *Registry) ObserveWatch(cloudName string, rep probe.WatchReport) {
	c := prometheus.Labels{"cloud": cloudName}
	r.downtime.DeletePartialMatch(c)
	r.threshold.DeletePartialMatch(c)
	for _, p := range rep.Paths {
		path := CheckName(p.Name)
		r.downtime.WithLabelValues(cloudName, path).Set(p.Downtime.Seconds())
		if p.Threshold > 0 {
			r.threshold.WithLabelValues(cloudName, path).Set(p.Threshold.Seconds())
		}
	}
}

// ObserveCleanup records what a cleanup found of cloudpulse's runs in the
// cloud (scenario.Find, Sweep or Stale), counted per kind; kinds found before
// and not now are 0.
func (r *Registry) ObserveCleanup(cloudName string, found []scenario.Resource) {
	n := map[string]int{}
	for _, kind := range Kinds {
		n[kind] = 0
	}
	for _, res := range found {
		if _, ok := n[res.Kind]; ok {
			n[res.Kind]++
		} else {
			n["other"]++
		}
	}
	for kind, count := range n {
		r.cleanupLeft.WithLabelValues(cloudName, kind).Set(float64(count))
	}
}

// StatusClass is the status label of an API request: "2xx" … "5xx", or
// "error" when no response came back.
func StatusClass(code int) string {
	if code < 100 || code > 599 {
		return "error"
	}
	return string(rune('0'+code/100)) + "xx"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// CleanupLeftovers is the gauge of kind on cloud (for tests and the status page).
func (r *Registry) CleanupLeftovers(cloudName, kind string) prometheus.Gauge {
	return r.cleanupLeft.WithLabelValues(cloudName, kind)
}
