package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// listComputeServices lists the nova-compute services (admin).
func listComputeServices(ctx context.Context, cc *serviceClient) ([]services.Service, error) {
	pages, err := services.List(cc, services.ListOpts{Binary: "nova-compute"}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list nova-compute services: %w", err)
	}
	all, err := services.ExtractServices(pages)
	if err != nil {
		return nil, fmt.Errorf("list nova-compute services: %w", err)
	}
	return all, nil
}

// classifyHosts sorts the nova-compute services of want (all when empty):
// enabled and up → a VM is pinned there; disabled by an operator → boot/<host>
// skipped with the operator's reason; enabled but down → boot/<host> failed,
// naming the host and its last heartbeat. A wanted host that is no
// nova-compute host, or no usable host at all, is an error.
func classifyHosts(svcs []services.Service, want []string, now time.Time) ([]string, []check.Result, error) {
	byHost := map[string]services.Service{}
	var known []string
	for _, s := range svcs {
		if s.Binary != "" && s.Binary != "nova-compute" {
			continue
		}
		if _, dup := byHost[s.Host]; !dup {
			known = append(known, s.Host)
		}
		byHost[s.Host] = s
	}
	slices.Sort(known)
	if len(want) == 0 {
		want = known
	} else {
		var unknown []string
		for _, h := range want {
			if _, ok := byHost[h]; !ok {
				unknown = append(unknown, h)
			}
		}
		if len(unknown) > 0 {
			return nil, nil, fmt.Errorf("CLOUDPULSE_HOSTS names %s, not a nova-compute host of this cloud (hosts: %s)",
				strings.Join(unknown, ", "), strings.Join(known, ", "))
		}
	}
	var use []string
	var results []check.Result
	for _, h := range want {
		s := byHost[h]
		d := map[string]string{"host": h, "zone": s.Zone, "status": s.Status, "state": s.State}
		if !s.UpdatedAt.IsZero() {
			d["updated_at"] = s.UpdatedAt.UTC().Format(time.RFC3339)
		}
		switch {
		case s.Status == "disabled":
			reason := s.DisabledReason
			if reason == "" {
				reason = "no reason given"
			}
			d["disabled_reason"] = s.DisabledReason
			results = append(results, check.Result{Name: "boot/" + h, Skipped: true, StartedAt: now, Details: d,
				Reason: fmt.Sprintf("nova-compute on %s is disabled by an operator: %s", h, reason)})
		case s.State != "up" || s.ForcedDown:
			msg := fmt.Sprintf("nova-compute on %s is enabled but down (%s)", h, heartbeat(s, now))
			results = append(results, check.Result{Name: "boot/" + h, StartedAt: now, Details: d, Err: errors.New(msg), Error: msg})
		default:
			use = append(use, h)
		}
	}
	if len(use) == 0 {
		var why []string
		for _, r := range results {
			why = append(why, r.Detail())
		}
		if len(why) == 0 {
			return nil, results, errors.New("no nova-compute host found")
		}
		return nil, results, fmt.Errorf("no compute host is enabled and up: %s", strings.Join(why, "; "))
	}
	return use, results, nil
}

// hostZone is the availability zone of the hosts: the fixture pins every VM
// as "<zone>:<host>" with one zone.
func hostZone(svcs []services.Service, hosts []string) (string, error) {
	zoneOf := map[string]string{}
	for _, s := range svcs {
		zoneOf[s.Host] = s.Zone
	}
	var zones []string
	for _, h := range hosts {
		if z := zoneOf[h]; z != "" && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	switch len(zones) {
	case 0:
		return "", nil
	case 1:
		return zones[0], nil
	}
	slices.Sort(zones)
	return "", fmt.Errorf("the hosts %v are in several availability zones (%s): the fixture pins through one zone; narrow CLOUDPULSE_HOSTS to the hosts of one zone and run once per zone",
		hosts, strings.Join(zones, ", "))
}

func heartbeat(s services.Service, now time.Time) string {
	var parts []string
	if s.ForcedDown {
		parts = append(parts, "forced down")
	}
	if s.UpdatedAt.IsZero() {
		parts = append(parts, "no heartbeat recorded")
	} else {
		parts = append(parts, fmt.Sprintf("last heartbeat %s, %s ago", s.UpdatedAt.UTC().Format(time.RFC3339), now.Sub(s.UpdatedAt).Round(time.Second)))
	}
	return strings.Join(parts, ", ")
}

// listZones lists the available compute availability zones (the non-detail
// list: members may read it).
func listZones(ctx context.Context, cc *serviceClient) ([]string, error) {
	pages, err := availabilityzones.List(cc).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list availability zones: %w", err)
	}
	all, err := availabilityzones.ExtractAvailabilityZones(pages)
	if err != nil {
		return nil, fmt.Errorf("list availability zones: %w", err)
	}
	var zones []string
	for _, z := range all {
		if z.ZoneState.Available && z.ZoneName != "" && !slices.Contains(zones, z.ZoneName) {
			zones = append(zones, z.ZoneName)
		}
	}
	slices.Sort(zones)
	if len(zones) == 0 {
		return nil, errors.New("no availability zone is available to this user")
	}
	return zones, nil
}

// zoneCoverage is the host-coverage result of a member's run: one VM per
// zone, at least two, spread by the server group policy.
func zoneCoverage(zones []string, servers int, policy string, now time.Time) check.Result {
	return check.Result{Name: "host-coverage", Skipped: true, StartedAt: now,
		Details: map[string]string{"availability_zones": strings.Join(zones, ","), "servers": fmt.Sprint(servers), "server_group_policy": policy},
		Reason: fmt.Sprintf("per-host coverage needs the admin role (to list the compute hosts and pin a VM to each): %d VMs over availability zones %s with %s instead",
			servers, strings.Join(zones, ", "), policy)}
}
