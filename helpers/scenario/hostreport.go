package scenario

import (
	"strconv"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// HostReport is what one VM (labelled by its compute host, vm-N or target)
// went through in a run: its checks with their timings.
type HostReport struct {
	Host        string      `json:"host"`
	Server      string      `json:"server,omitempty"`
	ServerID    string      `json:"server_id,omitempty"`
	BootSeconds float64     `json:"boot_seconds,omitempty"` // nova: created → launched
	Seconds     float64     `json:"seconds"`                // first check's start to last check's end
	Passed      int         `json:"passed"`
	Failed      int         `json:"failed"`
	Skipped     int         `json:"skipped"`
	Checks      []HostCheck `json:"checks"`
}

// HostCheck is one check in a HostReport.
type HostCheck struct {
	Name    string       `json:"name"`
	Status  check.Status `json:"status"`
	Seconds float64      `json:"seconds"`
	Detail  string       `json:"detail,omitempty"` // the error or skip reason
}

// HostLabel is the VM a check's name is about: ping/compute-1 → compute-1,
// east-west/compute-1→compute-2 → compute-1 (the source), sg/runner→target/icmp
// → target (the runner is not a VM). Empty for a check of the whole run
// (host-coverage).
func HostLabel(name string) string {
	_, rest, ok := strings.Cut(name, "/")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "/")
	from, to, pair := strings.Cut(rest, "→")
	if pair && (from == "runner" || from == "non-peer") {
		return to
	}
	return from
}

// ByHost groups a run's checks by the VM they are about (HostLabel), in run
// order, with their durations; checks of the whole run are left out.
func ByHost(res Result) map[string]HostReport {
	out := map[string]HostReport{}
	first := map[string]time.Time{}
	last := map[string]time.Time{}
	for _, r := range res.Checks {
		h := HostLabel(r.Name)
		if h == "" {
			continue
		}
		hr := out[h]
		hr.Host = h
		if hr.Server == "" {
			hr.Server, hr.ServerID = serverOf(r.Details)
		}
		if b, err := strconv.ParseFloat(r.Details["boot_seconds"], 64); err == nil && hr.BootSeconds == 0 {
			hr.BootSeconds = b
		}
		switch r.Status() {
		case check.Passed:
			hr.Passed++
		case check.Failed:
			hr.Failed++
		case check.Skipped:
			hr.Skipped++
		}
		hr.Checks = append(hr.Checks, HostCheck{Name: r.Name, Status: r.Status(), Seconds: r.Duration.Seconds(), Detail: r.Detail()})
		if !r.StartedAt.IsZero() {
			if f, ok := first[h]; !ok || r.StartedAt.Before(f) {
				first[h] = r.StartedAt
			}
			if end := r.StartedAt.Add(r.Duration); end.After(last[h]) {
				last[h] = end
			}
			hr.Seconds = last[h].Sub(first[h]).Seconds()
		}
		out[h] = hr
	}
	return out
}

// serverOf is the server a check's details name: its own, or a pair's source.
func serverOf(d map[string]string) (string, string) {
	if d["server"] != "" {
		return d["server"], d["server_id"]
	}
	return d["from"], d["from_id"]
}
