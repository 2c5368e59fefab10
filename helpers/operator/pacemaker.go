package operator

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// Pacemaker runs crm_mon on the configured host and fails naming every node
// not online, resource not running, and failed action (see ParseCrmMon).
func Pacemaker(cfg PacemakerConfig, hosts Connector) check.Check {
	command := cfg.Command
	if command == "" {
		command = "crm_mon --output-as=xml"
	}
	return check.Check{Name: "pacemaker", Run: func(ctx context.Context) error {
		r, err := hosts.Runner(ctx, cfg.Host)
		if err != nil {
			return fmt.Errorf("pacemaker: %w", err)
		}
		out, runErr := r.Run(ctx, command, nil)
		if IsCommandNotFound(runErr) {
			return fmt.Errorf("pacemaker: %s not found on %s: install the pacemaker CLI there (Debian: pacemaker-cli-utils), or set pacemaker.host to a cluster node", strings.Fields(command)[0], cfg.Host)
		}
		if len(bytes.TrimSpace(out)) == 0 && runErr != nil {
			return fmt.Errorf("pacemaker: %w", runErr)
		}
		// crm_mon prints its XML result even when it exits non-zero.
		cluster, err := ParseCrmMon(out)
		if err != nil {
			return fmt.Errorf("pacemaker on %s: %w", cfg.Host, err)
		}
		if len(cluster.Problems) > 0 {
			return fmt.Errorf("pacemaker (DC %s, %d of %d nodes online): %s",
				orUnnamed(cluster.DC), cluster.NodesOnline, cluster.Nodes, strings.Join(cluster.Problems, "; "))
		}
		return nil
	}}
}
