// Package scenario holds the scenarios — a fixture, its variables and its
// validations — written once and run by go test (through terratest) and by
// cpulse (through terraform-exec).
//
// Functional is the scenario users care about first: a tenant uploads an
// image, builds a network and router, opens a security group, boots two VMs
// with floating IPs, attaches a volume, and everything works by ping, ssh and
// http. Validations run in Tempest's order (ping from the runner, ssh, pings
// from inside the VM, http, then the volume) and a failure dumps the servers'
// console logs.
//
//	f, err := scenario.NewFunctional(scenario.FunctionalOptions{Cloud: cfg}) // run id generated: cp<MMDDhhmm>-<8 hex>
//	...
//	err = f.Precheck(ctx, c)                 // everything missing, listed at once, before anything exists
//	ws, err := f.Workspace()
//	r, err := tf.NewExec(ws, tools, f.TerraformEnv(), nil)
//	res := f.Run(ctx, c, r, scenario.Hooks{}) // res.Err, res.Timeline, res.Leftovers
//
// Run fits itself into ctx's deadline (FitBudget): destroy and the leftover
// check are kept out of the time apply and the validations may use, so a run
// under go test's default -timeout still destroys what it made.
package scenario
