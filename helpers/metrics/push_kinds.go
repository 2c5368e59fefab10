package metrics

import (
	"context"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// The families of the runs that are not checks, in the grouping key.
const (
	FamilyCleanup = "cleanup"
	FamilyUpgrade = "upgrade"
)

// PushCleanup pushes what a cleanup found of cloudpulse's runs in cloud
// (ObserveCleanup: cloudpulse_cleanup_leftovers per kind, 0 for kinds not
// found) under Job, family "cleanup": what `cpulse cleanup --push` does.
func PushCleanup(ctx context.Context, url, cloudName string, found []scenario.Resource) error {
	r := New()
	r.ObserveCleanup(cloudName, found)
	return r.Push(ctx, url, Job, cloudName, FamilyCleanup)
}

// PushWatch pushes an upgrade watch's downtime and threshold per path
// (ObserveWatch) under Job, family "upgrade": what `cpulse upgrade watch
// --push` does.
func PushWatch(ctx context.Context, url, cloudName string, rep probe.WatchReport) error {
	r := New()
	r.ObserveWatch(cloudName, rep)
	return r.Push(ctx, url, Job, cloudName, FamilyUpgrade)
}
