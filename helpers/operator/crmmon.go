package operator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// PacemakerCluster is what crm_mon --output-as=xml says about a cluster, and
// what is wrong with it.
type PacemakerCluster struct {
	DC          string // the designated controller, "" when none
	WithQuorum  bool
	Nodes       int // cluster (member) nodes configured
	NodesOnline int
	// Problems names each thing that is wrong, in document order: nodes
	// not online (or unclean, standby, in maintenance), no DC or no quorum,
	// resources stopped though wanted, failed or blocked, clones running on
	// fewer online nodes than they could, promotable clones without a
	// promoted instance, and every failed action.
	Problems []string
}

// xmlNode is any element, with attributes and children in document order.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *xmlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *xmlNode) is(name string) bool { return n.attr(name) == "true" }

func (n *xmlNode) child(name string) *xmlNode {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			return &n.Children[i]
		}
	}
	return nil
}

// ParseCrmMon reads the output of `crm_mon --output-as=xml` (Pacemaker 2.x,
// element pacemaker-result) or of the older `crm_mon --as-xml` (element
// crm_mon). A result whose status is an error (e.g. "Not connected" when the
// cluster is not running on the host) is returned as an error.
func ParseCrmMon(b []byte) (*PacemakerCluster, error) {
	var root xmlNode
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&root); err != nil {
		return nil, fmt.Errorf("parse crm_mon XML: %w", err)
	}
	if root.XMLName.Local != "pacemaker-result" && root.XMLName.Local != "crm_mon" {
		return nil, fmt.Errorf("parse crm_mon XML: root element is <%s>, want <pacemaker-result>", root.XMLName.Local)
	}
	if st := root.child("status"); st != nil && st.attr("code") != "0" {
		msg := fmt.Sprintf("crm_mon failed: %s (code %s)", st.attr("message"), st.attr("code"))
		if errs := st.child("errors"); errs != nil {
			for _, e := range errs.Children {
				msg += ": " + strings.TrimSpace(e.Text)
			}
		}
		return nil, fmt.Errorf("%s", msg)
	}

	c := &PacemakerCluster{}
	if sum := root.child("summary"); sum != nil {
		if dc := sum.child("current_dc"); dc != nil {
			if dc.is("present") {
				c.DC, c.WithQuorum = dc.attr("name"), dc.is("with_quorum")
				if !c.WithQuorum {
					c.problem("partition %s has no quorum", orUnnamed(c.DC))
				}
			} else {
				c.problem("no designated controller (DC): the cluster has not formed")
			}
		}
		if opts := sum.child("cluster_options"); opts != nil && opts.is("maintenance-mode") {
			c.problem("the cluster is in maintenance mode (resources are not managed)")
		}
	}

	online := map[string]bool{} // online member nodes that may run resources
	if nodes := root.child("nodes"); nodes != nil {
		for i := range nodes.Children {
			n := &nodes.Children[i]
			if n.attr("id_as_resource") != "" || n.attr("container_id") != "" {
				continue // a bundle's or guest's node: its resource says it all
			}
			name := n.attr("name")
			c.Nodes++
			switch {
			case n.is("unclean"):
				c.problem("node %s is UNCLEAN (it needs fencing)", name)
			case !n.is("online"):
				c.problem("node %s is OFFLINE", name)
			default:
				c.NodesOnline++
				switch {
				case n.is("standby"):
					c.problem("node %s is in standby", name)
				case n.is("maintenance"):
					c.problem("node %s is in maintenance", name)
				case n.is("pending"):
					c.problem("node %s is pending (joining)", name)
				default:
					online[name] = true
				}
			}
		}
	}

	if res := root.child("resources"); res != nil {
		for i := range res.Children {
			c.checkResource(&res.Children[i], len(online), false)
		}
	}

	if fs := root.child("failures"); fs != nil {
		for i := range fs.Children {
			f := &fs.Children[i]
			op := f.attr("op_key")
			if op == "" {
				op = f.attr("id")
			}
			msg := fmt.Sprintf("failed action %s on %s: %s", op, f.attr("node"), f.attr("exitstatus"))
			if r := f.attr("exitreason"); r != "" {
				msg += " (" + r + ")"
			}
			if s := f.attr("status"); s != "" && s != "complete" {
				msg += ", " + s
			}
			if t := f.attr("last-rc-change"); t != "" {
				msg += " at " + t
			}
			c.Problems = append(c.Problems, msg)
		}
	}
	return c, nil
}

