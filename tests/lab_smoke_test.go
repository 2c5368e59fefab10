package tests

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestLabSmoke proves the lab cloud serves what every other test needs: as the
// lab's member, one VM on each compute host (anti-affinity), floating IPs that
// answer ping, ssh and http, and a Ceph volume that appears in the guest, is
// written, read back and detached; then everything is deleted. The admin cloud
// confirms the VMs landed on two different hypervisors.
func TestLabSmoke(t *testing.T) {
	if os.Getenv("CLOUDPULSE_LAB") == "" {
		t.Skip("lab only: run through `make lab-smoke` (CLOUDPULSE_LAB=1)")
	}
	t.Parallel() // its own run, network and range; out of the lab's upgrade and faults
	holdLabSteady(t)
	// The admin's view (which host runs a server, its console) through one connection.
	ac := connect(t, runContext(t, time.Minute), adminCloud(t))
	cc, err := ac.Compute()
	require.NoError(t, err)
	runFunctional(t, cloudConfig(t), func(o *scenario.FunctionalOptions) {
		o.ServerGroupPolicy = "anti-affinity"
	}, func(out tf.Outputs) []check.Check {
		return []check.Check{{
			Name: "one VM on each compute host",
			Run: func(ctx context.Context) error {
				var ids []string
				if err := out.Decode("server_ids", &ids); err != nil {
					return err
				}
				seen := map[string]string{}
				for _, id := range ids {
					s, err := servers.Get(ctx, cc, id).Extract()
					if err != nil {
						return fmt.Errorf("server %s as admin: %w", id, err)
					}
					if other, dup := seen[s.Host]; dup {
						return fmt.Errorf("servers %s and %s both run on %q: anti-affinity did not spread them", other, s.Name, s.Host)
					}
					seen[s.Host] = s.Name
					t.Logf("%s runs on compute host %s", s.Name, s.Host)
				}
				return nil
			},
		}, {
			// The tiny guest prints "cloudpulse-guest ready ... uptime=S" on its serial console once
			// dropbear and httpd run: S is boot → ssh/http ready under nova's qemu (TCG).
			Name: "each guest reports ready on its console",
			Run: func(ctx context.Context) error {
				var ids []string
				if err := out.Decode("server_ids", &ids); err != nil {
					return err
				}
				for _, id := range ids {
					var line string
					err := probe.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
						log, err := servers.ShowConsoleOutput(ctx, cc, id, servers.ShowConsoleOutputOpts{}).Extract()
						if err != nil {
							return false, nil // the console may not be readable yet; retried until ctx ends
						}
						line = readyLine(log)
						return line != "", nil
					})
					if err != nil {
						return fmt.Errorf("server %s: no \"cloudpulse-guest ready\" line on its console: %w", id, err)
					}
					t.Logf("server %s: %s", id, line)
				}
				return nil
			},
		}}
	})
}

// adminCloud is CLOUDPULSE_ADMIN_CLOUD (a clouds.yaml cloud with the admin role), or skips.
func adminCloud(t *testing.T) *cloud.Config {
	t.Helper()
	name := os.Getenv("CLOUDPULSE_ADMIN_CLOUD")
	if name == "" {
		t.Skip("set CLOUDPULSE_ADMIN_CLOUD to a clouds.yaml cloud with the admin role")
	}
	cfg, err := cloud.Load(name)
	require.NoError(t, err)
	return cfg
}

// readyLine is the guest's readiness line in a console log, or "".
func readyLine(console string) string {
	for _, l := range strings.Split(console, "\n") {
		if i := strings.Index(l, "cloudpulse-guest ready "); i >= 0 {
			return strings.TrimSpace(l[i:])
		}
	}
	return ""
}
