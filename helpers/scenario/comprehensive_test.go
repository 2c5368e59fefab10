package scenario

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

func TestNewComprehensiveDefaults(t *testing.T) {
	s, err := NewComprehensive(ComprehensiveOptions{Cloud: &cloud.Config{Name: "lab", File: "/x/clouds.yaml"}})
	require.NoError(t, err)
	o := s.Options()
	assert.Equal(t, "cloudpulse-tiny", o.Image)
	assert.Equal(t, "cp.tiny", o.Flavor)
	assert.Equal(t, "public", o.ExternalNetwork)
	assert.Equal(t, "10.43.0.0/24", o.CIDR)
	assert.Equal(t, "root", o.SSHUser)
	assert.Equal(t, "anti-affinity", o.ServerGroupPolicy)
	assert.Equal(t, 20, o.MaxParallel)
	assert.Equal(t, 5*time.Second, o.BlockedWindow)
	assert.Equal(t, 5*time.Minute, o.ValidateTimeout)
	assert.Equal(t, "comprehensive", s.Name())
	assert.Equal(t, "fixtures/comprehensive", s.Fixture())

	// before Precheck: no hosts, the fixture's default count, spread
	v := s.Vars()
	assert.Equal(t, "lab", v["cloud"])
	assert.Equal(t, s.RunID(), v["run_id"])
	assert.Equal(t, "anti-affinity", v["server_group_policy"])
	assert.NotContains(t, v, "hosts")
	assert.NotContains(t, v, "network_mtu")
	assert.NotContains(t, v, "external_probe_address")
	assert.Contains(t, v["ssh_public_key"], "ssh-ed25519 ")

	// after an admin's Precheck: pinned, no server group
	s.pinned, s.hosts = true, []string{"compute-1", "compute-2"}
	s.o.NetworkMTU, s.o.ExternalProbe = 8950, "172.24.4.1"
	v = s.Vars()
	assert.Equal(t, []string{"compute-1", "compute-2"}, v["hosts"])
	assert.NotContains(t, v, "server_group_policy")
	assert.NotContains(t, v, "server_count")
	assert.Equal(t, 8950, v["network_mtu"])
	assert.Equal(t, "172.24.4.1", v["external_probe_address"])

	// after a member's Precheck: zones, a count, spread
	s.pinned, s.hosts, s.zones, s.servers = false, nil, []string{"nova"}, 2
	v = s.Vars()
	assert.Equal(t, []string{"nova"}, v["availability_zones"])
	assert.Equal(t, 2, v["server_count"])
	assert.Equal(t, "anti-affinity", v["server_group_policy"])
}

