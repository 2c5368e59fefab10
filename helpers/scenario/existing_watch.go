package scenario

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/probe"
)

// ExistingWatchPaths are the data-plane paths of a read-only snapshot (of a
// tenant's existing servers) that the downtime watcher can probe without the
// tenant's ssh key: per ACTIVE server with a floating IP, ping when its
// security groups let icmp in from this machine, and a TCP connect to each
// tcp port they let in (at most three, as the snapshot's checks), named
// ping/<server> and tcp-<port>/<server>, with the network threshold (0: the
// default).
func ExistingWatchPaths(dir string, network time.Duration) ([]probe.WatchPath, error) {
	if network == 0 {
		network = NetworkDowntimeThreshold
	}
	snap, err := LoadSnapshot(dir, "")
	if err != nil {
		return nil, err
	}
	if snap.Mode != ModeExisting {
		return nil, fmt.Errorf("upgrade: the snapshot in %s is not of existing resources (mode %q)", dir, snap.Mode)
	}
	var servers []ExistingServer
	if err := snap.Before.Decode("servers", &servers); err != nil {
		return nil, fmt.Errorf("the snapshot's outputs: %w", err)
	}
	names := map[string]int{}
	for _, s := range servers {
		names[s.Name]++
	}
	var paths []probe.WatchPath
	with := func(p probe.WatchPath) { p.Threshold = network; paths = append(paths, p) }
	for _, s := range servers {
		if s.Status != "ACTIVE" || len(s.FloatingIPs) == 0 {
			continue
		}
		label := s.Name
		if label == "" || names[s.Name] > 1 || strings.Contains(label, "/") {
			label = s.ID
		}
		ip := s.FloatingIPs[0].Address
		from, _ := runnerAddr(ip)
		if allowsFrom(s.SecurityGroupRules, "icmp", 0, from) {
			with(probe.PingPath("ping/"+label, ip))
		}
		for _, port := range allowedTCPPorts(s.SecurityGroupRules, from) {
			with(probe.TCPPath("tcp-"+strconv.Itoa(port)+"/"+label, net.JoinHostPort(ip, strconv.Itoa(port))))
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("upgrade: no path of the snapshot's servers to watch (none ACTIVE with a floating IP that lets icmp or tcp in from here)")
	}
	return paths, nil
}
