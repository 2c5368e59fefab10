package tf_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The package example (doc.go), compiled so that it cannot go stale: run a
// fixture through OpenTofu with destroy armed before apply. It needs a cloud,
// so it has no output to check.
func Example() {
	ctx := context.Background()
	cfg, err := cloud.Load("") // $OS_CLOUD
	if err != nil {
		fmt.Println(err)
		return
	}
	tools, err := tf.FindTools()
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := tf.NewRunID("cp") // cp<MMDDhhmm>-<8 hex digits>: the only form cleanup trusts
	if err != nil {
		fmt.Println(err)
		return
	}
	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/functional", RunID: id,
		Vars: map[string]any{"run_id": id}})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := tf.NewExec(ws, tools, cfg.TerraformEnv(), os.Stderr)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = tf.Lifecycle(ctx, r, tf.LifecycleOptions{}, func(ctx context.Context, out tf.Outputs) error {
		ip, err := out.String("floating_ip")
		fmt.Println("validate", ip)
		return err
	})
	fmt.Println(err)
}