func TestNewComprehensiveRejectsBadInput(t *testing.T) {
	c := &cloud.Config{Name: "c"}
	missing := filepath.Join(t.TempDir(), "nope.qcow2")
	for name, tc := range map[string]struct {
		o    ComprehensiveOptions
		want string
	}{
		"no cloud":   {ComprehensiveOptions{}, "comprehensive: no cloud: set OS_CLOUD"},
		"bad run id": {ComprehensiveOptions{Cloud: c, RunID: "x y"}, ""},
		"cidr":       {ComprehensiveOptions{Cloud: c, CIDR: "10.43.0.0/30"}, `comprehensive: cidr "10.43.0.0/30": use an IPv4 range of /29 or larger such as 10.43.0.0/24 (CLOUDPULSE_COMPREHENSIVE_CIDR)`},
		"mtu":        {ComprehensiveOptions{Cloud: c, NetworkMTU: 100}, "comprehensive: network mtu 100: use 576 to 9216, or 0 for the cloud's default (CLOUDPULSE_NETWORK_MTU)"},
		"probe":      {ComprehensiveOptions{Cloud: c, ExternalProbe: "example.com"}, `comprehensive: external probe "example.com": use an IP address outside the cloud (CLOUDPULSE_EXTERNAL_PROBE), or leave it empty for the external subnet's gateway`},
		"parallel":   {ComprehensiveOptions{Cloud: c, MaxParallel: -1}, "comprehensive: max parallel -1: use 1 or more (CLOUDPULSE_MAX_PARALLEL)"},
		"policy":     {ComprehensiveOptions{Cloud: c, ServerGroupPolicy: "spread"}, `comprehensive: server group policy "spread": use anti-affinity, soft-anti-affinity, affinity or soft-affinity`},
		"hosts":      {ComprehensiveOptions{Cloud: c, Hosts: []string{"compute-1", "compute-1"}}, `comprehensive: host "compute-1" listed twice in CLOUDPULSE_HOSTS`},
		"image file": {ComprehensiveOptions{Cloud: c, ImageFile: missing}, "comprehensive: image file " + missing + ": stat " + missing + `: no such file or directory (set CLOUDPULSE_IMAGE_FILE to the guest image, or leave it empty to use image "cloudpulse-tiny" as it is)`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewComprehensive(tc.o)
			require.Error(t, err)
			if tc.want != "" {
				assert.Equal(t, tc.want, err.Error())
			}
		})
	}
	// every bad value at once
	_, err := NewComprehensive(ComprehensiveOptions{Cloud: c, CIDR: "x", NetworkMTU: 1, MaxParallel: -2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cidr "x"`)
	assert.Contains(t, err.Error(), "network mtu 1")
	assert.Contains(t, err.Error(), "max parallel -2")
}

func TestComprehensiveFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLOUDPULSE_FLAVOR", "m1.small")
	t.Setenv("CLOUDPULSE_HOSTS", "compute-1,compute-2")
	t.Setenv("CLOUDPULSE_CIDR", "10.42.0.0/24") // functional's: not comprehensive's
	t.Setenv("CLOUDPULSE_COMPREHENSIVE_CIDR", "10.44.0.0/24")
	t.Setenv("CLOUDPULSE_NETWORK_MTU", "8950")
	t.Setenv("CLOUDPULSE_EXTERNAL_PROBE", "172.24.4.1")
	t.Setenv("CLOUDPULSE_MAX_PARALLEL", "3")
	t.Setenv("CLOUDPULSE_FULL_MESH", "1")
	t.Setenv("CLOUDPULSE_BLOCKED_WINDOW", "3s")
	t.Setenv("CLOUDPULSE_VALIDATE_TIMEOUT", "2m")
	o, err := ComprehensiveFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "m1.small", o.Flavor)
	assert.Equal(t, []string{"compute-1", "compute-2"}, o.Hosts)
	assert.Equal(t, "10.44.0.0/24", o.CIDR)
	assert.Equal(t, 8950, o.NetworkMTU)
	assert.Equal(t, "172.24.4.1", o.ExternalProbe)
	assert.Equal(t, 3, o.MaxParallel)
	assert.True(t, o.FullMesh)
	assert.Equal(t, 3*time.Second, o.BlockedWindow)
	assert.Equal(t, 2*time.Minute, o.ValidateTimeout)

	for _, k := range []string{"CLOUDPULSE_COMPREHENSIVE_CIDR", "CLOUDPULSE_NETWORK_MTU", "CLOUDPULSE_EXTERNAL_PROBE", "CLOUDPULSE_MAX_PARALLEL", "CLOUDPULSE_FULL_MESH", "CLOUDPULSE_BLOCKED_WINDOW"} {
		assert.Contains(t, EnvVars, k)
	}
	d, err := Lookup("comprehensive")
	require.NoError(t, err)
	s, err := d.New(&cloud.Config{Name: "c"})
	require.NoError(t, err)
	assert.Equal(t, "comprehensive", s.Name())
}

func TestComprehensiveFromEnvListsEveryBadValue(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLOUDPULSE_NETWORK_MTU", "jumbo")
	t.Setenv("CLOUDPULSE_MAX_PARALLEL", "0")
	t.Setenv("CLOUDPULSE_FULL_MESH", "yes")
	t.Setenv("CLOUDPULSE_BLOCKED_WINDOW", "-1s")
	t.Setenv("CLOUDPULSE_APPLY_TIMEOUT", "soon")
	_, err := ComprehensiveFromEnv()
	require.Error(t, err)
	assert.Equal(t, `CLOUDPULSE_APPLY_TIMEOUT="soon": use a positive duration such as 90s or 20m
CLOUDPULSE_NETWORK_MTU="jumbo": use a number from 576 to 9216, e.g. 8950
CLOUDPULSE_MAX_PARALLEL="0": use a number of 1 or more
CLOUDPULSE_FULL_MESH="yes": use 1 or 0
CLOUDPULSE_BLOCKED_WINDOW="-1s": use a positive duration such as 5s`, err.Error())
}

func TestComprehensiveImageFileIsMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "img.qcow2"), []byte("x"), 0o600))
	t.Chdir(dir)
	s, err := NewComprehensive(ComprehensiveOptions{Cloud: &cloud.Config{Name: "c"}, ImageFile: "img.qcow2"})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "img.qcow2"), s.Vars()["image_file"])
}
