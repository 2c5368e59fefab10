package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/report"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestFunctional answers "does this cloud work for its users?": a tenant's
// image, network, router, security group, two VMs with floating IPs and a
// volume, validated by ping, ssh and http, then destroyed with nothing left.
//
//	OS_CLOUD=mycloud go test -run Functional -timeout 60m ./tests/...
//
// Variables: see scenario.EnvVars (CLOUDPULSE_IMAGE, CLOUDPULSE_FLAVOR, ...).
func TestFunctional(t *testing.T) {
	if os.Getenv("CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE") == "1" {
		// make cloud-test: among the parallel cloud tests, which go test starts only once every serial test
		// has ended, TestUpgrade and its real upgrade of the lab among them (TestUpgrade/functional then skips)
		t.Parallel()
		holdLabSteady(t)
		t.Log("after TestUpgrade: the control plane takes new work once the lab is upgraded (CLOUDPULSE_FUNCTIONAL_AFTER_UPGRADE=1)")
	}
	runFunctional(t, cloudConfig(t), nil, nil)
}

// TestFunctionalOperatorMode runs the same scenario in operator mode (the
// seed's "create tenant"): with the admin cloud named by
// CLOUDPULSE_ADMIN_CLOUD it creates a fresh project and user, and everything
// else is built and validated as that user. Its own subnet range, so it can
// share a cloud with TestFunctional.
//
//	CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -run FunctionalOperatorMode ./tests/...
//
// The run happens in a child process whose every output is searched for the
// passwords it knew, beside a failing run of the CLI (scanSecretsAround;
// CLOUDPULSE_SECRET_SCAN=0 runs it directly).
func TestFunctionalOperatorMode(t *testing.T) {
	if !testing.Short() {
		// side by side with the comprehensive pair: its own project, network and range; out of the lab's upgrade
		t.Parallel()
		holdLabSteady(t)
	}
	if scanSecretsAround(t) {
		return
	}
	runFunctional(t, adminCloud(t), func(o *scenario.FunctionalOptions) {
		o.CreateProject = true
		if os.Getenv("CLOUDPULSE_CIDR") == "" {
			o.CIDR = "10.43.0.0/24"
		}
		o.Hosts = nil // pinning to hypervisors is TestFunctional's business
	}, nil)
}

// runFunctional runs the Functional scenario on cfg; adjust changes the options
// from the environment, extra adds validations (run before the built-in ones).
func runFunctional(t *testing.T, cfg *cloud.Config, adjust func(*scenario.FunctionalOptions),
	extra func(tf.Outputs) []check.Check) scenario.Result {
	o, err := scenario.FromEnv()
	require.NoError(t, err)
	o.Cloud = cfg
	if adjust != nil {
		adjust(&o)
	}
	f, err := scenario.NewFunctional(o)
	require.NoError(t, err)
	o = f.Options()
	ctx := runContext(t, 30*time.Second) // destroy fits in ctx (scenario.FitBudget)
	c := connect(t, ctx, cfg)
	tools, err := tf.FindTools()
	require.NoError(t, err)

	// Everything missing, listed at once, before anything exists.
	require.NoError(t, f.Precheck(ctx, c))

	ws, err := f.Workspace()
	require.NoError(t, err)
	t.Logf("run %s on cloud %q, state in %s", f.RunID(), cfg.Name, ws.Root)
	r := tf.NewTerratest(t, ws, tools, f.TerraformEnv())

	res := f.Run(ctx, c, r, scenario.Hooks{
		OnResult: logResult(t),
		Logf:     t.Logf,
		Extra:    extra,
	})

	// one subtest per check (a JUnit case each); "not run" skips only follow a failure
	reportResults(t, res.Checks, func(string) bool { return len(res.Failed()) > 0 })
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
	t.Logf("functional run %s steps:\n%s", res.RunID, res.Timeline.Table())
	t.Logf("harness overhead: %.1fs of CPU (tofu, provider, Go) in %.1fs wall = %.1f%%",
		res.Overhead.HarnessSeconds, res.Overhead.WallSeconds, res.Overhead.Percent)
	if p := reportPath(t); p != "" {
		sum := report.Summary{Name: t.Name(), RunID: res.RunID, Cloud: cfg.Name, Started: time.Now().Add(-res.Wall),
			Seconds: res.Wall.Seconds(), OK: res.Err == nil, Steps: res.Timeline.Steps(), Overhead: &res.Overhead}
		require.NoError(t, sum.WriteJSON(p))
	}
	require.NoError(t, res.Err, fmt.Sprintf("functional run %s", res.RunID))
	assert.Empty(t, res.Leftovers, "resources tagged with the run id after destroy")
	if o.Image == "cloudpulse-tiny" { // the lab's guest prints its host keys: nothing may fall back to trust on first use
		require.NotEmpty(t, res.HostKeys, "host keys pinned")
		for _, p := range res.HostKeys {
			assert.Equal(t, probe.PinnedFromConsole, p.Source, "host key of %s", p.Address)
		}
	}
	return res
}

// reportPath is CLOUDPULSE_REPORT for TestFunctional; other tests write next
// to it with their name added (functional.json → functional-operator-mode.json,
// functional-lab-smoke.json).
func reportPath(t *testing.T) string {
	p := os.Getenv("CLOUDPULSE_REPORT")
	if p == "" || t.Name() == "TestFunctional" || t.Name() == "TestUpgrade/functional" {
		return p // TestUpgrade/functional is TestFunctional after the upgrade (make test runs only it)
	}
	name := strings.TrimPrefix(strings.TrimPrefix(t.Name(), "Test"), "Functional")
	var kebab strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			kebab.WriteByte('-')
		}
		kebab.WriteRune(unicode.ToLower(r))
	}
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + "-" + kebab.String() + ext
}
