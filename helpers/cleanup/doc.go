// Package cleanup destroys what runs left behind: a SIGKILL'ed run's
// workspace (its resources swept through the APIs by run id, then what its
// state still holds destroyed). `cpulse cleanup` and the service (for runs it
// finds interrupted at start) use it.
//
//	workspaces, live, errs := cleanup.OpenWorkspaces(dir, os.Stdout)
//	for _, ws := range workspaces {
//		err := cleanup.Workspace(ctx, cfg, c, ws, false, os.Stdout)
//	}
package cleanup
