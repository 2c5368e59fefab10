package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	computelimits "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// PrecheckError lists every missing prerequisite at once.
type PrecheckError struct {
	Cloud    string
	Scenario string // default "functional"
	Missing  []string
}

func (e *PrecheckError) Error() string {
	name := e.Scenario
	if name == "" {
		name = "functional"
	}
	return fmt.Sprintf("cloud %q is not ready for the %s scenario (nothing was created): %s", e.Cloud, name, strings.Join(e.Missing, "; "))
}

// Precheck verifies, before anything is created, that the image (unless one is
// uploaded), the flavor and the external network exist and that the quotas
// have room for 2 servers, 1 volume, 2 floating IPs and one network, router
// and security group. Operator mode also needs the admin role.
func (f *Functional) Precheck(ctx context.Context, c *cloud.Cloud) error {
	return f.precheck(ctx, c, "functional", 2, 1)
}

// precheck is Precheck for a scenario of name with servers servers (a
// floating IP each) and volumes volumes of 1 GiB.
func (f *Functional) precheck(ctx context.Context, c *cloud.Cloud, name string, servers, volumes int) error {
	fips := servers
	var missing []string
	miss := func(format string, args ...any) { missing = append(missing, fmt.Sprintf(format, args...)) }

	admin, err := c.IsAdmin(ctx)
	if err != nil {
		miss("read own token: %v", err)
	}
	if f.o.CreateProject && !admin {
		miss("operator mode (CLOUDPULSE_CREATE_PROJECT=1) needs a cloud with the admin role; %q has not", c.Name)
	}
	if len(f.o.Hosts) > 0 && !admin {
		miss("pinning servers to hypervisors %v needs the admin role", f.o.Hosts)
	}

	var flavor *flavors.Flavor
	if cc, err := c.Compute(); err != nil {
		miss("%v", err)
	} else {
		if flavor, err = findFlavor(ctx, cc, f.o.Flavor); err != nil {
			miss("%v", err)
		}
		if !f.o.CreateProject { // a new project starts with fresh quotas
			computeRoom(ctx, cc, miss, flavor, servers)
		}
	}
	if f.o.ImageFile == "" {
		if ic, err := c.Image(); err != nil {
			miss("%v", err)
		} else if err := findImage(ctx, ic, f.o.Image); err != nil {
			miss("%v", err)
		}
	}
	if nc, err := c.Network(); err != nil {
		miss("%v", err)
	} else {
		if err := findExternal(ctx, nc, f.o.ExternalNetwork); err != nil {
			miss("%v", err)
		}
		if !f.o.CreateProject {
			_, _, proj, _, terr := c.Token(ctx)
			if terr == nil && proj != nil {
				q, err := quotas.GetDetail(ctx, nc, proj.ID).Extract()
				if err != nil {
					miss("read network quotas: %v", err)
				} else {
					nroom(miss, "floating IPs", q.FloatingIP, fips)
					nroom(miss, "networks", q.Network, 1)
					nroom(miss, "routers", q.Router, 1)
					nroom(miss, "security groups", q.SecurityGroup, 1)
					nroom(miss, "ports", q.Port, 2*servers)
				}
			}
		}
	}
	if bs, err := c.BlockStorage(); err != nil {
		miss("%v", err)
	} else if !f.o.CreateProject {
		if l, err := limits.Get(ctx, bs).Extract(); err != nil {
			miss("read volume limits: %v", err)
		} else {
			room(miss, "volumes", l.Absolute.MaxTotalVolumes, l.Absolute.TotalVolumesUsed, volumes)
			room(miss, "volume gigabytes", l.Absolute.MaxTotalVolumeGigabytes, l.Absolute.TotalGigabytesUsed, volumes)
		}
	}
	if len(missing) > 0 {
		return &PrecheckError{Cloud: c.Name, Scenario: name, Missing: missing}
	}
	return nil
}

// room flags a quota without space for need more (a negative max is unlimited).
// computeRoom reports (through miss) when the project's compute limits leave
// no room for servers more servers of flavor (nil: count instances only).
func computeRoom(ctx context.Context, cc *serviceClient, miss func(string, ...any), flavor *flavors.Flavor, servers int) {
	l, err := computelimits.Get(ctx, cc, nil).Extract()
	if err != nil {
		miss("read compute limits: %v", err)
		return
	}
	a := l.Absolute
	room(miss, "instances", a.MaxTotalInstances, a.TotalInstancesUsed, servers)
	if flavor != nil {
		room(miss, "cores", a.MaxTotalCores, a.TotalCoresUsed, servers*flavor.VCPUs)
		room(miss, "RAM (MiB)", a.MaxTotalRAMSize, a.TotalRAMUsed, servers*flavor.RAM)
	}
}

func room(miss func(string, ...any), what string, max, used, need int) {
	if max >= 0 && max-used < need {
		miss("quota: %s has room for %d, the scenario needs %d (limit %d, used %d)", what, max-used, need, max, used)
	}
}

func nroom(miss func(string, ...any), what string, q quotas.QuotaDetail, need int) {
	room(miss, what, q.Limit, q.Used+q.Reserved, need)
}

func findFlavor(ctx context.Context, cc *serviceClient, name string) (*flavors.Flavor, error) {
	pages, err := flavors.ListDetail(cc, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range all {
		if all[i].Name == name || all[i].ID == name {
			return &all[i], nil
		}
		names = append(names, all[i].Name)
	}
	return nil, fmt.Errorf("flavor %q not found (set CLOUDPULSE_FLAVOR; available: %s)", name, strings.Join(names, ", "))
}

func findImage(ctx context.Context, ic *serviceClient, name string) error {
	pages, err := images.List(ic, images.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return err
	}
	for _, im := range all {
		if im.Status == images.ImageStatusActive {
			return nil
		}
	}
	return fmt.Errorf("image %q not found or not active (set CLOUDPULSE_IMAGE to an existing image, or CLOUDPULSE_IMAGE_FILE to upload one)", name)
}

func findExternal(ctx context.Context, nc *serviceClient, name string) error {
	yes := true
	pages, err := networks.List(nc, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: &yes}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list external networks: %w", err)
	}
	all, err := networks.ExtractNetworks(pages)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range all {
		if n.Name == name || n.ID == name {
			return nil
		}
		names = append(names, n.Name)
	}
	if len(names) == 0 {
		return errors.New("no external network visible to this user: ask the operator for one, or set CLOUDPULSE_EXTERNAL_NETWORK")
	}
	return fmt.Errorf("external network %q not found (set CLOUDPULSE_EXTERNAL_NETWORK; available: %s)", name, strings.Join(names, ", "))
}

type serviceClient = gophercloud.ServiceClient
