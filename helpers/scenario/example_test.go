package scenario_test

import (
	"context"
	"fmt"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The package example (doc.go), compiled so that it cannot go stale: the
// Functional scenario through terraform-exec, as cpulse runs it. It needs a
// cloud, so it has no output to check.
func Example() {
	ctx := context.Background()
	cfg, err := cloud.Load("")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := cfg.Connect(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := scenario.NewFunctional(scenario.FunctionalOptions{Cloud: cfg})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := f.Precheck(ctx, c); err != nil { // everything missing, at once
		fmt.Println(err)
		return
	}
	tools, err := tf.FindTools()
	if err != nil {
		fmt.Println(err)
		return
	}
	ws, err := f.Workspace()
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := tf.NewExec(ws, tools, f.TerraformEnv(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res := f.Run(ctx, c, r, scenario.Hooks{})
	fmt.Print(res.Timeline.Table())
	fmt.Println(res.Err, res.Leftovers)
}
