package scenario

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// ExistingServer is one server of fixtures/upgrade-existing's "servers" output.
type ExistingServer struct {
	ID                  string               `json:"id"`
	Name                string               `json:"name"`
	Status              string               `json:"status"`
	Host                *string              `json:"host"` // nil unless the caller may see it
	Ports               []ExistingPort       `json:"ports"`
	FloatingIPs         []ExistingFloatingIP `json:"floating_ips"`
	VolumeIDs           []string             `json:"volume_ids"`
	VolumeIDsUnreadable []string             `json:"volume_ids_unreadable"`
	SecurityGroupRules  []ExistingRule       `json:"security_group_rules"`
}

// ExistingPort is one port of an ExistingServer.
type ExistingPort struct {
	ID               string   `json:"id"`
	MAC              string   `json:"mac"`
	Status           string   `json:"status"` // ACTIVE or DOWN
	FixedIPs         []string `json:"fixed_ips"`
	SecurityGroupIDs []string `json:"security_group_ids"`
}

// ExistingFloatingIP is a floating IP of an ExistingServer and the port it is
// associated with ("" when none).
type ExistingFloatingIP struct {
	Address string `json:"address"`
	PortID  string `json:"port_id"`
}

// ExistingRule is a security group rule.
type ExistingRule struct {
	Direction      string `json:"direction"`
	Ethertype      string `json:"ethertype"`
	Protocol       string `json:"protocol"` // "": any
	PortMin        int    `json:"port_min"` // 0: any
	PortMax        int    `json:"port_max"`
	RemoteIPPrefix string `json:"remote_ip_prefix"`
	RemoteGroupID  string `json:"remote_group_id"`
}

func (r ExistingRule) key() string {
	return fmt.Sprintf("%s/%s/%s/%05d-%05d/%s/%s", r.Direction, r.Ethertype, r.Protocol, r.PortMin, r.PortMax, r.RemoteIPPrefix, r.RemoteGroupID)
}

// Bounds of the existing servers' probes: a server that answered before the
// upgrade should answer within these after it.
var (
	existingProbeTimeout = time.Minute
	existingTCPWindow    = 3 * time.Second
	existingMaxTCPPorts  = 3
)

// runnerAddr is the address this machine sends from toward ip (no packet is
// sent), and false when it has no route there.
var runnerAddr = func(ip string) (netip.Addr, bool) {
	conn, err := net.Dial("udp4", net.JoinHostPort(ip, "9"))
	if err != nil {
		return netip.Addr{}, false
	}
	defer conn.Close()
	a, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(a.IP)
	return addr.Unmap(), ok
}

// ExistingChecks compares fixtures/upgrade-existing's outputs before
// (snapshot) and after (verify), and probes what the servers' security groups
// allow from this runner. Per server: existing/<server name>/{status, ports,
// attachments, floating-ip}, and, for an ACTIVE server with a floating IP,
// ping when a group allows icmp ingress from the runner (any address, or a
// prefix holding the runner's source address) and tcp-<port> for each tcp
// port allowed that way (at most 3; a refused connection counts as reachable:
// the packets passed). A server missing from after fails every check, saying
// it is gone. At the snapshot, ExistingChecks(out, out) records the baseline.
func ExistingChecks(before, after tf.Outputs) ([]check.Check, error) {
	var was, now []ExistingServer
	if err := before.Decode("servers", &was); err != nil {
		return nil, fmt.Errorf("the snapshot's outputs: %w", err)
	}
	if len(was) == 0 {
		return nil, errors.New(`the snapshot's output "servers" is empty: nothing to verify`)
	}
	if err := after.Decode("servers", &now); err != nil {
		return nil, fmt.Errorf("the verify read's outputs: %w", err)
	}
	byID := map[string]ExistingServer{}
	for _, s := range now {
		byID[s.ID] = s
	}
	names := map[string]int{}
	for _, s := range was {
		names[s.Name]++
	}
	var checks []check.Check
	for _, b := range was {
		label := b.Name
		if label == "" || names[b.Name] > 1 || strings.Contains(label, "/") {
			label = b.ID // check names must be unique and stable
		}
		a, ok := byID[b.ID]
		var cur *ExistingServer
		if ok {
			cur = &a
		}
		for _, ec := range serverChecks(b, cur) {
			ec.Name = "existing/" + label + "/" + ec.Name
			if ec.Details == nil {
				ec.Details = map[string]string{}
			}
			ec.Details["server_id"] = b.ID
			if cur != nil && cur.Host != nil && *cur.Host != "" {
				ec.Details["host"] = *cur.Host
			}
			checks = append(checks, ec)
		}
	}
	return checks, nil
}

