package scenario_test

import (
	"context"
	"fmt"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The package example (doc.go), compiled so that it cannot go stale: a
// registered scenario through terraform-exec, as cpulse runs it. It needs a
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
	d, err := scenario.Lookup("functional")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := d.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Precheck(ctx, c); err != nil { // everything missing, at once
		fmt.Println(err)
		return
	}
	tools, err := tf.FindTools()
	if err != nil {
		fmt.Println(err)
		return
	}
	ws, err := scenario.Workspace(s)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := tf.NewExec(ws, tools, s.TerraformEnv(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res := scenario.Run(ctx, c, s, r, scenario.Hooks{})
	fmt.Print(res.Timeline.Table())
	for _, r := range res.Checks {
		fmt.Println(r.Name, r.Status(), r.Detail())
	}
	fmt.Println(res.Err, res.Leftovers)
}
