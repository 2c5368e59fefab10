package scenario

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// compChecks builds the comprehensive suite from a layout; the outcomes let
// later checks see earlier ones (a guest check is skipped when its VM's ssh
// failed; http waits for the hostname ssh read; a blocked check for its
// control).
type compChecks struct {
	o      ComprehensiveOptions
	l      *layout
	ssh    map[string]*outcome // by label
	boot   map[string]time.Duration
	window time.Duration
}

// Validations reads the fixture's outputs and returns three stages, each run
// to the end with every result reported: reach (the runner pings, logs in to
// and fetches the page of each VM), from-guest (gateway, outside, metadata,
// east-west, path MTU, jumbo frames) and security-groups (allowed and
// blocked, each blocked probe paired with a control from the same source).
func (s *Comprehensive) Validations(ctx context.Context, c *cloud.Cloud, out tf.Outputs, logf func(string, ...any)) (*Suite, error) {
	l, err := readLayout(out)
	if err != nil {
		return nil, err
	}
	byAddress := map[string][2]string{}
	for _, sv := range l.all() {
		byAddress[net.JoinHostPort(sv.FloatingIP, "22")] = [2]string{sv.ID, sv.Name}
	}
	l.hostKeys = probe.NewVerifiedHostKeys(consoleHostKeys(c, byAddress), hostKeyConsoleWait, func(p probe.HostKeyPin) {
		logf("%s", p)
	})
	for _, sv := range l.all() {
		sv.host = probe.Host{Address: sv.FloatingIP, User: s.o.SSHUser, Signer: s.key.Signer, HostKeys: l.hostKeys}
	}
	var ids []string
	for _, sv := range l.all() {
		ids = append(ids, sv.ID)
		logf("run %s: %s %s (%s) on %q: fixed %s, floating %s", l.runID, sv.label, sv.Name, sv.ID, sv.HypervisorHostname, sv.FixedIP, sv.FloatingIP)
	}
	logf("network mtu %d, gateway %s, outside %s", l.networkMTU, l.gateway, l.externalTarget)
	cc := newCompChecks(s.o, l)
	cc.boot = bootTimes(ctx, c, l.runID)
	return &Suite{Stages: cc.stages(), ServerIDs: ids, HostKeys: l.hostKeys}, nil
}

func newCompChecks(o ComprehensiveOptions, l *layout) *compChecks {
	cc := &compChecks{o: o, l: l, ssh: map[string]*outcome{}, window: o.BlockedWindow}
	if cc.window <= 0 {
		cc.window = defaultBlockedWindow
	}
	for _, sv := range l.all() {
		cc.ssh[sv.label] = newOutcome("ssh/" + sv.label)
	}
	return cc
}