// serverChecks are one server's checks; after is nil when the server is gone.
func serverChecks(before ExistingServer, after *ExistingServer) []check.Check {
	gone := func(name string, f func(a ExistingServer) error) check.Check {
		return check.Check{Name: name, Run: func(ctx context.Context) error {
			if after == nil {
				return fmt.Errorf("server %s (%s) is gone: it was in the snapshot, and Nova no longer has it", before.Name, before.ID)
			}
			return f(*after)
		}}
	}
	checks := []check.Check{
		gone("status", func(a ExistingServer) error { return compareStatus(before, a) }),
		gone("ports", func(a ExistingServer) error { return comparePorts(before, a) }),
		gone("attachments", func(a ExistingServer) error { return compareAttachments(before, a) }),
		gone("floating-ip", func(a ExistingServer) error { return compareFloatingIPs(before, a) }),
	}
	if before.Status != "ACTIVE" || len(before.FloatingIPs) == 0 {
		return checks
	}
	ip := before.FloatingIPs[0].Address
	from, _ := runnerAddr(ip)
	if allowsFrom(before.SecurityGroupRules, "icmp", 0, from) {
		c := gone("ping", func(ExistingServer) error { return nil })
		run := c.Run
		c.Run = func(ctx context.Context) error {
			if err := run(ctx); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, existingProbeTimeout)
			defer cancel()
			return probe.Ping(ctx, ip)
		}
		c.Details = map[string]string{"address": ip}
		checks = append(checks, c)
	}
	for _, port := range allowedTCPPorts(before.SecurityGroupRules, from) {
		c := gone("tcp-"+strconv.Itoa(port), func(ExistingServer) error { return nil })
		run := c.Run
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		c.Run = func(ctx context.Context) error {
			if err := run(ctx); err != nil {
				return err
			}
			return tcpReachable(ctx, addr)
		}
		c.Details = map[string]string{"address": addr}
		checks = append(checks, c)
	}
	return checks
}

// tcpReachable connects to addr until it answers (accepted or refused).
func tcpReachable(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, existingProbeTimeout)
	defer cancel()
	tries := 0
	err := probe.WaitFor(ctx, time.Second, func(ctx context.Context) (bool, error) {
		tries++
		ok, err := probe.TCPOnce(ctx, addr, existingTCPWindow)
		if err == nil && !ok {
			err = fmt.Errorf("no answer within %s", existingTCPWindow)
		}
		return ok, err
	})
	if err != nil {
		return fmt.Errorf("connect to %s (%d attempts; a refused connection would count): %w", addr, tries, err)
	}
	return nil
}

func compareStatus(b, a ExistingServer) error {
	if a.Status != b.Status {
		return fmt.Errorf("server %s: status was %s at the snapshot, now %s", b.Name, b.Status, a.Status)
	}
	return nil
}

func comparePorts(b, a ExistingServer) error {
	now := map[string]ExistingPort{}
	for _, p := range a.Ports {
		now[p.ID] = p
	}
	var probs []string
	for _, p := range b.Ports {
		q, ok := now[p.ID]
		if !ok {
			probs = append(probs, fmt.Sprintf("port %s (%s) is gone", p.ID, p.MAC))
			continue
		}
		delete(now, p.ID)
		if p.Status == "ACTIVE" && q.Status != "ACTIVE" {
			probs = append(probs, fmt.Sprintf("port %s is %s, was ACTIVE", p.ID, q.Status))
		}
		if q.MAC != p.MAC {
			probs = append(probs, fmt.Sprintf("port %s: MAC %s, was %s", p.ID, q.MAC, p.MAC))
		}
		if !sameSet(p.FixedIPs, q.FixedIPs) {
			probs = append(probs, fmt.Sprintf("port %s: fixed IPs %v, were %v", p.ID, q.FixedIPs, p.FixedIPs))
		}
		if !sameSet(p.SecurityGroupIDs, q.SecurityGroupIDs) {
			probs = append(probs, fmt.Sprintf("port %s: security groups %v, were %v", p.ID, q.SecurityGroupIDs, p.SecurityGroupIDs))
		}
	}
	for _, q := range a.Ports {
		if _, ok := now[q.ID]; ok {
			probs = append(probs, fmt.Sprintf("port %s (%s) is new", q.ID, q.MAC))
		}
	}
	return problems("server "+b.Name, probs)
}

