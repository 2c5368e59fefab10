package check

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes results as an aligned table (NAME STATUS DURATION DETAIL)
// followed by a one-line summary, for people reading a terminal or a test log.
func WriteTable(w io.Writer, results []Result) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tDURATION\tDETAIL")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Status(), formatDuration(r.Duration), oneLine(r.Detail()))
	}
	tw.Flush()
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	s := Summarize(results)
	fmt.Fprintf(&out, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed, s.Skipped)
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write results table: %w", err)
	}
	return nil
}

// WriteJSON writes results as an indented JSON array (see Result.MarshalJSON).
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("write results as JSON: %w", err)
	}
	return nil
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// oneLine keeps a table row on one line: error bodies from APIs may carry
// newlines and tabs.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
