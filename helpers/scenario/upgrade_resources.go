package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Resources declare what the upgrade snapshot builds, in the shape of the
// Cloud Pulse snapshot API (also `cpulse upgrade snapshot --resources
// res.json`):
//
//	{"image": ["cloudpulse-tiny"], "vm": ["web", "db"], "net": [{"name": "app", "cidr": "10.43.0.0/24"}],
//	 "router": ["edge"], "connections": [["web", "db"]]}
//
// Each vm gets a floating IP and a volume of its own; connections become
// VM↔VM assertions (ping from the first to the second's fixed IP). Empty
// lists take the defaults: the scenario's image, vm-1 and vm-2, one network
// and router, and a ring over the vms.
type Resources struct {
	Image       []string    `json:"image,omitempty"`
	VM          []string    `json:"vm,omitempty"`
	Net         []NetSpec   `json:"net,omitempty"`
	Router      []string    `json:"router,omitempty"`
	Connections [][2]string `json:"connections,omitempty"`
}

// NetSpec is one network: a name (a label; the cloud's name is
// cp-<run id>-…) and, optionally, its CIDR. In the file it is a string (the
// name) or an object.
type NetSpec struct {
	Name string `json:"name"`
	CIDR string `json:"cidr,omitempty"`
}

// UnmarshalJSON takes "name" or {"name": …, "cidr": …}.
func (n *NetSpec) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = NetSpec{Name: s}
		return nil
	}
	type plain NetSpec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf(`a net is "name" or {"name": …, "cidr": …}: %w`, err)
	}
	*n = NetSpec(p)
	return nil
}

var vmName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// ParseResources reads a resources file strictly: unknown keys, more than
// fixtures/upgrade builds (one network, one router, one image, 10 vms) and
// connections naming an unknown vm are refused, each in one line naming the fix.
func ParseResources(b []byte) (Resources, error) {
	var r Resources
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		if strings.Contains(err.Error(), `unknown field "project"`) {
			return r, errors.New(`resources: "project" selects existing resources: use it with --create=false`)
		}
		return r, fmt.Errorf("resources: %w (keys: image, vm, net, router, connections)", err)
	}
	return r, r.normalize()
}

// normalize checks r and fills the defaults.
func (r *Resources) normalize() error {
	if len(r.VM) == 0 {
		r.VM = []string{"vm-1", "vm-2"}
	}
	if len(r.VM) > 10 {
		return fmt.Errorf("resources: %d vms; fixtures/upgrade builds at most 10", len(r.VM))
	}
	seen := map[string]bool{}
	for _, v := range r.VM {
		if !vmName.MatchString(v) {
			return fmt.Errorf("resources: vm %q: use 1-31 lowercase letters, digits or '-', starting with a letter or digit", v)
		}
		if seen[v] {
			return fmt.Errorf("resources: vm %q is listed twice", v)
		}
		seen[v] = true
	}
	if len(r.Image) > 1 {
		return fmt.Errorf("resources: %d images; fixtures/upgrade boots every vm from one image", len(r.Image))
	}
	if len(r.Net) > 1 {
		return fmt.Errorf("resources: %d nets; fixtures/upgrade builds one network (list one, or none for the default)", len(r.Net))
	}
	if len(r.Router) > 1 {
		return fmt.Errorf("resources: %d routers; fixtures/upgrade builds one router (list one, or none for the default)", len(r.Router))
	}
	for _, c := range r.Connections {
		for _, v := range c {
			if !seen[v] {
				return fmt.Errorf("resources: connection %s→%s names vm %q, which is not in \"vm\" %v", c[0], c[1], v, r.VM)
			}
		}
		if c[0] == c[1] {
			return fmt.Errorf("resources: connection %s→%s: a vm to itself is not a connection", c[0], c[1])
		}
	}
	if len(r.Connections) == 0 && len(r.VM) > 1 {
		for i, v := range r.VM {
			r.Connections = append(r.Connections, [2]string{v, r.VM[(i+1)%len(r.VM)]})
		}
		if len(r.VM) == 2 { // the ring of two is the same pair both ways: keep both directions
			r.Connections = [][2]string{{r.VM[0], r.VM[1]}, {r.VM[1], r.VM[0]}}
		}
	}
	return nil
}
