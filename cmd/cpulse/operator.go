package main

import (
	"context"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
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

// operatorChecks builds the operator checks; the OpenStack agent checks only
// when the cloud's token has the admin role (otherwise they would all skip).
func operatorChecks(ctx context.Context, m *operator.ServiceMap, hosts *operator.Hosts, c *cloud.Cloud) []check.Check {
	var clients operator.Clients // a nil interface, not a typed nil
	if admin, err := c.IsAdmin(ctx); err == nil && admin {
		clients = c
	}
	return operator.Checks(m, hosts, clients, nil)
}
