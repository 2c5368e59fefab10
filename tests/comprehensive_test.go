package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestComprehensive answers "does every compute host work?": as admin
// (CLOUDPULSE_ADMIN_CLOUD) one VM pinned to each enabled compute host that is
// up, each reached by ping, ssh and http, each reaching its gateway, the
// outside and the metadata service, the VMs reaching each other around a
// ring with the network's full MTU, and the security groups allowing and
// blocking what they should.
//
//	CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -run 'Comprehensive$' -timeout 60m ./tests/...
//
// Variables: see scenario.EnvVars (CLOUDPULSE_HOSTS, CLOUDPULSE_NETWORK_MTU, ...).
func TestComprehensive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cloud tests skipped")
	}
	t.Parallel() // its faults touch only its own security group and tap
	holdLabSteady(t)
	var faults []string
	res, s := runComprehensive(t, adminCloud(t), nil, scenario.Hooks{AfterChecks: func(ctx context.Context, out tf.Outputs, rerun func(context.Context, ...string) []check.Result) {
		// a subtest: a failed require ends it (its cleanups undo the faults), not the run, so destroy and the leftover check still follow
		t.Run("faults", func(t *testing.T) { faults = injectComprehensiveFaults(t, ctx, out, rerun) })
	}})
	t.Logf("faults proven on the same apply: %v", faults)
	hosts, _ := s.Vars()["hosts"].([]string)
	require.NotEmpty(t, hosts, "as admin every VM is pinned to a compute host")
	passed := map[string]bool{}
	for _, r := range res.Checks {
		passed[r.Name] = r.Status() == check.Passed
	}
	for _, h := range hosts {
		for _, c := range []string{"ping/", "ssh/", "http/", "gateway/", "external/", "metadata/"} {
			assert.True(t, passed[c+h], "%s%s passed", c, h)
		}
	}
}

// TestComprehensiveMember runs the same scenario as the member user of
// OS_CLOUD: without the admin role it cannot see or pin hosts, so it spreads
// at least two VMs over the availability zones with anti-affinity and says
// that host coverage was not possible (host-coverage, skipped).
//
// A member may not see the external network's subnets: without
// CLOUDPULSE_EXTERNAL_PROBE the outside address is then read through
// CLOUDPULSE_ADMIN_CLOUD (the external subnet's gateway), if set.
func TestComprehensiveMember(t *testing.T) {
	t.Parallel()
	holdLabSteady(t)
	res, _ := runComprehensive(t, cloudConfig(t), func(o *scenario.ComprehensiveOptions) {
		o.Hosts = nil
		if o.ExternalProbe == "" && os.Getenv("CLOUDPULSE_ADMIN_CLOUD") != "" {
			o.ExternalProbe = externalGateway(t, adminCloud(t), o.ExternalNetwork)
		}
	}, scenario.Hooks{})
	var coverage *check.Result
	for i, r := range res.Checks {
		if r.Name == "host-coverage" {
			coverage = &res.Checks[i]
		}
	}
	require.NotNil(t, coverage, "host-coverage reported")
	assert.Equal(t, check.Skipped, coverage.Status())
	assert.Contains(t, coverage.Reason, "per-host coverage needs the admin role")
	for _, name := range []string{"ping/vm-1", "ping/vm-2", "east-west/vm-1→vm-2", "mtu/vm-1→vm-2", "sg/runner→target/icmp", "sg/vm-2→target/icmp"} {
		assert.Contains(t, checkNames(res.Checks), name)
	}
}

