package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

// ExistingFixture is the read-only fixture of `cpulse upgrade snapshot
// --create=false`: data sources only, it never creates, changes or deletes.
const ExistingFixture = "fixtures/upgrade-existing"

// ExistingSelection says which existing resources to snapshot: the "project"
// and "vm" keys of the resources file (`cpulse upgrade snapshot --create=false
// --resources res.json`), e.g. {"project": "demo", "vm": ["web-1", "3f1c…"]}.
type ExistingSelection struct {
	Project string   `json:"project"` // name or id; empty: the credentials' project
	VMs     []string `json:"vm"`      // server names or ids; empty: every server of the project
}

// ParseExisting reads a resources file for --create=false. It refuses keys it
// does not know, and empty or repeated server names.
func ParseExisting(b []byte) (ExistingSelection, error) {
	var sel ExistingSelection
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sel); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return sel, errors.New(`resources file is empty: want {"project": "<name or id>", "vm": ["<name or id>", ...]}`)
		case errors.As(err, &syn):
			return sel, fmt.Errorf("resources file is not JSON (offset %d): %v", syn.Offset, err)
		case errors.As(err, &typ):
			return sel, fmt.Errorf("resources file: %q must be %s, not a JSON %s", typ.Field, existingFieldType(typ.Field), typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return sel, fmt.Errorf(`resources file: unknown key %s: with --create=false only "project" and "vm" are read (the others describe what --create builds)`, field)
		}
		return sel, fmt.Errorf("resources file: %w", err)
	}
	if dec.More() {
		return sel, errors.New("resources file: more than one JSON value: want one object")
	}
	seen := map[string]bool{}
	for i, vm := range sel.VMs {
		if strings.TrimSpace(vm) == "" {
			return sel, fmt.Errorf(`resources file: "vm"[%d] is empty: name a server by its name or id`, i)
		}
		if seen[vm] {
			return sel, fmt.Errorf(`resources file: "vm" names %q twice`, vm)
		}
		seen[vm] = true
	}
	return sel, nil
}

func existingFieldType(field string) string {
	if field == "vm" || strings.HasPrefix(field, "vm.") {
		return "a list of server names or ids"
	}
	return "a string (project name or id)"
}

// existingVars are the variables of fixtures/upgrade-existing.
type existingVars struct {
	Cloud              *string                   `json:"cloud"`
	ServerIDs          []string                  `json:"server_ids"`
	FloatingIPs        map[string]string         `json:"floating_ips"` // address → server id
	Volumes            []existingVolumeVar       `json:"volumes"`
	SecurityGroupRules map[string][]ExistingRule `json:"security_group_rules"` // group id → rules
}

type existingVolumeVar struct {
	ID       string `json:"id"`
	Name     string `json:"name"` // "" when no data source can find it (no unique name in the caller's project)
	ServerID string `json:"server_id"`
}

func (v existingVars) toMap() (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if v.Cloud == nil {
		delete(m, "cloud") // null: OS_CLOUD
	}
	for k, empty := range map[string]any{"floating_ips": map[string]any{}, "volumes": []any{}, "security_group_rules": map[string]any{}} {
		if m[k] == nil {
			m[k] = empty
		}
	}
	return m, nil
}

// ExistingVars resolves sel with read-only API calls — names to ids, and what
// the provider has no data source for: each server's floating IPs, its
// attached volumes and the rules of its security groups — and returns the
// variables of fixtures/upgrade-existing. A name that matches no server, or
// several, is an error naming it.
func ExistingVars(ctx context.Context, c *cloud.Cloud, sel ExistingSelection) (map[string]any, error) {
	_, _, proj, roles, err := c.Token(ctx)
	if err != nil {
		return nil, err
	}
	if proj == nil || proj.ID == "" {
		return nil, fmt.Errorf("cloud %q: the token is not scoped to a project: set project_name or project_id", c.Name)
	}
	admin := slices.ContainsFunc(roles, func(r tokens.Role) bool { return r.Name == "admin" })
	projectID, own := proj.ID, true
	if p := sel.Project; p != "" && p != proj.ID && p != proj.Name {
		if !admin {
			return nil, fmt.Errorf("project %q is not the credentials' project %s (%s): reading another project's servers needs the admin role, or credentials of that project", p, proj.Name, proj.ID)
		}
		if projectID, err = findProject(ctx, c, p); err != nil {
			return nil, err
		}
		own = false
	}
	compute, err := c.Compute()
	if err != nil {
		return nil, err
	}
	opts := servers.ListOpts{}
	if !own {
		opts.AllTenants, opts.TenantID = true, projectID
	}
	pages, err := servers.List(compute, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the servers of project %s: %w", projectID, err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, fmt.Errorf("list the servers of project %s: %w", projectID, err)
	}
	ids, err := pickServers(all, sel.VMs, projectID)
	if err != nil {
		return nil, err
	}
	v := existingVars{ServerIDs: ids, FloatingIPs: map[string]string{}, Volumes: []existingVolumeVar{}, SecurityGroupRules: map[string][]ExistingRule{}}
	if c.Name != "" && c.Name != cloud.EnvCloud { // from clouds.yaml, as Functional passes it
		name := c.Name
		v.Cloud = &name
	}
	for _, id := range ids {
		if err := existingServerVars(ctx, c, id, own, &v); err != nil {
			return nil, err
		}
	}
	return v.toMap()
}

