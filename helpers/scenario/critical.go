package scenario

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// VMPath is one VM's own critical path in a run: what that VM alone had to go
// through, with every other VM and the harness out of the way.
type VMPath struct {
	VM     string          // its label: the compute host (admin), vm-N or target
	Boot   time.Duration   // nova: created → launched (0 when the cloud does not say)
	Stages []time.Duration // per suite stage (Result.Stages), its longest check
	Total  time.Duration   // Boot + the stages' sum
}

// TimeSplit is how a run's wall time splits: its phases, each VM's critical
// path and the serial time the harness adds.
type TimeSplit struct {
	Wall        time.Duration // Result.Wall: init to the end of destroy
	Apply       time.Duration // tofu apply
	Validations time.Duration // first stage's start to last stage's end
	Destroy     time.Duration // tofu destroy
	Stages      []string      // the suite's stage names, as in VMPath.Stages
	VMs         []VMPath      // by label
	Slowest     VMPath        // the VM with the longest critical path
	// Serial is Wall − Slowest.Total − Destroy: what the harness and the
	// run's shared steps add on top of the slowest VM's own work (init, the
	// network, router and image before the servers, tofu noticing ACTIVE,
	// floating IPs, outputs, a check waiting for a slot under MaxParallel,
	// the gaps between stages). Destroy is a shared phase, reported on its
	// own: tofu does not time each server's deletion.
	Serial time.Duration
}

// CriticalPath splits a run's wall time (see TimeSplit). A VM's critical path
// is its boot (nova's created_at → launched_at, the boot_seconds detail) plus,
// stage by stage, the longest of its checks (stages run one after another,
// a stage's checks at once): its checks are those HostLabel names it by
// (a pair check is its source's; a check of the whole run is no VM's). A
// check that waited for a free slot (MaxParallel) is timed from its start,
// so the wait is serial time, not the VM's.
func CriticalPath(res Result) TimeSplit {
	sp := TimeSplit{Wall: res.Wall}
	if res.Timeline != nil {
		for _, st := range res.Timeline.Steps() {
			switch st.Name {
			case "tofu apply":
				sp.Apply += st.Duration
			case "tofu destroy":
				sp.Destroy += st.Duration
			}
		}
	}
	if n := len(res.Stages); n > 0 {
		last := res.Stages[n-1]
		sp.Validations = last.Started.Add(last.Duration).Sub(res.Stages[0].Started)
	}
	paths := map[string]*VMPath{}
	for i, st := range res.Stages {
		sp.Stages = append(sp.Stages, st.Name)
		for _, r := range res.Checks[max(0, st.First):min(st.End, len(res.Checks))] {
			vm := HostLabel(r.Name)
			if vm == "" {
				continue
			}
			p := paths[vm]
			if p == nil {
				p = &VMPath{VM: vm, Stages: make([]time.Duration, len(res.Stages))}
				paths[vm] = p
			}
			p.Stages[i] = max(p.Stages[i], r.Duration)
		}
	}
	byHost := ByHost(res)
	for _, p := range paths {
		p.Boot = time.Duration(byHost[p.VM].BootSeconds * float64(time.Second))
		p.Total = p.Boot
		for _, d := range p.Stages {
			p.Total += d
		}
		sp.VMs = append(sp.VMs, *p)
	}
	slices.SortFunc(sp.VMs, func(a, b VMPath) int { return strings.Compare(a.VM, b.VM) })
	for _, p := range sp.VMs {
		if p.Total > sp.Slowest.Total {
			sp.Slowest = p
		}
	}
	sp.Serial = sp.Wall - sp.Slowest.Total - sp.Destroy
	return sp
}

// String is the split in one line, e.g. "wall 300.0s: apply 150.0s,
// validations 60.0s, destroy 80.0s; slowest VM compute-2: 75.0s (boot 20.0s,
// reach 30.0s, from-guest 20.0s, security-groups 5.0s); serial 145.0s".
func (sp TimeSplit) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wall %.1fs: apply %.1fs, validations %.1fs, destroy %.1fs; ", sp.Wall.Seconds(), sp.Apply.Seconds(), sp.Validations.Seconds(), sp.Destroy.Seconds())
	if sp.Slowest.VM == "" {
		b.WriteString("no VM checked")
	} else {
		fmt.Fprintf(&b, "slowest VM %s: %.1fs (boot %.1fs", sp.Slowest.VM, sp.Slowest.Total.Seconds(), sp.Slowest.Boot.Seconds())
		for i, d := range sp.Slowest.Stages {
			fmt.Fprintf(&b, ", %s %.1fs", sp.Stages[i], d.Seconds())
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "; serial %.1fs", sp.Serial.Seconds())
	return b.String()
}
