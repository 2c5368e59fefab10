package families

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// Request is one run of a family on one cloud.
type Request struct {
	Cloud      *cloud.Config
	Family     string        // one of Names()
	Timeout    time.Duration // each endpoint/operator check; zero: check.DefaultTimeout
	ServiceMap string        // the operator checks' service map (operator, all)
	HorizonURL string        // Horizon login URL; empty: no Horizon check
	// Logf receives progress lines (scenario steps, tofu output on failure); nil: none.
	Logf func(format string, args ...any)
	// OnResult receives each result as soon as its check ends (concurrently).
	OnResult func(check.Result)
	// OnRunID receives each scenario's run id before anything is applied.
	OnRunID func(runID string)
	// ReportPath is CLOUDPULSE_REPORT: functional's report there, other
	// scenarios' next to it (x.json → x-comprehensive.json) when several run.
	ReportPath string
	// RequireAdmin: the cloud is declared an admin cloud (cpulse serve's
	// `admin: true`). Its run gets an admin-role check, and the operator
	// checks that need the role fail instead of skipping when the token has
	// none: a credential that lost the role is a finding, not a quiet skip.
	RequireAdmin bool
	// State, when set, keeps the scenarios' state in PostgreSQL (the
	// service on a shared history); nil: in the local workspace.
	State *tf.PGState
}

// Outcome is what a run found.
type Outcome struct {
	Results []check.Result
	// Steps are the scenarios' timed steps, named <scenario>/<step> when
	// several scenarios ran.
	Steps   []report.Step
	RunIDs  []string               // the scenarios' run ids
	Latency []cloud.ServiceLatency // the API requests of the endpoint/operator checks
	// Requests are those requests one by one (for metrics).
	Requests []cloud.APIRequest
	Checks   int // how many endpoint/operator checks ran
}

// Plan is a validated Request: nothing has run yet.
type Plan struct {
	req       Request
	smap      *operator.ServiceMap
	scenarios []scenario.Scenario
}

// Prepare validates req — the family, the service map, every scenario's
// options — before anything runs; its errors are InputErrors.
func Prepare(req Request) (*Plan, error) {
	if !slices.Contains(Names(), req.Family) {
		return nil, inputf("check what? want one of %s, got %q", strings.Join(Names(), ", "), req.Family)
	}
	if req.Cloud == nil {
		return nil, inputf("no cloud to check")
	}
	p := &Plan{req: req}
	if req.Family == "operator" || req.Family == "all" {
		m, err := LoadServiceMap(req.ServiceMap)
		if err != nil {
			return nil, err
		}
		p.smap = m
	}
	for _, name := range scenario.Names() {
		if req.Family != name && req.Family != "all" {
			continue
		}
		d, err := scenario.Lookup(name)
		if err != nil {
			return nil, inputf("%v", err)
		}
		s, err := d.New(req.Cloud)
		if err != nil {
			return nil, inputf("%v", err)
		}
		p.scenarios = append(p.scenarios, s)
	}
	return p, nil
}

// Run validates req and runs it: Prepare, then Plan.Run.
func Run(ctx context.Context, req Request) (Outcome, error) {
	p, err := Prepare(req)
	if err != nil {
		return Outcome{}, err
	}
	return p.Run(ctx)
}

// Run connects to the cloud and runs the plan's checks, then its scenarios
// one after another. The error is the connection's; failed checks are in
// the results.
func (p *Plan) Run(ctx context.Context) (Outcome, error) {
	req := p.req
	rec := cloud.NewLatencyRecorder(req.Cloud.BaseTransport())
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := req.Cloud.Connect(cctx, cloud.WithTransport(rec))
	cancel()
	if err != nil {
		return Outcome{}, err
	}
	rec.LearnCatalogFrom(c.Provider)

	var checks []check.Check
	if req.RequireAdmin {
		checks = append(checks, AdminRoleCheck(c, c.Name))
	}
	if req.Family == "endpoint" || req.Family == "all" {
		checks = append(checks, endpoint.Checks(c)...)
		if req.HorizonURL != "" {
			checks = append(checks, HorizonCheck(req.HorizonURL, req.Cloud))
		}
	}
	if p.smap != nil {
		hosts := operator.NewHosts(p.smap)
		defer hosts.Close()
		checks = append(checks, operatorChecks(ctx, p.smap, hosts, c, c.Name, req.RequireAdmin)...)
	}
	var out Outcome
	var mu sync.Mutex // OnResult is called concurrently
	onResult := func(r check.Result) {
		if req.OnResult != nil {
			mu.Lock()
			req.OnResult(r)
			mu.Unlock()
		}
	}
	runner := check.Runner{Timeout: req.Timeout, OnResult: onResult}
	out.Results = runner.Run(ctx, checks...)
	out.Checks = len(checks)
	several := len(p.scenarios) > 1
	for _, s := range p.scenarios {
		path := req.ReportPath
		if several && path != "" && s.Name() != "functional" {
			path = strings.TrimSuffix(path, ".json") + "-" + s.Name() + ".json"
		}
		out.RunIDs = append(out.RunIDs, s.RunID())
		results, sres := RunScenario(ctx, c, s, ScenarioOptions{Logf: req.Logf, OnResult: onResult, OnRunID: req.OnRunID, ReportPath: path, State: req.State})
		out.Results = append(out.Results, results...)
		if sres.Timeline != nil {
			for _, st := range sres.Timeline.Steps() {
				if several {
					st.Name = s.Name() + "/" + st.Name
				}
				out.Steps = append(out.Steps, st)
			}
		}
	}
	if len(checks) > 0 {
		out.Latency = rec.Stats()
		out.Requests = rec.Requests()
	}
	return out, nil
}
