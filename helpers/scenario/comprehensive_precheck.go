package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// Precheck finds the hosts to cover and verifies, before anything is created,
// that the image (unless one is uploaded), the flavor and the external
// network exist and that the quotas have room; everything missing is listed
// at once. As admin it lists the nova-compute services: one VM is pinned to
// each enabled host that is up, a disabled host is a skip with the operator's
// reason and a host that is down a failure naming it (PrecheckResults). As a
// member it lists the availability zones: one VM per zone, at least two,
// spread by the server group policy, and host-coverage says per-host coverage
// was not possible.
func (s *Comprehensive) Precheck(ctx context.Context, c *cloud.Cloud) error {
	s.pinned, s.hosts, s.hostZone, s.zones, s.servers, s.preChecks = false, nil, "", nil, 0, nil
	var missing []string
	miss := func(format string, args ...any) { missing = append(missing, fmt.Sprintf(format, args...)) }
	now := time.Now()

	admin, err := c.IsAdmin(ctx)
	if err != nil {
		miss("read own token: %v", err)
	}
	if len(s.o.Hosts) > 0 && !admin && err == nil {
		miss("covering the hosts %v (CLOUDPULSE_HOSTS) needs the admin role; %q has not", s.o.Hosts, c.Name)
	}

	var flavor *flavors.Flavor
	cc, cerr := c.Compute()
	if cerr != nil {
		miss("%v", cerr)
	} else {
		if admin {
			if svcs, err := listComputeServices(ctx, cc); err != nil {
				miss("%v", err)
			} else if hosts, results, err := classifyHosts(svcs, s.o.Hosts, now); err != nil {
				miss("%v", err)
			} else if zone, err := hostZone(svcs, hosts); err != nil {
				miss("%v", err)
			} else {
				s.pinned, s.hosts, s.hostZone, s.preChecks = true, hosts, zone, results
			}
		} else if err == nil {
			if zones, err := listZones(ctx, cc); err != nil {
				miss("%v", err)
			} else {
				s.zones, s.servers = zones, max(2, len(zones))
				s.preChecks = append(s.preChecks, zoneCoverage(zones, s.servers, s.o.ServerGroupPolicy, now))
			}
		}
		if flavor, err = findFlavor(ctx, cc, s.o.Flavor); err != nil {
			miss("%v", err)
		}
	}
	servers := s.hostVMs() + 1 // and the target
	if cc != nil {
		computeRoom(ctx, cc, miss, flavor, servers)
	}
	if s.o.ImageFile == "" {
		if ic, err := c.Image(); err != nil {
			miss("%v", err)
		} else if err := findImage(ctx, ic, s.o.Image); err != nil {
			miss("%v", err)
		}
	}
	if nc, err := c.Network(); err != nil {
		miss("%v", err)
	} else {
		if err := findExternal(ctx, nc, s.o.ExternalNetwork); err != nil {
			miss("%v", err)
		}
		_, _, proj, _, terr := c.Token(ctx)
		if terr == nil && proj != nil {
			q, err := quotas.GetDetail(ctx, nc, proj.ID).Extract()
			if err != nil {
				miss("read network quotas: %v", err)
			} else {
				nroom(miss, "floating IPs", q.FloatingIP, servers)
				nroom(miss, "networks", q.Network, 1)
				nroom(miss, "routers", q.Router, 1)
				nroom(miss, "security groups", q.SecurityGroup, 3)
				nroom(miss, "ports", q.Port, servers+2) // and the router's two
			}
		}
	}
	if len(missing) > 0 {
		return &PrecheckError{Cloud: c.Name, Scenario: s.Name(), Missing: missing}
	}
	return nil
}

// hostVMs is how many VMs the fixture boots besides the target.
func (s *Comprehensive) hostVMs() int {
	if s.pinned {
		return len(s.hosts)
	}
	if s.servers > 0 {
		return s.servers
	}
	return 2
}
