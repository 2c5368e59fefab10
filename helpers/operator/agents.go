package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	cinderservices "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/services"
	novaservices "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/agents"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Clients gives the admin gophercloud clients the OpenStack service checks
// need. *cloud.Cloud (helpers/cloud) satisfies it.
type Clients interface {
	Compute() (*gophercloud.ServiceClient, error)
	Network() (*gophercloud.ServiceClient, error)
	BlockStorage() (*gophercloud.ServiceClient, error)
}

// NovaServices lists nova's services (admin: skips on HTTP 403) and fails
// naming each one down, forced down, or disabled (unless allowDisabled), as
// "<binary> on <host>".
func NovaServices(c Clients, allowDisabled bool) check.Check {
	return check.Check{Name: "nova-services", Run: func(ctx context.Context) error {
		cc, err := c.Compute()
		if err != nil {
			return fmt.Errorf("nova services: %w", err)
		}
		pages, err := novaservices.List(cc, novaservices.ListOpts{}).AllPages(ctx)
		if err != nil {
			return adminListError("nova services", err)
		}
		list, err := novaservices.ExtractServices(pages)
		if err != nil {
			return fmt.Errorf("nova services: %w", err)
		}
		var bad []string
		computes := 0
		for _, s := range list {
			if s.Binary == "nova-compute" {
				computes++
			}
			who := s.Binary + " on " + s.Host
			switch {
			case s.ForcedDown:
				bad = append(bad, who+" is forced down")
			case s.State != "up":
				bad = append(bad, who+" is "+s.State+lastSeen(s.UpdatedAt))
			case s.Status != "enabled" && !allowDisabled:
				bad = append(bad, who+" is "+s.Status+reason(s.DisabledReason))
			}
		}
		if computes == 0 {
			bad = append(bad, "no nova-compute service is registered")
		}
		return problemsError("nova services", bad)
	}}
}

// NeutronAgents lists neutron's agents (admin: skips on HTTP 403) and fails
// naming each one not alive, or administratively down (unless
// allowDisabled), as "<binary> on <host>".
func NeutronAgents(c Clients, allowDisabled bool) check.Check {
	return check.Check{Name: "neutron-agents", Run: func(ctx context.Context) error {
		nc, err := c.Network()
		if err != nil {
			return fmt.Errorf("neutron agents: %w", err)
		}
		pages, err := agents.List(nc, agents.ListOpts{}).AllPages(ctx)
		if err != nil {
			return adminListError("neutron agents", err)
		}
		list, err := agents.ExtractAgents(pages)
		if err != nil {
			return fmt.Errorf("neutron agents: %w", err)
		}
		var bad []string
		for _, a := range list {
			who := a.Binary + " on " + a.Host
			switch {
			case !a.Alive:
				bad = append(bad, who+" is not alive"+lastSeen(a.HeartbeatTimestamp))
			case !a.AdminStateUp && !allowDisabled:
				bad = append(bad, who+" is administratively down")
			}
		}
		if len(list) == 0 {
			if roles, ok := notAdmin(nc); ok {
				return check.Skipf("listing neutron agents needs admin rights (neutron shows non-admins no agent; these credentials have roles %s)", roles)
			}
			bad = append(bad, "neutron reports no agent")
		}
		return problemsError("neutron agents", bad)
	}}
}

// CinderServices lists cinder's services (admin: skips on HTTP 403) and fails
// naming each one down, or disabled (unless allowDisabled), as
// "<binary> on <host>".
func CinderServices(c Clients, allowDisabled bool) check.Check {
	return check.Check{Name: "cinder-services", Run: func(ctx context.Context) error {
		bc, err := c.BlockStorage()
		if err != nil {
			return fmt.Errorf("cinder services: %w", err)
		}
		pages, err := cinderservices.List(bc, cinderservices.ListOpts{}).AllPages(ctx)
		if err != nil {
			return adminListError("cinder services", err)
		}
		list, err := cinderservices.ExtractServices(pages)
		if err != nil {
			return fmt.Errorf("cinder services: %w", err)
		}
		var bad []string
		for _, s := range list {
			who := s.Binary + " on " + s.Host
			switch {
			case s.State != "up":
				bad = append(bad, who+" is "+s.State+lastSeen(s.UpdatedAt))
			case s.Status != "enabled" && !allowDisabled:
				bad = append(bad, who+" is "+s.Status+reason(s.DisabledReason))
			}
		}
		if len(list) == 0 {
			bad = append(bad, "cinder reports no service")
		}
		return problemsError("cinder services", bad)
	}}
}

// notAdmin reports whether the token nc's provider holds certainly lacks the
// admin role (Keystone v3), with its roles for the message.
func notAdmin(sc *gophercloud.ServiceClient) (string, bool) {
	r, ok := sc.ProviderClient.GetAuthResult().(interface {
		ExtractRoles() ([]tokens.Role, error)
	})
	if !ok {
		return "", false
	}
	roles, err := r.ExtractRoles()
	if err != nil {
		return "", false
	}
	var names []string
	for _, role := range roles {
		if role.Name == "admin" {
			return "", false
		}
		names = append(names, role.Name)
	}
	return strings.Join(names, ", "), true
}

func adminListError(what string, err error) error {
	if gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		return check.Skipf("listing %s needs admin rights (HTTP 403 for these credentials)", what)
	}
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %s %s: got HTTP %d: %s", what, e.Method, e.URL, e.Actual, snippet(e.Body))
	}
	return fmt.Errorf("%s: %w", what, err)
}

func problemsError(what string, bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(bad, "; "))
}

func lastSeen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " (last seen " + t.UTC().Format(time.RFC3339) + ")"
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}
