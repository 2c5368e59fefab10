// Package scenario is the scenario engine: a scenario is a fixture, its
// variables, the checks that need nothing built (Precheck) and the
// validations run against the fixture's outputs, registered by name. go test
// (through terratest), cpulse check (through terraform-exec) and the service
// run every scenario through one path, Run, and get one result model: a
// check.Result per check, with stable names (ping/compute-1,
// mtu/compute-1→compute-2) and the addresses and run id in its details.
//
// Functional is the scenario users care about first: a tenant uploads an
// image, builds a network and router, opens a security group, boots two VMs
// with floating IPs, attaches a volume, and everything works by ping, ssh and
// http, in Tempest's order; the first failure skips the rest and dumps the
// servers' console logs. Comprehensive puts a VM on every compute host and
// reports every result: gateway, external and metadata reach, east-west
// traffic and path MTU between hosts, and security groups that allow and
// block.
//
//	d, err := scenario.Lookup("functional")  // or "comprehensive"
//	s, err := d.New(cfg)                      // options from CLOUDPULSE_*; run id cp<MMDDhhmm>-<8 hex>
//	err = s.Precheck(ctx, c)                  // everything missing, listed at once, before anything exists
//	ws, err := scenario.Workspace(s)
//	r, err := tf.NewExec(ws, tools, s.TerraformEnv(), nil)
//	res := scenario.Run(ctx, c, s, r, scenario.Hooks{}) // res.Checks, res.Err, res.Timeline, res.Leftovers
//
// A Suite is stages of checks run through check.Runner: a stage either stops
// at its first failure (later checks are skipped, naming it) or runs every
// check and reports all (an allowed/blocked matrix). Run fits itself into
// ctx's deadline (FitBudget): destroy and the leftover check are kept out of
// the time apply and the validations may use, so a run under go test's
// default -timeout still destroys what it made.
package scenario
