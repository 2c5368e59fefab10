package check

import (
	"context"
	"maps"
	"sync"
)

// details is where a running check records what it measured; the Runner puts
// one in the check's context and copies it into the Result.
type details struct {
	mu sync.Mutex
	m  map[string]string
}

type detailsKey struct{}

// SetDetail records key=value on the Result of the check running under ctx
// (an address it probed, a size it found). Outside a Runner it does nothing.
func SetDetail(ctx context.Context, key, value string) {
	d, ok := ctx.Value(detailsKey{}).(*details)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]string{}
	}
	d.m[key] = value
}

func withDetails(ctx context.Context, static map[string]string) (context.Context, *details) {
	d := &details{m: maps.Clone(static)}
	return context.WithValue(ctx, detailsKey{}, d), d
}

func (d *details) snapshot() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.m) == 0 {
		return nil
	}
	return maps.Clone(d.m)
}
