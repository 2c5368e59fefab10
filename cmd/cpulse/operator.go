package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

// loadServiceMap reads and validates the service map before anything runs.
func loadServiceMap(path string) (*operator.ServiceMap, error) {
	if path == "" {
		return nil, usagef("operator checks need a service map: --service-map FILE or CLOUDPULSE_SERVICE_MAP (example: fixtures/service-map/lab.yaml)")
	}
	m, err := operator.Load(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return m, nil
}

// adminClients is the cloud the operator checks use: *cloud.Cloud.
type adminClients interface {
	operator.Clients
	IsAdmin(ctx context.Context) (bool, error)
}

// operatorChecks builds the operator checks. The OpenStack service checks
// (nova services, neutron agents, cinder services) need the admin role: when
// the cloud's token lacks it they skip, saying so; when the roles cannot be
// read they fail with the error. cloudName names the cloud in both messages.
func operatorChecks(ctx context.Context, m *operator.ServiceMap, hosts operator.Connector, c adminClients, cloudName string) []check.Check {
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
			return check.Skipf("needs the admin role: cloud %q's token has none (give --cloud a cloud with the admin role to run it)", cloudName)
		}
	}
	return all
}
