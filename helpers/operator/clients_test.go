package operator

import "github.com/cloudpulse/cloudpulse/helpers/cloud"

// *cloud.Cloud is what cmd/cpulse and tests/ pass as Clients.
var _ Clients = (*cloud.Cloud)(nil)

// *Hosts is the Connector cmd/cpulse and tests/ pass.
var _ Connector = (*Hosts)(nil)
