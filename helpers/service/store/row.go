package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// columns in the order row.args and scanRun use.
const columns = `handle, cloud, type, state, run_trigger, queued, started, finished, failed,
	owner, error, passed, failures, checks, steps, run_ids`

// NewHandle returns a random run handle: 16 hex characters.
func NewHandle() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// args are the values of columns for r.
func args(r *Run) ([]any, error) {
	lists := []any{r.Passed, r.Failed, r.Checks, r.Steps, r.RunIDs}
	texts := make([]any, len(lists))
	for i, l := range lists {
		t, err := encodeList(l)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Handle, err)
		}
		texts[i] = t
	}
	failed := 0
	if r.IsFailed() {
		failed = 1
	}
	a := []any{r.Handle, r.Cloud, r.Type, r.State, r.Trigger,
		nanos(r.Queued), nanos(r.Started), nanos(r.Finished), failed, r.Owner, r.Error}
	return append(a, texts...), nil
}

// encodeList stores an empty list as "" (read back as nil).
func encodeList(l any) (string, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	if s := string(b); s != "null" && s != "[]" {
		return s, nil
	}
	return "", nil
}

func decodeList(text string, into any) error {
	if text == "" {
		return nil
	}
	return json.Unmarshal([]byte(text), into)
}

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (Run, error) {
	var (
		r                         Run
		queued, started, finished int64
		failed                    int
		passed, failures          string
		checks, steps, runIDs     string
	)
	if err := sc.Scan(&r.Handle, &r.Cloud, &r.Type, &r.State, &r.Trigger,
		&queued, &started, &finished, &failed, &r.Owner, &r.Error,
		&passed, &failures, &checks, &steps, &runIDs); err != nil {
		return Run{}, err
	}
	r.Queued, r.Started, r.Finished = fromNanos(queued), fromNanos(started), fromNanos(finished)
	for _, l := range []struct {
		text string
		into any
	}{{passed, &r.Passed}, {failures, &r.Failed}, {checks, &r.Checks}, {steps, &r.Steps}, {runIDs, &r.RunIDs}} {
		if err := decodeList(l.text, l.into); err != nil {
			return Run{}, fmt.Errorf("run %s: decode stored list: %w", r.Handle, err)
		}
	}
	return r, nil
}
