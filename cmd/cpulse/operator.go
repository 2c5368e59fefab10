package main

import (
	"context"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/operator"
)

// operatorChecks builds the operator checks: see families.OperatorChecks.
func operatorChecks(ctx context.Context, m *operator.ServiceMap, hosts operator.Connector, c families.AdminClients, cloudName string) []check.Check {
	return families.OperatorChecks(ctx, m, hosts, c, cloudName)
}
