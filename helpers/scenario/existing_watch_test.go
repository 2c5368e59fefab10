package scenario

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A read-only snapshot's watch paths are what its security groups let in
// (ping, tcp ports) per ACTIVE server with a floating IP, with the network
// threshold; a snapshot with nothing to probe is an error.
func TestExistingWatchPaths(t *testing.T) {
	old := runnerAddr
	t.Cleanup(func() { runnerAddr = old })
	runnerAddr = func(string) (netip.Addr, bool) { return netip.MustParseAddr("172.24.4.1"), true }
	save := func(servers ...ExistingServer) string {
		dir := t.TempDir()
		require.NoError(t, SaveSnapshot(dir, &Snapshot{Format: snapshotFormat, Mode: ModeExisting, Fixture: ExistingFixture,
			RunID: "cpup1", Before: outputs(servers...), Cloud: "lab"}))
		return dir
	}
	web := existingWeb()
	web.SecurityGroupRules = append(web.SecurityGroupRules,
		ExistingRule{Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortMin: 80, PortMax: 80})
	off := existingWeb()
	off.ID, off.Name, off.Status = "s2", "db-1", "SHUTOFF"
	paths, err := ExistingWatchPaths(save(web, off), 0)
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		names = append(names, p.Name)
		assert.Equal(t, NetworkDowntimeThreshold, p.Threshold, p.Name)
	}
	assert.Equal(t, []string{"ping/web-1", "tcp-22/web-1", "tcp-80/web-1"}, names)

	paths, err = ExistingWatchPaths(save(web), 3*time.Second)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, paths[0].Threshold)

	_, err = ExistingWatchPaths(save(off), 0)
	assert.EqualError(t, err, "upgrade: no path of the snapshot's servers to watch (none ACTIVE with a floating IP that lets icmp or tcp in from here)")
}