func compareAttachments(b, a ExistingServer) error {
	var probs []string
	for _, v := range b.VolumeIDs {
		if !slices.Contains(a.VolumeIDs, v) {
			probs = append(probs, fmt.Sprintf("volume %s is no longer attached", v))
		}
	}
	for _, v := range a.VolumeIDs {
		if !slices.Contains(b.VolumeIDs, v) {
			probs = append(probs, fmt.Sprintf("volume %s is newly attached", v))
		}
	}
	if err := problems("server "+b.Name, probs); err != nil {
		return err
	}
	if len(b.VolumeIDs) == 0 && len(b.VolumeIDsUnreadable) > 0 {
		return check.Skipf("volumes %s have no unique name in the caller's project: no data source can read them", strings.Join(b.VolumeIDsUnreadable, ", "))
	}
	return nil
}

func compareFloatingIPs(b, a ExistingServer) error {
	now := map[string]string{}
	for _, f := range a.FloatingIPs {
		now[f.Address] = f.PortID
	}
	var probs []string
	for _, f := range b.FloatingIPs {
		port, ok := now[f.Address]
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("floating IP %s is gone (it was on port %s)", f.Address, f.PortID))
		case port == "" && f.PortID != "":
			probs = append(probs, fmt.Sprintf("floating IP %s is no longer associated (it was on port %s)", f.Address, f.PortID))
		case port != f.PortID:
			probs = append(probs, fmt.Sprintf("floating IP %s moved from port %s to port %s", f.Address, f.PortID, port))
		}
	}
	return problems("server "+b.Name, probs)
}

func problems(what string, probs []string) error {
	if len(probs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(probs, "; "))
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// allowsFrom says whether an ingress IPv4 rule lets protocol (port, for tcp;
// 0: any port) in from the runner's address from (any address when from is
// not valid: then only rules open to every address count).
func allowsFrom(rules []ExistingRule, protocol string, port int, from netip.Addr) bool {
	for _, r := range rules {
		if ingressFrom(r, from) && protocolMatches(r.Protocol, protocol) &&
			(protocol != "tcp" || port == 0 || r.PortMin == 0 || (port >= r.PortMin && port <= r.PortMax)) {
			return true
		}
	}
	return false
}

func ingressFrom(r ExistingRule, from netip.Addr) bool {
	if r.Direction != "ingress" || (r.Ethertype != "" && r.Ethertype != "IPv4") || r.RemoteGroupID != "" {
		return false
	}
	if r.RemoteIPPrefix == "" {
		return true
	}
	p, err := netip.ParsePrefix(r.RemoteIPPrefix)
	if err != nil {
		return false
	}
	return p.Bits() == 0 && p.Addr().Is4() || from.IsValid() && p.Contains(from)
}

func protocolMatches(rule, want string) bool {
	switch rule {
	case "", "any":
		return true
	case "icmp", "1":
		return want == "icmp"
	case "tcp", "6":
		return want == "tcp"
	}
	return false
}

// allowedTCPPorts are the tcp ports the rules let in from the runner: each
// rule's first port (22 for a rule open to every port), smallest first, at
// most existingMaxTCPPorts.
func allowedTCPPorts(rules []ExistingRule, from netip.Addr) []int {
	var ports []int
	for _, r := range rules {
		if !ingressFrom(r, from) || !protocolMatches(r.Protocol, "tcp") {
			continue
		}
		p := r.PortMin
		if p == 0 {
			p = 22
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	if len(ports) > existingMaxTCPPorts {
		ports = ports[:existingMaxTCPPorts]
	}
	return ports
}