func checkNames(rs []check.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// runComprehensive runs the comprehensive scenario on cfg with the options
// from the environment, lists every result as a subtest, logs the per-VM
// report and how the wall time split, and requires a pass with nothing left.
func runComprehensive(t *testing.T, cfg *cloud.Config, adjust func(*scenario.ComprehensiveOptions), h scenario.Hooks) (scenario.Result, *scenario.Comprehensive) {
	res, s := runComprehensiveOnly(t, cfg, adjust, h)
	// one subtest per check; a disabled host and the member's host coverage may skip
	reportResults(t, res.Checks, func(name string) bool {
		return name == "host-coverage" || strings.HasPrefix(name, "boot/") || len(res.Failed()) > 0
	})
	require.NoError(t, res.Err, fmt.Sprintf("comprehensive run %s", res.RunID))
	return res, s
}

// runComprehensiveOnly is runComprehensive without requiring a pass (a fault
// test expects a failure); the leftover check still applies.
func runComprehensiveOnly(t *testing.T, cfg *cloud.Config, adjust func(*scenario.ComprehensiveOptions), h scenario.Hooks) (scenario.Result, *scenario.Comprehensive) {
	o, err := scenario.ComprehensiveFromEnv()
	require.NoError(t, err)
	o.Cloud = cfg
	if adjust != nil {
		adjust(&o)
	}
	s, err := scenario.NewComprehensive(o)
	require.NoError(t, err)
	ctx := runContext(t, 30*time.Second)
	c := connect(t, ctx, cfg)
	tools, err := tf.FindTools()
	require.NoError(t, err)

	// hosts (or zones) found, everything missing listed at once, before anything exists
	start := time.Now()
	require.NoError(t, s.Precheck(ctx, c))
	t.Logf("precheck %.1fs: fixture variables hosts=%v availability_zones=%v server_count=%v",
		time.Since(start).Seconds(), s.Vars()["hosts"], s.Vars()["availability_zones"], s.Vars()["server_count"])

	ws, err := scenario.Workspace(s)
	require.NoError(t, err)
	t.Logf("run %s on cloud %q, state in %s", s.RunID(), cfg.Name, ws.Root)
	r := tf.NewTerratest(t, ws, tools, s.TerraformEnv())
	h.Logf, h.OnResult = t.Logf, logResult(t)
	res := scenario.Run(ctx, c, s, r, h)

	if res.Err != nil && len(res.Console) > 0 {
		ids := make([]string, 0, len(res.Console))
		for id := range res.Console {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			t.Logf("console log of server %s (last lines):\n%s", id, res.Console[id])
		}
	}
	for _, r := range res.Checks {
		if v, ok := r.Details["path_mtu"]; ok {
			t.Logf("%s: path MTU %s, network MTU %s", r.Name, v, r.Details["network_mtu"])
		}
	}
	byHost, err := json.MarshalIndent(scenario.ByHost(res), "", "  ")
	require.NoError(t, err)
	t.Logf("per VM:\n%s", byHost)
	t.Logf("comprehensive run %s steps:\n%s", res.RunID, res.Timeline.Table())
	t.Logf("%s", phaseSplit(res))
	assert.Empty(t, res.Leftovers, "resources tagged with the run id after destroy")
	return res, s
}

// externalGateway is the gateway of the external network's first subnet that
// has one, read with cfg's credentials (default network: public).
func externalGateway(t *testing.T, cfg *cloud.Config, network string) string {
	t.Helper()
	if network == "" {
		network = "public"
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := connect(t, ctx, cfg)
	nc, err := c.Network()
	require.NoError(t, err)
	pages, err := networks.List(nc, networks.ListOpts{Name: network}).AllPages(ctx)
	require.NoError(t, err)
	nets, err := networks.ExtractNetworks(pages)
	require.NoError(t, err)
	require.Len(t, nets, 1, "external network %q", network)
	pages, err = subnets.List(nc, subnets.ListOpts{NetworkID: nets[0].ID, IPVersion: 4}).AllPages(ctx)
	require.NoError(t, err)
	subs, err := subnets.ExtractSubnets(pages)
	require.NoError(t, err)
	for _, s := range subs {
		if s.GatewayIP != "" {
			t.Logf("outside address for the member: %s (gateway of %s's subnet %s)", s.GatewayIP, network, s.Name)
			return s.GatewayIP
		}
	}
	t.Fatalf("no subnet of %s has a gateway: set CLOUDPULSE_EXTERNAL_PROBE", network)
	return ""
}

// phaseSplit says how the wall time split: apply, the validations (first
// check's start to last check's end) and destroy.
func phaseSplit(res scenario.Result) string {
	var apply, destroy time.Duration
	var first, last time.Time
	for _, st := range res.Timeline.Steps() {
		switch {
		case st.Name == "tofu apply":
			apply += st.Duration
		case st.Name == "tofu destroy":
			destroy += st.Duration
		case strings.HasPrefix(st.Name, "tofu ") || st.Name == "no leftovers":
		default:
			if first.IsZero() || st.Started.Before(first) {
				first = st.Started
			}
			if end := st.Started.Add(st.Duration); end.After(last) {
				last = end
			}
		}
	}
	return fmt.Sprintf("wall %.1fs: apply %.1fs, validations %.1fs, destroy %.1fs (%d checks)",
		res.Wall.Seconds(), apply.Seconds(), last.Sub(first).Seconds(), destroy.Seconds(), len(res.Checks))
}
