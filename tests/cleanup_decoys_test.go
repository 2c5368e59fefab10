package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/probe"
	"github.com/cloudpulse/cloudpulse/helpers/scenario"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestCleanupLeavesDecoysAlone proves that cleanup touches only what is
// cloudpulse's. Decoys — a server, a network (with a subnet) and a keypair
// whose names contain the run id and even its name prefix, but do not start
// with it — are made in the member's project and in another project, which
// carries the run's tag and a name containing the run id but is not the run's
// project. That other project also holds a network named and tagged exactly as
// the run's. Then, with the member's and with the admin's credentials, the
// after-failure sweep, `cpulse cleanup` of a workspace of that run id, and the
// age-based `cpulse cleanup --older-than 1s` (for real only inside the other
// project: the member's project is shared) all run, and every decoy is still
// there. The sweeps do delete what is the run's where it is theirs to delete:
// a keypair named with the run's prefix (member) and the tagged network of
// the other project (age sweep as that project's user).
//
// Needs CLOUDPULSE_ADMIN_CLOUD (creates a project) and the image and flavor of
// the Functional scenario (the decoy servers).
func TestCleanupLeavesDecoysAlone(t *testing.T) {
	memberCfg := cloudConfig(t)
	adminCfg := adminCloud(t)
	// beside the other parallel cloud tests: its sweeps are by its own run id, and its real age sweep runs
	// only in its own project (in the member's shared project it is a dry run that asserts only on decoys)
	t.Parallel()
	holdLabSteady(t)
	ctx := runContext(t, 5*time.Minute)
	member := connect(t, ctx, memberCfg)
	admin := connect(t, ctx, adminCfg)
	bin := buildCpulse(t, ctx)
	o, err := scenario.FromEnv()
	require.NoError(t, err)
	o.Cloud = memberCfg
	defaults, err := scenario.NewFunctional(o)
	require.NoError(t, err)
	o = defaults.Options() // image and flavor, with the defaults
	runID := scenario.NewRunID()
	prefix := scenario.NamePrefix(runID)
	t.Logf("run id %s; decoys are named decoy-%s…", runID, prefix)

	other, otherCfg := decoyProject(t, ctx, admin, adminCfg, "decoy-"+scenario.ProjectName(runID), []string{scenario.RunTag(runID)})
	var decoys []decoy
	decoys = append(decoys, makeDecoys(t, ctx, member, "decoy-"+prefix, "10.98.0.0/24", o.Image, o.Flavor)...)
	decoys = append(decoys, makeDecoys(t, ctx, other, "decoy-"+prefix, "10.98.0.0/24", o.Image, o.Flavor)...)

	// What is the run's: a keypair with the run's prefix in the member's
	// project, and a network tagged and named for the run in the other project.
	mcc, err := member.Compute()
	require.NoError(t, err)
	key, err := probe.NewKeyPair("cloudpulse-decoy-test")
	require.NoError(t, err)
	require.NoError(t, busyRetry(ctx, func() error {
		_, err := keypairs.Create(ctx, mcc, keypairs.CreateOpts{Name: prefix + "key", PublicKey: key.AuthorizedKey}).Extract()
		return err
	}))
	onc, err := other.Network()
	require.NoError(t, err)
	var twin *networks.Network
	require.NoError(t, busyRetry(ctx, func() (err error) {
		twin, err = networks.Create(ctx, onc, networks.CreateOpts{Name: prefix + "net"}).Extract()
		return err
	}))
	_, err = attributestags.ReplaceAll(ctx, onc, "networks", twin.ID, attributestags.ReplaceAllOpts{Tags: []string{scenario.RunTag(runID)}}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = networks.Delete(context.Background(), onc, twin.ID).ExtractErr() })

	t.Run("sweep as the member", func(t *testing.T) {
		swept, err := scenario.Sweep(ctx, member, runID)
		require.NoError(t, err)
		assert.Equal(t, []string{"keypair " + prefix + "key (" + prefix + "key)"}, resourceNames(swept))
		assertDecoys(t, ctx, decoys)
	})
	t.Run("sweep as the admin", func(t *testing.T) {
		swept, err := scenario.Sweep(ctx, admin, runID)
		require.NoError(t, err)
		assert.Empty(t, resourceNames(swept), "the other project is not the run's: its name is not %s", scenario.ProjectName(runID))
		_, err = networks.Get(ctx, onc, twin.ID).Extract()
		assert.NoError(t, err, "the network named and tagged for the run in another project")
		assertDecoys(t, ctx, decoys)
	})
	for _, cfg := range []*cloud.Config{memberCfg, adminCfg} {
		t.Run("cpulse cleanup as "+cfg.Name, func(t *testing.T) {
			stateDir := t.TempDir()
			f, err := scenario.NewFunctional(scenario.FunctionalOptions{Cloud: cfg, RunID: runID, Image: o.Image, Flavor: o.Flavor})
			require.NoError(t, err)
			// in stateDir, not through CLOUDPULSE_STATE_DIR: the process's environment is shared by the parallel tests
			ws, err := tf.NewWorkspace(tf.WorkspaceOptions{Fixture: f.Fixture(), RunID: f.RunID(), Vars: f.Vars(),
				Secrets: f.Secrets(), StateRoot: stateDir})
			require.NoError(t, err)
			require.NoError(t, ws.Release()) // as if its run had been killed
			out := cpulse(t, ctx, bin, nil, "cleanup", "--cloud", cfg.Name, "--state-dir", stateDir)
			assert.Contains(t, out, "cleanup: run "+runID+": deleted 0 resources through the APIs")
			assert.Contains(t, out, "cleanup: run "+runID+": clean in ")
			assertDecoys(t, ctx, decoys)
		})
	}
	t.Run("cpulse cleanup --older-than 1s --dry-run as the member", func(t *testing.T) {
		time.Sleep(2 * time.Second) // the decoys are older than 1s
		out := cpulse(t, ctx, bin, nil, "cleanup", "--cloud", memberCfg.Name, "--state-dir", t.TempDir(), "--older-than", "1s", "--dry-run")
		assert.NotContains(t, out, "decoy-")
		assertDecoys(t, ctx, decoys)
	})
	t.Run("cpulse cleanup --older-than 1s in the other project", func(t *testing.T) {
		time.Sleep(2 * time.Second)
		env := []string{"OS_CLIENT_CONFIG_FILE=" + otherCfg}
		out := cpulse(t, ctx, bin, env, "cleanup", "--cloud", "decoy", "--state-dir", t.TempDir(), "--older-than", "1s", "--dry-run")
		assert.Contains(t, out, "cleanup: would delete network "+prefix+"net ("+twin.ID+") of run "+runID)
		assert.NotContains(t, out, "decoy-")
		_, err := networks.Get(ctx, onc, twin.ID).Extract()
		require.NoError(t, err, "--dry-run deletes nothing")

		out = cpulse(t, ctx, bin, env, "cleanup", "--cloud", "decoy", "--state-dir", t.TempDir(), "--older-than", "1s")
		assert.Contains(t, out, "cleanup: deleting network "+prefix+"net ("+twin.ID+") of run "+runID)
		assert.NotContains(t, out, "decoy-")
		_, err = networks.Get(ctx, onc, twin.ID).Extract()
		assert.True(t, gophercloud.ResponseCodeIs(err, http.StatusNotFound), "the run's network is deleted: %v", err)
		assertDecoys(t, ctx, decoys)
	})
}

