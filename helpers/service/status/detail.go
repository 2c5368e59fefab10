package status

import (
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// detailView is one run's page.
type detailView struct {
	Base     string
	Run      RunView
	Owner    string
	RunIDs   []string
	Checks   []CheckView
	Failing  []Failing // failed tests that no check names (run-level failures)
	Steps    []stepView
	Downtime *downtimeView
}

type stepView struct {
	Name, Seconds string
}

func (p *page) buildDetail(r *store.Run) detailView {
	now := p.o.Now()
	v := detailView{Base: "../", Run: runView(r, now), Owner: r.Owner, RunIDs: r.RunIDs, Downtime: downtimeOf(r, now)}
	named := map[string]bool{}
	for _, c := range r.Checks {
		v.Checks = append(v.Checks, checkView(c))
		named[c.Name] = true
	}
	for _, f := range r.Failed {
		if !named[f.Name] {
			v.Failing = append(v.Failing, Failing{Name: f.Name, Message: f.Details})
		}
	}
	for _, s := range r.Steps {
		v.Steps = append(v.Steps, stepView{Name: s.Name, Seconds: formatSeconds(s.Seconds)})
	}
	return v
}
