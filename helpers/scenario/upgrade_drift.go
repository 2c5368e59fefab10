package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// DriftAttributes are, per resource type of fixtures/upgrade, the attributes
// whose drift after an upgrade is a finding: what a tenant's workload depends
// on (status, host, addresses, MACs, attachments, security group rules, the
// router's gateway, the floating IP's association). Every other attribute
// (timestamps, revision numbers, tags the cloud adds, all_metadata, …) is
// noise and ignored. A resource that is gone is always a finding.
var DriftAttributes = map[string][]string{
	"openstack_compute_instance_v2":            {"power_state", "access_ip_v4", "network", "security_groups", "flavor_id", "image_id", "availability_zone", "key_pair"},
	"openstack_networking_port_v2":             {"admin_state_up", "mac_address", "all_fixed_ips", "fixed_ip", "security_group_ids", "device_id", "binding", "port_security_enabled"},
	"openstack_networking_floatingip_v2":       {"address", "port_id", "fixed_ip", "pool"},
	"openstack_compute_volume_attach_v2":       {"instance_id", "volume_id", "device"},
	"openstack_blockstorage_volume_v3":         {"size", "attachment", "volume_type"},
	"openstack_networking_secgroup_rule_v2":    {"direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id", "security_group_id"},
	"openstack_networking_secgroup_v2":         {"name"},
	"openstack_networking_router_v2":           {"admin_state_up", "external_gateway", "external_network_id", "external_fixed_ip", "enable_snat"},
	"openstack_networking_router_interface_v2": {"router_id", "subnet_id", "port_id"},
	"openstack_networking_network_v2":          {"admin_state_up", "mtu", "external", "shared"},
	"openstack_networking_subnet_v2":           {"cidr", "gateway_ip", "allocation_pool", "enable_dhcp", "dns_nameservers"},
	"openstack_compute_servergroup_v2":         {"policies", "members"},
	"openstack_compute_keypair_v2":             {"public_key"},
}

// Drift is one finding of the filter: a resource that is gone, or attributes
// that matter which changed.
type Drift struct {
	Address string   // module.instance.openstack_compute_instance_v2.this[0]
	Gone    bool     // deleted outside OpenTofu
	Changes []string // "port_id: \"a…\" → \"\"", in attribute order
}

func (d Drift) String() string {
	if d.Gone {
		return d.Address + ": deleted outside OpenTofu"
	}
	return d.Address + ": " + strings.Join(d.Changes, "; ")
}

// FilterDrift keeps, of a refresh-only plan's drift list, the resources that
// are gone and the changes of the attributes in DriftAttributes.
func FilterDrift(p *tfjson.Plan) []Drift {
	if p == nil {
		return nil
	}
	var out []Drift
	for _, rc := range p.ResourceDrift {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		if rc.Change.Actions.Delete() || (rc.Change.After == nil && rc.Change.Before != nil) {
			out = append(out, Drift{Address: rc.Address, Gone: true})
			continue
		}
		attrs, ok := DriftAttributes[rc.Type]
		if !ok {
			continue
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		var changes []string
		for _, a := range attrs {
			b, aa := before[a], after[a]
			if equalish(b, aa) {
				continue
			}
			changes = append(changes, fmt.Sprintf("%s: %s → %s", a, brief(b), brief(aa)))
		}
		if len(changes) > 0 {
			out = append(out, Drift{Address: rc.Address, Changes: changes})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// equalish: nil, "" and empty lists are the same absence.
func equalish(a, b any) bool {
	if empty(a) && empty(b) {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func brief(v any) string {
	if empty(v) {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}
