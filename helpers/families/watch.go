package families

import (
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
)

// WatchPaths are the data-plane paths of the snapshot kept in dir that an
// upgrade watch probes: for a snapshot that built its resources, every path
// of `cpulse upgrade watch` (scenario.WatchPaths: ping, ssh, http, metadata,
// VM↔VM); for a read-only snapshot of existing servers, what can be probed
// without their ssh key (scenario.ExistingWatchPaths: ping and the tcp ports
// their security groups let in). network and metadata are the thresholds
// (0: the defaults).
func WatchPaths(dir string, network, metadata time.Duration) ([]probe.WatchPath, error) {
	snap, err := scenario.LoadSnapshot(dir, "")
	if err != nil {
		return nil, err
	}
	if snap.Mode == scenario.ModeExisting {
		return scenario.ExistingWatchPaths(dir, network)
	}
	return scenario.WatchPaths(dir, network, metadata)
}
