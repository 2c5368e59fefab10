// Package tf runs a fixture — a root module under fixtures/ — through OpenTofu:
// copy it with the modules it uses into a state directory, init, apply, read
// outputs, destroy.
//
// Two runners share one interface: Terratest (for go test, through terratest's
// terraform module) and Exec (for the CLI and the service, through
// terraform-exec). Both run the binary FindTools picked — $CLOUDPULSE_TOFU,
// .tools/bin/tofu, or tofu/terraform on PATH, each only when its version
// checks out (OpenTofu PinnedTofu, or Terraform >= 1.6.0, < 2.0.0) — with the
// CLI config .tools/tofurc (the provider mirror), never terratest's own pick.
//
// Lifecycle arms destroy before apply and runs it with its own context, so a
// failed, cancelled or timed-out run still cleans up (see Example):
//
//	tools, err := tf.FindTools()
//	ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/functional", RunID: id, Vars: vars})
//	r, err := tf.NewExec(ws, tools, cfg.TerraformEnv(), os.Stderr)
//	err = tf.Lifecycle(ctx, r, tf.LifecycleOptions{}, func(ctx context.Context, out tf.Outputs) error {
//		return validate(ctx, out)
//	})
package tf
