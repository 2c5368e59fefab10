package status

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// overviewView is the overview page.
type overviewView struct {
	Base      string
	Refresh   int // seconds; 0: none
	Generated When
	Clouds    []cloudView
	Empty     bool
}

// cloudView is one cloud's families and its last upgrade downtime.
type cloudView struct {
	Name     string
	Families []familyView
	Downtime *downtimeView
}

// familyView is one family on one cloud.
type familyView struct {
	Family string
	Last   *RunView // nil: never ran
	Strip  []RunView
	// Failing are the failed checks of the last passed or failed run (FailingRun).
	Failing    []Failing
	FailingRun *RunView
}

type groupKey struct{ cloud, family string }

func (p *page) buildOverview(ctx context.Context) (overviewView, error) {
	now := p.o.Now()
	v := overviewView{Generated: when(now, now)}
	if p.o.Refresh > 0 {
		v.Refresh = int(p.o.Refresh / time.Second)
	}
	latest, _, err := p.st.List(ctx, store.Filter{Limit: scanRuns})
	if err != nil {
		return v, fmt.Errorf("list the latest runs: %w", err)
	}
	seen := map[groupKey]bool{}
	var keys []groupKey
	add := func(k groupKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, c := range p.o.Clouds {
		for _, f := range p.o.Families {
			add(groupKey{c, f})
		}
	}
	for _, r := range latest {
		add(groupKey{r.Cloud, r.Type})
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.cloud, b.cloud), cmp.Compare(familyOrder(a.family), familyOrder(b.family)),
			cmp.Compare(a.family, b.family))
	})

	for _, k := range keys { // sorted: a cloud's families are consecutive
		runs, _, err := p.st.List(ctx, store.Filter{Cloud: k.cloud, Type: k.family, Limit: p.o.Strip})
		if err != nil {
			return v, fmt.Errorf("list the runs of %s on %s: %w", k.family, k.cloud, err)
		}
		if len(v.Clouds) == 0 || v.Clouds[len(v.Clouds)-1].Name != k.cloud {
			v.Clouds = append(v.Clouds, cloudView{Name: k.cloud})
		}
		cv := &v.Clouds[len(v.Clouds)-1]
		cv.Families = append(cv.Families, family(k.family, runs, now))
		if cv.Downtime == nil {
			for i := range runs {
				if d := downtimeOf(&runs[i], now); d != nil {
					cv.Downtime = d
					break
				}
			}
		}
	}
	v.Empty = len(v.Clouds) == 0
	return v, nil
}

// family builds one family's row from its runs, newest first.
func family(name string, runs []store.Run, now time.Time) familyView {
	f := familyView{Family: name}
	if len(runs) == 0 {
		return f
	}
	last := runView(&runs[0], now)
	f.Last = &last
	for i := len(runs) - 1; i >= 0; i-- { // oldest left, newest right
		f.Strip = append(f.Strip, runView(&runs[i], now))
	}
	// the failing checks of the last run that has results: a cancelled or
	// interrupted run has none, and "none failing" would read as healthy
	for i := range runs {
		if r := &runs[i]; r.State == store.StatePassed || r.State == store.StateFailed {
			rv := runView(r, now)
			f.FailingRun = &rv
			f.Failing = failing(r)
			if len(f.Failing) == 0 && r.State == store.StateFailed {
				f.Failing = []Failing{{Name: "run", Message: cmp.Or(r.Error, "failed without a failed check")}}
			}
			break
		}
	}
	return f
}

// familyOrder puts the families in the order an operator reads them: fast to slow.
func familyOrder(f string) int {
	i := slices.Index([]string{"operator", "endpoint", "functional", "comprehensive", "upgrade", "all"}, f)
	if i < 0 {
		return 100
	}
	return i
}
