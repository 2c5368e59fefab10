package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
	"github.com/cloudpulse/cloudpulse/helpers/check"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// checkResults turns a remote run's checks into the local model, so that
// the table is the one the local `cpulse check` prints. A result without
// per-check rows falls back to tests_passed and tests_failed.
func checkResults(r *apiclient.Result) []check.Result {
	var out []check.Result
	for _, c := range r.Checks {
		res := check.Result{Name: c.Name, Duration: time.Duration(c.Seconds * float64(time.Second))}
		switch strings.ToLower(c.Status) {
		case "ok", "pass", "passed":
			res.OK = true
		case "skip", "skipped":
			res.Skipped, res.Reason = true, c.Error
		default:
			res.Error = c.Error
		}
		out = append(out, res)
	}
	if len(out) > 0 {
		return out
	}
	for _, name := range r.TestsPassed {
		out = append(out, check.Result{Name: name, OK: true})
	}
	for _, f := range r.TestsFailed {
		names := make([]string, 0, len(f))
		for name := range f {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, check.Result{Name: name, Error: f[name]})
		}
	}
	return out
}

// writeResult prints a run: a header, its checks as the local table, and
// (to stderr, as the local run does) its step timings.
func writeResult(stdout, stderr io.Writer, r *apiclient.Result) error {
	fmt.Fprintf(stdout, "%s  %s on %s  %s  queued %s", r.Handle, r.Type, r.Cloud, r.State, stamp(r.Timestamp))
	if d := runDuration(*r); d != "" {
		fmt.Fprintf(stdout, "  took %s", d)
	}
	fmt.Fprintln(stdout)
	if r.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", r.Error)
	}
	if results := checkResults(r); len(results) > 0 {
		fmt.Fprintln(stdout)
		if err := check.WriteTable(stdout, results); err != nil {
			return err
		}
	}
	if len(r.Steps) > 0 {
		fmt.Fprintf(stderr, "%s steps:\n", r.Type)
		tw := tabwriter.NewWriter(stderr, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tSECONDS")
		for _, s := range r.Steps {
			fmt.Fprintf(tw, "%s\t%.1f\n", s.Name, s.Seconds)
		}
		tw.Flush()
	}
	return nil
}

// writeRuns prints the history as a table, newest first.
func writeRuns(w io.Writer, runs []apiclient.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HANDLE\tTYPE\tCLOUD\tSTATE\tQUEUED\tDURATION\tFAILED")
	for _, r := range runs {
		var failed []string
		for _, f := range r.TestsFailed {
			for name := range f {
				failed = append(failed, name)
			}
		}
		sort.Strings(failed)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Handle, r.Type, r.Cloud, r.State, stamp(r.Timestamp), runDuration(r), strings.Join(failed, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	noun := "runs"
	if len(runs) == 1 {
		noun = "run"
	}
	_, err := fmt.Fprintf(w, "%d %s\n", len(runs), noun)
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// runDuration is finished - started, "" while the run has not finished.
func runDuration(r apiclient.Result) string {
	if r.Started == nil || r.Finished == nil {
		return ""
	}
	return r.Finished.Sub(*r.Started).Round(100 * time.Millisecond).String()
}
