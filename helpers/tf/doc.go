// Package tf runs a fixture — a root module under fixtures/ — through OpenTofu:
// copy it with the modules it uses into a state directory, init, apply, read
// outputs, destroy.
//
// Two runners share one interface: Terratest (for go test, through terratest's
// terraform module) and Exec (for the CLI and the service, through
// terraform-exec). Both always run the pinned tofu from .tools/bin with the
// CLI config .tools/tofurc, never a terraform found on PATH.
//
// Lifecycle arms destroy before apply and runs it with its own context, so a
// failed, cancelled or timed-out run still cleans up:
//
//	tools, _ := tf.FindTools()
//	ws, _ := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: "fixtures/functional", RunID: id, Vars: vars})
//	r, _ := tf.NewExec(ws, tools, env)
//	err := tf.Lifecycle(ctx, r, tf.LifecycleOptions{}, func(ctx context.Context, out tf.Outputs) error {
//		return validate(ctx, out)
//	})
package tf