// bootTimes is each server's time from creation to launch (nova's
// launched_at), by id, from one list call; empty when the cloud does not say.
func bootTimes(ctx context.Context, c *cloud.Cloud, runID string) map[string]time.Duration {
	out := map[string]time.Duration{}
	compute, err := c.Compute()
	if err != nil {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pages, err := servers.List(compute, servers.ListOpts{Name: runID}).AllPages(ctx)
	if err != nil {
		return out
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return out
	}
	for _, s := range all {
		if !s.LaunchedAt.IsZero() && !s.Created.IsZero() {
			out[s.ID] = s.LaunchedAt.Sub(s.Created)
		}
	}
	return out
}

func (cc *compChecks) stages() []Stage {
	n := cc.o.MaxParallel
	if n <= 0 {
		n = defaultMaxParallel
	}
	return []Stage{
		{Name: "reach", Checks: cc.reach(), Concurrency: n},
		{Name: "from-guest", Checks: cc.fromGuest(), Concurrency: n},
		{Name: "security-groups", Checks: cc.securityGroups(), Concurrency: n},
	}
}

func (cc *compChecks) details(sv *compServer) map[string]string {
	d := map[string]string{"run_id": cc.l.runID, "server": sv.Name, "server_id": sv.ID, "floating_ip": sv.FloatingIP, "fixed_ip": sv.FixedIP, "role": sv.Role}
	for k, v := range map[string]string{"requested_host": sv.RequestedHost, "hypervisor_hostname": sv.HypervisorHostname, "availability_zone": sv.AvailabilityZone} {
		if v != "" {
			d[k] = v
		}
	}
	if b, ok := cc.boot[sv.ID]; ok {
		d["boot_seconds"] = fmt.Sprintf("%.1f", b.Seconds())
	}
	return d
}

func (cc *compChecks) pairDetails(a, b *compServer) map[string]string {
	return map[string]string{"run_id": cc.l.runID, "from": a.Name, "from_id": a.ID, "to": b.Name, "to_id": b.ID, "to_fixed_ip": b.FixedIP}
}

// reach: the runner pings each host VM (retried: boot has just ended), logs
// in (and reads the hostname) and fetches its page; ssh/target is the
// control of the blocked checks of the target.
func (cc *compChecks) reach() []check.Check {
	var vs []check.Check
	for _, sv := range cc.l.hosts {
		vs = append(vs, check.Check{Name: "ping/" + sv.label, Details: cc.details(sv), Run: func(ctx context.Context) error {
			return probe.Ping(ctx, sv.FloatingIP)
		}})
	}
	for _, sv := range cc.l.all() {
		vs = append(vs, check.Check{Name: "ssh/" + sv.label, Details: cc.details(sv), Run: recorded(cc.ssh[sv.label], func(ctx context.Context) (string, error) {
			out, err := probe.SSH(ctx, sv.host, "hostname")
			if err != nil {
				return "", err
			}
			name := strings.TrimSpace(out)
			if name == "" {
				return "", fmt.Errorf("ssh %s: hostname printed nothing", sv.host)
			}
			check.SetDetail(ctx, "hostname", name)
			return name, nil
		})})
	}
	for _, sv := range cc.l.hosts {
		vs = append(vs, check.Check{Name: "http/" + sv.label, Details: cc.details(sv), Run: func(ctx context.Context) error {
			// the page shows the hostname ssh read; without a login, any page
			name, err, _ := cc.ssh[sv.label].wait(ctx)
			if err != nil {
				name = ""
				check.SetDetail(ctx, "note", "ssh failed: any page accepted")
			}
			return probe.HTTP(ctx, "http://"+sv.FloatingIP+"/", 200, name)
		}})
	}
	return vs
}

// sshFailed skips a guest check whose VM could not be logged in to.
func (cc *compChecks) sshFailed(sv *compServer) error {
	if err, failed := cc.ssh[sv.label].failed(); failed {
		if reason, skip := check.IsSkip(err); skip {
			return check.Skipf("ssh/%s was skipped: %s", sv.label, reason)
		}
		return check.Skipf("ssh/%s failed: %v", sv.label, err)
	}
	return nil
}

// fromGuest: each host VM pings its gateway and the outside, reads the
// metadata service; the VMs ping each other around the ring (or the mesh),
// search the path MTU and, on a jumbo network, send a full-size DF packet.
func (cc *compChecks) fromGuest() []check.Check {
	var vs []check.Check
	for _, sv := range cc.l.hosts {
		d := cc.details(sv)
		gw := withDetail(d, "gateway_ip", cc.l.gateway)
		vs = append(vs, check.Check{Name: "gateway/" + sv.label, Details: gw, Run: cc.guest(sv, func(ctx context.Context) error {
			return guestPing(ctx, sv.host, cc.l.gateway)
		})})
		ext := withDetail(d, "external_address", cc.l.externalTarget)
		vs = append(vs, check.Check{Name: "external/" + sv.label, Details: ext, Run: cc.guest(sv, func(ctx context.Context) error {
			if cc.l.externalTarget == "" {
				return check.Skip("no address outside the cloud to reach: the external network's subnets are not visible to this user; set CLOUDPULSE_EXTERNAL_PROBE")
			}
			if err := guestPing(ctx, sv.host, cc.l.externalTarget); err != nil {
				return fmt.Errorf("reach outside (%s) through SNAT/floating IP: %w", cc.l.externalTarget, err)
			}
			return nil
		})})
		vs = append(vs, check.Check{Name: "metadata/" + sv.label, Details: d, Run: cc.guest(sv, func(ctx context.Context) error {
			return guestMetadata(ctx, sv.host, sv.ID)
		})})
	}
	ps := pairs(len(cc.l.hosts), cc.o.FullMesh)
	for _, p := range ps {
		a, b := cc.l.hosts[p[0]], cc.l.hosts[p[1]]
		vs = append(vs, check.Check{Name: "east-west/" + a.label + "→" + b.label, Details: cc.pairDetails(a, b), Run: cc.guest(a, func(ctx context.Context) error {
			return guestPing(ctx, a.host, b.FixedIP)
		})})
	}
	for _, p := range ps {
		a, b := cc.l.hosts[p[0]], cc.l.hosts[p[1]]
		pair := "mtu/" + a.label + "→" + b.label
		d := withDetail(cc.pairDetails(a, b), "network_mtu", fmt.Sprint(cc.l.networkMTU))
		vs = append(vs, check.Check{Name: pair, Details: d, Run: cc.guest(a, func(ctx context.Context) error {
			if cc.l.networkMTU < 576 {
				return fmt.Errorf("%s: the network's mtu is %d: nothing to compare the path with", pair, cc.l.networkMTU)
			}
			found, err := pathMTU(ctx, a.host, b.FixedIP, cc.l.networkMTU)
			if err != nil {
				return fmt.Errorf("%s: %w", pair, err)
			}
			check.SetDetail(ctx, "path_mtu", fmt.Sprint(found))
			return mtuVerdict(pair, found, cc.l.networkMTU)
		})})
	}
	if cc.l.networkMTU > 1500 {
		for _, p := range ps {
			a, b := cc.l.hosts[p[0]], cc.l.hosts[p[1]]
			d := withDetail(cc.pairDetails(a, b), "network_mtu", fmt.Sprint(cc.l.networkMTU))
			vs = append(vs, check.Check{Name: "jumbo/" + a.label + "→" + b.label, Details: d, Run: cc.guest(a, func(ctx context.Context) error {
				out, err := probe.SSH(ctx, a.host, jumboScript(b.FixedIP, cc.l.networkMTU))
				if err != nil {
					return fmt.Errorf("a DF packet of %d bytes (the network's mtu) from %s to %s did not pass: %w (%s)", cc.l.networkMTU, a.label, b.label, err, strings.TrimSpace(out))
				}
				return nil
			})})
		}
	}
	return vs
}

// guest runs fn unless sv's ssh failed (then it is skipped, naming that).
func (cc *compChecks) guest(sv *compServer, fn func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := cc.sshFailed(sv); err != nil {
			return err
		}
		return fn(ctx)
	}
}

// guestMetadata fetches the metadata service from inside the guest until its
// meta_data.json names the server.
func guestMetadata(ctx context.Context, h probe.Host, serverID string) error {
	const cmd = "timeout 10 wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json"
	var last string
	err := probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		out, err := probe.SSH(ctx, h, cmd)
		last = excerpt(out)
		if err != nil {
			return false, err
		}
		if !strings.Contains(out, serverID) {
			return false, fmt.Errorf("meta_data.json does not name server %s: %q", serverID, last)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("metadata service (169.254.169.254) from %s: %w", h.Address, err)
	}
	return nil
}

func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func withDetail(d map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(d)+1)
	for a, b := range d {
		out[a] = b
	}
	out[k] = v
	return out
}
