package scenario

import (
	"fmt"
	"net"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// Downtime thresholds, Tempest's defaults: 5 s for the network paths, 6 s for metadata.
const (
	NetworkDowntimeThreshold  = 5 * time.Second
	MetadataDowntimeThreshold = 6 * time.Second
)

// metadataCmd fetches the metadata service's document from inside a VM, once,
// within 5 s (busybox wget's own -T crashes it; the lab's metadata path takes
// 1-4 s under load).
const metadataCmd = "timeout 5 wget -q -O /dev/null http://169.254.169.254/openstack/latest/meta_data.json"

// WatchPaths are the data-plane paths of a snapshot the downtime watcher
// probes during the upgrade, per VM: floating-IP ping, ssh TCP connect, http
// GET, metadata from inside the VM (through a kept ssh session), and VM↔VM for
// every connection (ping from inside the first, through a kept ssh session).
// network and metadata are the thresholds (0: the defaults above).
func WatchPaths(dir string, network, metadata time.Duration) ([]probe.WatchPath, error) {
	if network == 0 {
		network = NetworkDowntimeThreshold
	}
	if metadata == 0 {
		metadata = MetadataDowntimeThreshold
	}
	snap, err := LoadSnapshot(dir, "")
	if err != nil {
		return nil, err
	}
	key, err := loadKey(dir)
	if err != nil {
		return nil, err
	}
	hk, err := snapshotHostKeys(snap, func(string, ...any) {})
	if err != nil {
		return nil, err
	}
	hosts := map[string]probe.Host{}
	fixed := map[string]string{}
	var paths []probe.WatchPath
	with := func(p probe.WatchPath, t time.Duration) { p.Threshold = t; paths = append(paths, p) }
	for _, s := range snap.Servers {
		h := probe.Host{Address: s.FloatingIP, User: snap.SSHUser, Signer: key.Signer, HostKeys: hk}
		hosts[s.VM], fixed[s.VM] = h, s.FixedIP
		with(probe.PingPath("ping/"+s.VM, s.FloatingIP), network)
		with(probe.TCPPath("ssh/"+s.VM, net.JoinHostPort(s.FloatingIP, "22")), network)
		with(probe.HTTPPath("http/"+s.VM, "http://"+s.FloatingIP+"/"), network)
		with(probe.SessionPath("metadata/"+s.VM, h, metadataCmd), metadata)
	}
	for _, c := range snap.Resources.Connections {
		with(probe.SessionPath(fmt.Sprintf("east-west/%s→%s", c[0], c[1]), hosts[c[0]], "ping -c 1 -W 1 "+fixed[c[1]]), network)
	}
	return paths, nil
}

// WatchProbeTimeout bounds each probe of the watcher: above the in-guest
// `ping -W 1` and `timeout 5 wget`, so that their own verdict (exit status)
// is what a failed probe reports. A probe's length does not change the
// downtime measured (an outage runs from the start of the first failed probe
// to the start of the next successful one); it only says when one gives up.
const WatchProbeTimeout = 6 * time.Second
