package apiclient

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// Check starts a run (POST /cpulse/check) and returns its handle at once.
func (c *Client) Check(ctx context.Context, r CheckRequest) (*Accepted, error) {
	if r.Type == "" {
		return nil, errors.New("check: no type")
	}
	var a Accepted
	if err := c.do(ctx, "POST", "/cpulse/check", nil, r, &a); err != nil {
		return nil, err
	}
	if a.Handle == "" {
		return nil, errors.New("POST /cpulse/check: the answer has no handle")
	}
	return &a, nil
}

// Result reads one run (GET /cpulse/result?handle=H).
func (c *Client) Result(ctx context.Context, handle string) (*Result, error) {
	if handle == "" {
		return nil, errors.New("result: no handle")
	}
	var r Result
	if err := c.do(ctx, "GET", "/cpulse/result", url.Values{"handle": {handle}}, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ResultsPage reads one page of the history (GET /cpulse/results).
func (c *Client) ResultsPage(ctx context.Context, q Query) (*Page, error) {
	v := url.Values{}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if q.Cloud != "" {
		v.Set("cloud", q.Cloud)
	}
	if q.Failed {
		v.Set("failed", "true")
	}
	if q.Since > 0 {
		v.Set("since", q.Since.String())
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var p Page
	if err := c.do(ctx, "GET", "/cpulse/results", v, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Results walks the history from q.Cursor (or the newest) to the end,
// following the pages' cursors; stop ranging to stop reading. An error ends
// the walk.
func (c *Client) Results(ctx context.Context, q Query) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		seen := map[string]bool{}
		for {
			p, err := c.ResultsPage(ctx, q)
			if err != nil {
				yield(Result{}, err)
				return
			}
			for _, r := range p.Results {
				if !yield(r, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			if seen[p.Next] { // a server that hands the same cursor back would loop forever
				yield(Result{}, fmt.Errorf("GET /cpulse/results: cursor %q came back twice", p.Next))
				return
			}
			seen[p.Next] = true
			q.Cursor = p.Next
		}
	}
}

// Cancel asks the service to cancel a run (DELETE /cpulse/check/{handle});
// the scenario destroys what it built before the run ends as cancelled.
func (c *Client) Cancel(ctx context.Context, handle string) (*Cancellation, error) {
	if handle == "" {
		return nil, errors.New("cancel: no handle")
	}
	var r Cancellation
	if err := c.do(ctx, "DELETE", "/cpulse/check/"+url.PathEscape(handle), nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Snapshot starts the upgrade's pre phase (POST /cpulse/snapshot).
func (c *Client) Snapshot(ctx context.Context, r SnapshotRequest) (*SnapshotAccepted, error) {
	var a SnapshotAccepted
	if err := c.do(ctx, "POST", "/cpulse/snapshot", nil, r, &a); err != nil {
		return nil, err
	}
	if a.Handle == "" {
		return nil, errors.New("POST /cpulse/snapshot: the answer has no handle")
	}
	return &a, nil
}

// Health asks GET /healthz and wants {"status": "ok"}.
func (c *Client) Health(ctx context.Context) error {
	var h struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, "GET", "/healthz", nil, nil, &h); err != nil {
		return err
	}
	if h.Status != "ok" {
		return fmt.Errorf("GET /healthz: status %q, want \"ok\"", h.Status)
	}
	return nil
}

// Wait polls the run every poll (default 2s) until it reaches a final state
// and returns it. A lost connection or a 5xx (the service restarting) is
// retried until ctx ends; any other error (an unknown handle, a refused
// token) ends the wait at once. onState, when not nil, sees each new state.
func (c *Client) Wait(ctx context.Context, handle string, poll time.Duration, onState func(*Result)) (*Result, error) {
	if poll <= 0 {
		poll = 2 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	last := ""
	var lastErr error
	for {
		r, err := c.Result(ctx, handle)
		switch {
		case err == nil:
			lastErr = nil
			if r.State != last && onState != nil {
				onState(r)
			}
			last = r.State
			if Final(r.State) {
				return r, nil
			}
		case ctx.Err() != nil: // cut short by the caller: the last real answer says more
		case !transient(err):
			return nil, err
		default:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("wait for %s: %w (last: %v)", handle, ctx.Err(), lastErr)
			}
			if last == "" {
				return nil, fmt.Errorf("wait for %s: %w", handle, ctx.Err())
			}
			return nil, fmt.Errorf("wait for %s (still %s): %w", handle, last, ctx.Err())
		case <-t.C:
		}
	}
}

// transient says whether a failed request may succeed if asked again.
func transient(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == 429
	}
	return !errors.Is(err, context.Canceled)
}
