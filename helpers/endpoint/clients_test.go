package endpoint

import "github.com/cloudpulse/cloudpulse/helpers/cloud"

// *cloud.Cloud is what cmd/cpulse and tests/ pass as Clients.
var _ Clients = (*cloud.Cloud)(nil)