// cpulse runs the built binary with extra environment and returns its output;
// it fails the test when the command fails.
func cpulse(t *testing.T, ctx context.Context, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("cpulse %s (%.1fs):\n%s", strings.Join(args, " "), time.Since(start).Seconds(), out)
	require.NoError(t, err)
	return string(out)
}

func resourceNames(rs []scenario.Resource) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

// decoy is a resource that is not cloudpulse's, and how to see it is still there.
type decoy struct {
	what  string
	exist func(ctx context.Context) error
}

func assertDecoys(t *testing.T, ctx context.Context, decoys []decoy) {
	t.Helper()
	for _, d := range decoys {
		assert.NoError(t, busyRetry(ctx, func() error { return d.exist(ctx) }), "decoy %s must be untouched", d.what)
	}
}

// makeDecoys makes, as c, a network with a subnet, a server on it and a
// keypair, all named name…; each is deleted when the test ends.
func makeDecoys(t *testing.T, ctx context.Context, c *cloud.Cloud, name, cidr, image, flavor string) []decoy {
	t.Helper()
	nc, err := c.Network()
	require.NoError(t, err)
	cc, err := c.Compute()
	require.NoError(t, err)
	ic, err := c.Image()
	require.NoError(t, err)

	var net *networks.Network
	require.NoError(t, busyRetry(ctx, func() (err error) {
		net, err = networks.Create(ctx, nc, networks.CreateOpts{Name: name + "net", Description: "not cloudpulse's, though it names run " + name}).Extract()
		return err
	}))
	t.Cleanup(func() {
		deleteDecoy(t, "network "+net.Name, func(ctx context.Context) error { return networks.Delete(ctx, nc, net.ID).ExtractErr() })
	})
	var sub *subnets.Subnet
	require.NoError(t, busyRetry(ctx, func() (err error) {
		sub, err = subnets.Create(ctx, nc, subnets.CreateOpts{Name: name + "subnet", NetworkID: net.ID, CIDR: cidr, IPVersion: gophercloud.IPv4}).Extract()
		return err
	}))
	t.Cleanup(func() {
		deleteDecoy(t, "subnet "+sub.Name, func(ctx context.Context) error { return subnets.Delete(ctx, nc, sub.ID).ExtractErr() })
	})

	key, err := probe.NewKeyPair("decoy")
	require.NoError(t, err)
	var kp *keypairs.KeyPair
	require.NoError(t, busyRetry(ctx, func() (err error) {
		kp, err = keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: name + "key", PublicKey: key.AuthorizedKey}).Extract()
		return err
	}))
	t.Cleanup(func() {
		deleteDecoy(t, "keypair "+kp.Name, func(ctx context.Context) error { return keypairs.Delete(ctx, cc, kp.Name, nil).ExtractErr() })
	})

	imgPages, err := images.List(ic, images.ListOpts{Name: image}).AllPages(ctx)
	require.NoError(t, err)
	imgs, err := images.ExtractImages(imgPages)
	require.NoError(t, err)
	require.NotEmpty(t, imgs, "image %q", image)
	flPages, err := flavors.ListDetail(cc, nil).AllPages(ctx)
	require.NoError(t, err)
	fls, err := flavors.ExtractFlavors(flPages)
	require.NoError(t, err)
	flavorID := ""
	for _, f := range fls {
		if f.Name == flavor {
			flavorID = f.ID
		}
	}
	require.NotEmpty(t, flavorID, "flavor %q", flavor)
	var srv *servers.Server
	require.NoError(t, busyRetry(ctx, func() (err error) {
		srv, err = servers.Create(ctx, cc, servers.CreateOpts{Name: name + "vm-1", ImageRef: imgs[0].ID, FlavorRef: flavorID,
			Networks: []servers.Network{{UUID: net.ID}}, Metadata: map[string]string{"note": "not cloudpulse's: " + name}}, nil).Extract()
		return err
	}))
	// Registered last, so deleted first: the subnet and network wait for it.
	t.Cleanup(func() {
		deleteDecoy(t, "server "+name+"vm-1", func(ctx context.Context) error {
			if err := servers.Delete(ctx, cc, srv.ID).ExtractErr(); err != nil {
				return err
			}
			_, err := servers.Get(ctx, cc, srv.ID).Extract() // 404 once it is gone
			if err == nil {
				err = fmt.Errorf("server %s is still there", srv.ID)
			}
			return err
		})
	})

	where := fmt.Sprintf(" (cloud %s)", c.Name)
	return []decoy{
		{"network " + net.Name + where, func(ctx context.Context) error { _, err := networks.Get(ctx, nc, net.ID).Extract(); return err }},
		{"subnet " + sub.Name + where, func(ctx context.Context) error { _, err := subnets.Get(ctx, nc, sub.ID).Extract(); return err }},
		{"keypair " + kp.Name + where, func(ctx context.Context) error { _, err := keypairs.Get(ctx, cc, kp.Name, nil).Extract(); return err }},
		{"server " + srv.ID + where, func(ctx context.Context) error { _, err := servers.Get(ctx, cc, srv.ID).Extract(); return err }},
	}
}