func (c *PacemakerCluster) problem(format string, args ...any) {
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// stoppedOnPurpose: a disabled resource (target-role Stopped) is not a problem.
func stoppedOnPurpose(n *xmlNode) bool {
	return strings.EqualFold(n.attr("target_role"), "stopped") || n.is("disabled")
}

// checkResource records what is wrong with a primitive, group, clone or
// bundle. onlineNodes is how many nodes can run resources; inInstance is set
// for the instances of a clone or bundle, whose stopped copies are judged by
// the clone, not one by one.
func (c *PacemakerCluster) checkResource(n *xmlNode, onlineNodes int, inInstance bool) {
	id := n.attr("id")
	switch n.XMLName.Local {
	case "resource":
		on := nodesOf(n)
		switch {
		case n.is("failed") && !n.is("failure_ignored"):
			c.problem("resource %s (%s) FAILED%s", id, n.attr("resource_agent"), onNodes(on))
		case n.is("blocked"):
			c.problem("resource %s (%s) is blocked%s: it cannot be started or stopped", id, n.attr("resource_agent"), onNodes(on))
		case !inInstance && !n.is("active") && !stoppedOnPurpose(n):
			c.problem("resource %s (%s) is %s", id, n.attr("resource_agent"), n.attr("role"))
		case !inInstance && n.is("active") && !runningRole(n.attr("role")):
			c.problem("resource %s (%s) is %s%s", id, n.attr("resource_agent"), n.attr("role"), onNodes(on))
		}
	case "group":
		if stoppedOnPurpose(n) {
			return
		}
		for i := range n.Children {
			c.checkResource(&n.Children[i], onlineNodes, inInstance)
		}
	case "clone", "bundle":
		if stoppedOnPurpose(n) {
			return
		}
		var instances, active, promoted int
		for i := range n.Children {
			inst := &n.Children[i]
			if inst.XMLName.Local == "replica" || n.XMLName.Local == "clone" {
				instances++
				if allActive(inst) {
					active++
				}
				if hasRole(inst, "Promoted", "Master") {
					promoted++
				}
			}
			if inst.XMLName.Local == "replica" {
				for j := range inst.Children {
					c.checkResource(&inst.Children[j], onlineNodes, true)
				}
			} else {
				c.checkResource(inst, onlineNodes, true)
			}
		}
		kind := "clone"
		if n.XMLName.Local == "bundle" {
			kind = "bundle"
		}
		if want := min(instances, onlineNodes); active < want {
			c.problem("%s %s runs %d of %d instances it could on %d online node(s)", kind, id, active, want, onlineNodes)
		}
		if n.is("multi_state") && active > 0 && promoted == 0 {
			c.problem("promotable clone %s has no Promoted instance", id)
		}
	}
}

func runningRole(role string) bool {
	switch role {
	case "Started", "Promoted", "Unpromoted", "Master", "Slave":
		return true
	}
	return false
}

// allActive: every primitive under n (a resource, group or replica) is active.
func allActive(n *xmlNode) bool {
	if n.XMLName.Local == "resource" {
		return n.is("active") && runningRole(n.attr("role"))
	}
	found := false
	for i := range n.Children {
		ch := &n.Children[i]
		switch ch.XMLName.Local {
		case "resource", "group":
			if !allActive(ch) {
				return false
			}
			found = true
		}
	}
	return found
}

func hasRole(n *xmlNode, roles ...string) bool {
	if n.XMLName.Local == "resource" {
		for _, r := range roles {
			if n.attr("role") == r {
				return true
			}
		}
		return false
	}
	for i := range n.Children {
		if hasRole(&n.Children[i], roles...) {
			return true
		}
	}
	return false
}

func nodesOf(n *xmlNode) []string {
	var out []string
	for i := range n.Children {
		if n.Children[i].XMLName.Local == "node" {
			out = append(out, n.Children[i].attr("name"))
		}
	}
	return out
}

func onNodes(nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	return " on " + strings.Join(nodes, ", ")
}

func orUnnamed(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}