// pickServers resolves the selection against the project's servers, in the
// selection's order (every server, by name, when it names none).
func pickServers(all []servers.Server, want []string, projectID string) ([]string, error) {
	if len(want) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("project %s has no servers: nothing to snapshot", projectID)
		}
		slices.SortFunc(all, func(a, b servers.Server) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
		ids := make([]string, len(all))
		for i, s := range all {
			ids[i] = s.ID
		}
		return ids, nil
	}
	var ids []string
	for _, w := range want {
		var match []string
		for _, s := range all {
			if s.ID == w {
				match = []string{s.ID}
				break
			}
			if s.Name == w {
				match = append(match, s.ID)
			}
		}
		switch {
		case len(match) == 0:
			return nil, fmt.Errorf("no server named %q or with that id in project %s", w, projectID)
		case len(match) > 1:
			return nil, fmt.Errorf("%d servers are named %q in project %s (%s): name it by id", len(match), w, projectID, strings.Join(match, ", "))
		}
		if !slices.Contains(ids, match[0]) {
			ids = append(ids, match[0])
		}
	}
	return ids, nil
}

// existingServerVars adds one server's floating IPs, volumes and security
// group rules to v.
func existingServerVars(ctx context.Context, c *cloud.Cloud, id string, own bool, v *existingVars) error {
	network, err := c.Network()
	if err != nil {
		return err
	}
	pages, err := ports.List(network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list the ports of server %s: %w", id, err)
	}
	ps, err := ports.ExtractPorts(pages)
	if err != nil {
		return fmt.Errorf("list the ports of server %s: %w", id, err)
	}
	for _, p := range ps {
		fpages, err := floatingips.List(network, floatingips.ListOpts{PortID: p.ID}).AllPages(ctx)
		if err != nil {
			return fmt.Errorf("list the floating IPs of port %s: %w", p.ID, err)
		}
		fips, err := floatingips.ExtractFloatingIPs(fpages)
		if err != nil {
			return fmt.Errorf("list the floating IPs of port %s: %w", p.ID, err)
		}
		for _, f := range fips {
			v.FloatingIPs[f.FloatingIP] = id
		}
		for _, g := range p.SecurityGroups {
			if _, ok := v.SecurityGroupRules[g]; ok {
				continue
			}
			rs, err := groupRules(ctx, c, g)
			if err != nil {
				return err
			}
			v.SecurityGroupRules[g] = rs
		}
	}
	compute, err := c.Compute()
	if err != nil {
		return err
	}
	apages, err := volumeattach.List(compute, id).AllPages(ctx)
	if err != nil {
		return fmt.Errorf("list the volumes of server %s: %w", id, err)
	}
	atts, err := volumeattach.ExtractVolumeAttachments(apages)
	if err != nil {
		return fmt.Errorf("list the volumes of server %s: %w", id, err)
	}
	for _, a := range atts {
		name := ""
		if own { // the volume data source lists the caller's project only
			if name, err = uniqueVolumeName(ctx, c, a.VolumeID); err != nil {
				return err
			}
		}
		v.Volumes = append(v.Volumes, existingVolumeVar{ID: a.VolumeID, Name: name, ServerID: id})
	}
	return nil
}

// uniqueVolumeName is the volume's name when it finds that volume alone in
// the project (the provider's volume data source looks volumes up by name),
// "" otherwise.
func uniqueVolumeName(ctx context.Context, c *cloud.Cloud, id string) (string, error) {
	bs, err := c.BlockStorage()
	if err != nil {
		return "", err
	}
	vol, err := volumes.Get(ctx, bs, id).Extract()
	if err != nil {
		return "", fmt.Errorf("read volume %s: %w", id, err)
	}
	if vol.Name == "" {
		return "", nil
	}
	pages, err := volumes.List(bs, volumes.ListOpts{Name: vol.Name}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("list volumes named %q: %w", vol.Name, err)
	}
	same, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return "", fmt.Errorf("list volumes named %q: %w", vol.Name, err)
	}
	if len(same) != 1 {
		return "", nil
	}
	return vol.Name, nil
}

// groupRules reads a security group's rules.
func groupRules(ctx context.Context, c *cloud.Cloud, group string) ([]ExistingRule, error) {
	network, err := c.Network()
	if err != nil {
		return nil, err
	}
	pages, err := rules.List(network, rules.ListOpts{SecGroupID: group}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the rules of security group %s: %w", group, err)
	}
	rs, err := rules.ExtractRules(pages)
	if err != nil {
		return nil, fmt.Errorf("list the rules of security group %s: %w", group, err)
	}
	out := make([]ExistingRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, ExistingRule{Direction: r.Direction, Ethertype: r.EtherType, Protocol: r.Protocol,
			PortMin: r.PortRangeMin, PortMax: r.PortRangeMax, RemoteIPPrefix: r.RemoteIPPrefix, RemoteGroupID: r.RemoteGroupID})
	}
	slices.SortFunc(out, func(a, b ExistingRule) int { return strings.Compare(a.key(), b.key()) })
	return out, nil
}

// findProject resolves a project name or id (admin).
func findProject(ctx context.Context, c *cloud.Cloud, p string) (string, error) {
	id, err := c.Identity()
	if err != nil {
		return "", err
	}
	if got, err := projects.Get(ctx, id, p).Extract(); err == nil {
		return got.ID, nil
	} else if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return "", fmt.Errorf("read project %s: %w", p, err)
	}
	pages, err := projects.List(id, projects.ListOpts{Name: p}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("find project %q: %w", p, err)
	}
	ps, err := projects.ExtractProjects(pages)
	if err != nil {
		return "", fmt.Errorf("find project %q: %w", p, err)
	}
	switch len(ps) {
	case 0:
		return "", fmt.Errorf("no project named %q or with that id", p)
	case 1:
		return ps[0].ID, nil
	}
	return "", fmt.Errorf("%d projects are named %q (in different domains): name it by id", len(ps), p)
}
