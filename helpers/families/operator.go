package families

import (
	"context"
	"fmt"
	"slices"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/endpoint"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

// LoadServiceMap reads and validates the service map before anything runs.
func LoadServiceMap(path string) (*operator.ServiceMap, error) {
	if path == "" {
		return nil, inputf("operator checks need a service map: --service-map FILE or CLOUDPULSE_SERVICE_MAP (example: fixtures/service-map/lab.yaml)")
	}
	m, err := operator.Load(path)
	if err != nil {
		return nil, inputf("%v", err)
	}
	return m, nil
}

// AdminClients is the cloud the operator checks use: *cloud.Cloud.
type AdminClients interface {
	operator.Clients
	IsAdmin(ctx context.Context) (bool, error)
}

// OperatorChecks builds the operator checks. The OpenStack service checks
// (nova services, neutron agents, cinder services) need the admin role: when
// the cloud's token lacks it they skip, saying so; when the roles cannot be
// read they fail with the error. cloudName names the cloud in both messages.
func OperatorChecks(ctx context.Context, m *operator.ServiceMap, hosts operator.Connector, c AdminClients, cloudName string) []check.Check {
	return operatorChecks(ctx, m, hosts, c, cloudName, false)
}

// operatorChecks: requireAdmin (the cloud is declared admin) makes the checks
// that need the admin role fail, naming the fix, when the token has none.
func operatorChecks(ctx context.Context, m *operator.ServiceMap, hosts operator.Connector, c AdminClients, cloudName string, requireAdmin bool) []check.Check {
	all := operator.Checks(m, hosts, c, nil)
	admin, err := c.IsAdmin(ctx)
	if err == nil && admin {
		return all
	}
	var withoutAdmin []string // the checks that need no OpenStack admin clients
	for _, ch := range operator.Checks(m, hosts, nil, nil) {
		withoutAdmin = append(withoutAdmin, ch.Name)
	}
	for i, ch := range all {
		if slices.Contains(withoutAdmin, ch.Name) {
			continue
		}
		all[i].Run = func(context.Context) error {
			if err != nil {
				return fmt.Errorf("%s: read the roles of cloud %q's token: %w", ch.Name, cloudName, err)
			}
			if requireAdmin {
				return fmt.Errorf("%s: %w", ch.Name, errNoAdminRole(cloudName))
			}
			return check.Skipf("needs the admin role: cloud %q's token has none (give --cloud a cloud with the admin role to run it)", cloudName)
		}
	}
	return all
}

// errNoAdminRole: a cloud declared admin whose token lacks the role.
func errNoAdminRole(cloudName string) error {
	return fmt.Errorf("cloud %q is declared admin: true but its token has no admin role (give its clouds.yaml entry a user with the admin role, or drop admin: true)", cloudName)
}

// AdminRoleCheck ("admin-role") passes when the cloud's token has the admin
// role: the check a cloud declared admin gets in each run.
func AdminRoleCheck(c AdminClients, cloudName string) check.Check {
	return check.Check{Name: "admin-role", Run: func(ctx context.Context) error {
		admin, err := c.IsAdmin(ctx)
		if err != nil {
			return fmt.Errorf("read the roles of cloud %q's token: %w", cloudName, err)
		}
		if !admin {
			return errNoAdminRole(cloudName)
		}
		return nil
	}}
}

// HorizonCheck logs in to Horizon as the cloud's own user (same clouds.yaml
// credentials as the API checks).
func HorizonCheck(url string, cfg *cloud.Config) check.Check {
	domain := cfg.Auth.DomainName
	if domain == "" {
		domain = "Default"
	}
	return endpoint.Horizon(url, cfg.Auth.Username, cfg.Auth.Password, domain)
}
