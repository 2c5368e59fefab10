// Command cpulse checks the health of an OpenStack cloud the way its users use it.
//
//	cpulse check endpoint|operator|functional|comprehensive|all [--cloud NAME] [--service-map FILE] [--json]
//	cpulse upgrade snapshot|watch|verify|finish [--state DIR] [--cloud NAME] [--resources FILE] [--create=false]
//	cpulse cleanup [--cloud NAME] [--state-dir DIR] [--older-than 2h] [--dry-run]
//	cpulse serve --config FILE
//
// The cloud comes from --cloud or OS_CLOUD (clouds.yaml), or the OS_* variables.
// Exit status: 0 all checks passed (or skipped), 1 a check failed, 2 bad usage or input.
//
// Remote mode, with a server (--server, $CPULSE_SERVER or ~/.cpulserc): check
// and upgrade snapshot|create|verify ask the `cpulse serve` service instead:
//
//	cpulse [--server URL] [--token-file FILE] check TYPE [--cloud C] [--wait] [--json]
//	cpulse [--server URL] result HANDLE [--json] | results [--failed] [--since 1h] [--type T] [--limit N] [--json]
//	cpulse [--server URL] cancel HANDLE             (of a passed snapshot: finish it, destroying what it built)
//	cpulse [--server URL] upgrade snapshot --resources FILE [--create=false] [--wait]
//	cpulse [--server URL] check upgrade --snapshot HANDLE [--destroy] [--functional=false] [--wait]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError is bad input: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errChecksFailed means the command ran and a check failed: exit 1.
var errChecksFailed = errors.New("one or more checks failed")

const usage = `cpulse checks the health of an OpenStack cloud the way its users use it.

Usage:
  cpulse check endpoint|operator|<scenario>|all [flags]  run checks, print a table (or --json);
                                                        scenarios: functional, comprehensive
  cpulse upgrade snapshot|watch|verify|finish [flags]    the upgrade gate: snapshot before, downtime during,
                                                        the same assertions after (state in $CLOUDPULSE_UPGRADE_STATE)
  cpulse cleanup [flags]                                 destroy what interrupted runs left behind
  cpulse serve --config FILE                             the checks as a service: REST API, schedule, history

Run "cpulse check -h" or "cpulse cleanup -h" for flags.

Remote mode: global flags before the command, --server URL (else $CPULSE_SERVER or server: in
~/.cpulserc, mode 0600) and --token-file FILE (else $CPULSE_TOKEN or token:/token_file: in ~/.cpulserc).
With a server, check TYPE [--wait] and upgrade snapshot|create|verify run on the service and print the handle.
  cpulse result HANDLE | results [flags]                 a run, or the history, from the service (needs a server)
  cpulse cancel HANDLE                                   cancel a run on the service (needs a server)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		fmt.Fprintln(stderr, "cpulse:", err)
		return 2
	case errors.Is(err, errChecksFailed):
		return 1
	default:
		fmt.Fprintln(stderr, "cpulse:", err)
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	args, g, err := parseGlobalFlags(args)
	if err != nil {
		return err
	}
	if handled, err := runRemote(ctx, g, args, stdout, stderr); handled {
		return err
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "cleanup":
		return runCleanup(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "upgrade":
		return runUpgrade(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usagef("unknown command %q", args[0])
	}
}