// deleteDecoy deletes, retrying while the cloud answers with an error (a busy
// API's 503, a network still in use by a server on its way out).
func deleteDecoy(t *testing.T, what string, del func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := probe.WaitFor(ctx, 3*time.Second, func(ctx context.Context) (bool, error) {
		err := del(ctx)
		return err == nil || gophercloud.ResponseCodeIs(err, http.StatusNotFound), err
	})
	if err != nil {
		t.Errorf("delete decoy %s: %v", what, err)
	}
}

// decoyProject makes, as the admin, a project named name with tags and a
// member user in it; it returns a connection as that user and a clouds.yaml
// (cloud "decoy") for cpulse. Both go when the test ends, after the decoys.
func decoyProject(t *testing.T, ctx context.Context, admin *cloud.Cloud, base *cloud.Config, name string, tags []string) (*cloud.Cloud, string) {
	t.Helper()
	id, err := admin.Identity()
	require.NoError(t, err)
	_, adminUser, _, _, err := admin.Token(ctx)
	require.NoError(t, err)
	domain := adminUser.Domain.ID
	proj, err := projects.Create(ctx, id, projects.CreateOpts{Name: name, DomainID: domain, Tags: tags,
		Description: "cloudpulse TestCleanupLeavesDecoysAlone: not a run's project"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		cleanupIdentity(t, id, "project "+name, func(ctx context.Context) error { return projects.Delete(ctx, id, proj.ID).ExtractErr() })
	})
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	password := hex.EncodeToString(secret)
	user, err := users.Create(ctx, id, users.CreateOpts{Name: name, DomainID: domain, DefaultProjectID: proj.ID, Password: password}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		cleanupIdentity(t, id, "user "+name, func(ctx context.Context) error { return users.Delete(ctx, id, user.ID).ExtractErr() })
	})
	pages, err := roles.List(id, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	found, err := roles.ExtractRoles(pages)
	require.NoError(t, err)
	require.NotEmpty(t, found, "the cloud has no role named member")
	require.NoError(t, roles.Assign(ctx, id, found[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: proj.ID}).ExtractErr())

	cfg := *base
	cfg.Name = "decoy"
	cfg.File = ""
	cfg.Auth = gophercloud.AuthOptions{IdentityEndpoint: base.Auth.IdentityEndpoint, Username: name, DomainID: domain,
		Password: password, TenantID: proj.ID}
	c := connect(t, ctx, &cfg)

	clouds := fmt.Sprintf("clouds:\n  decoy:\n    auth:\n      auth_url: %s\n      username: %s\n      password: %s\n      project_id: %s\n      user_domain_id: %s\n    region_name: %s\n    interface: %s\n",
		base.Auth.IdentityEndpoint, name, password, proj.ID, domain, base.Endpoint.Region, orPublic(string(base.Endpoint.Availability)))
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	require.NoError(t, os.WriteFile(path, []byte(clouds), 0o600))
	return c, path
}

func orPublic(s string) string {
	if s == "" {
		return "public"
	}
	return s
}

// busyRetry calls create again while the API is unavailable (HAProxy's 503
// "no server is available": the request reached no backend, so nothing was made).
func busyRetry(ctx context.Context, create func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return probe.WaitFor(ctx, 3*time.Second, func(ctx context.Context) (bool, error) {
		err := create()
		if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusServiceUnavailable) {
			return false, probe.Permanent(err)
		}
		return err == nil, err
	})
}
