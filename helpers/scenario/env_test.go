package scenario

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
)

func clearEnv(t *testing.T) {
	for k := range EnvVars {
		t.Setenv(k, "")
	}
}

func TestFromEnvDefaultsAndValues(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLOUDPULSE_FLAVOR", "m1.small")
	t.Setenv("CLOUDPULSE_HOSTS", "compute-1, compute-2,")
	t.Setenv("CLOUDPULSE_CREATE_PROJECT", "1")
	t.Setenv("CLOUDPULSE_APPLY_TIMEOUT", "7m")
	o, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, "m1.small", o.Flavor)
	assert.Equal(t, []string{"compute-1", "compute-2"}, o.Hosts)
	assert.True(t, o.CreateProject)
	assert.Equal(t, 7*time.Minute, o.ApplyTimeout)

	o.Cloud = &cloud.Config{Name: "c", File: "/x/clouds.yaml"}
	f, err := NewFunctional(o)
	require.NoError(t, err)
	got := f.Options()
	assert.Equal(t, "cloudpulse-tiny", got.Image)
	assert.Equal(t, "public", got.ExternalNetwork)
	assert.Equal(t, 5*time.Minute, got.ValidateTimeout)
	v := f.Vars()
	assert.Equal(t, "c", v["cloud"])
	assert.Equal(t, f.RunID(), v["run_id"])
	assert.Contains(t, v["ssh_public_key"], "ssh-ed25519 ")
	assert.Equal(t, []string{"compute-1", "compute-2"}, v["hosts"])
}

func TestFromEnvListsEveryBadValue(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLOUDPULSE_CREATE_PROJECT", "yes")
	t.Setenv("CLOUDPULSE_DESTROY_TIMEOUT", "soon")
	_, err := FromEnv()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `CLOUDPULSE_CREATE_PROJECT="yes": use 1 or 0`)
	assert.Contains(t, err.Error(), `CLOUDPULSE_DESTROY_TIMEOUT="soon": use a positive duration such as 90s or 20m`)
}

func TestNewFunctionalRejectsBadInput(t *testing.T) {
	c := &cloud.Config{Name: "c"}
	for name, tc := range map[string]struct {
		o    FunctionalOptions
		want string
	}{
		"no cloud":   {FunctionalOptions{}, "functional: no cloud: set OS_CLOUD"},
		"bad run id": {FunctionalOptions{Cloud: c, RunID: "UPPER"}, `run id "UPPER" is not of the generated form <prefix><MMDDhhmm>-<8 hex digits>, e.g. cp12021042-0a1b2c3d: leave the run id unset (CLOUDPULSE_RUN_ID) and choose only its prefix (CLOUDPULSE_RUN_PREFIX)`},
		"bad policy": {FunctionalOptions{Cloud: c, ServerGroupPolicy: "spread"}, `functional: server group policy "spread": use affinity, anti-affinity, soft-affinity or soft-anti-affinity`},
		"operator mode without clouds.yaml": {FunctionalOptions{Cloud: c, CreateProject: true},
			"functional: operator mode (CLOUDPULSE_CREATE_PROJECT=1) needs the admin cloud from clouds.yaml (OS_CLOUD), not OS_* variables"},
		"missing file": {FunctionalOptions{Cloud: c, ImageFile: "/nonexistent.qcow2"}, "functional: image file /nonexistent.qcow2: stat /nonexistent.qcow2: no such file or directory (set CLOUDPULSE_IMAGE_FILE to the guest image, or leave it empty to use image \"cloudpulse-tiny\" as it is)"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewFunctional(tc.o)
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestOperatorModeEmptiesOSCloudForOpenTofu(t *testing.T) {
	c := &cloud.Config{Name: "admin", File: "/etc/openstack/clouds.yaml"}
	f, err := NewFunctional(FunctionalOptions{Cloud: c})
	require.NoError(t, err)
	assert.Equal(t, "admin", f.TerraformEnv()["OS_CLOUD"])
	f, err = NewFunctional(FunctionalOptions{Cloud: c, CreateProject: true})
	require.NoError(t, err)
	assert.Equal(t, "", f.TerraformEnv()["OS_CLOUD"], "the tenant provider must not read clouds.yaml")
	assert.Equal(t, "admin", f.Vars()["cloud"])
}

func TestNewRunIDIsValidAndUnique(t *testing.T) {
	a, b := NewRunID(), NewRunID()
	assert.Regexp(t, `^cp\d{8}-[0-9a-f]{8}$`, a)
	assert.NotEqual(t, a, b) // 32 random bits: a collision is one in 4 billion
}

func TestFromEnvRunPrefix(t *testing.T) {
	clearEnv(t)
	t.Setenv("CLOUDPULSE_RUN_PREFIX", "nightly")
	o, err := FromEnv()
	require.NoError(t, err)
	assert.Regexp(t, `^nightly\d{8}-[0-9a-f]{8}$`, o.RunID)

	t.Setenv("CLOUDPULSE_RUN_PREFIX", "web-1")
	_, err = FromEnv()
	assert.EqualError(t, err, `CLOUDPULSE_RUN_PREFIX="web-1": use 1-8 lower-case letters (a-z)`)

	t.Setenv("CLOUDPULSE_RUN_PREFIX", "web")
	t.Setenv("CLOUDPULSE_RUN_ID", "web12021042-0a1b2c3d")
	_, err = FromEnv()
	assert.EqualError(t, err, "CLOUDPULSE_RUN_PREFIX and CLOUDPULSE_RUN_ID are both set: set only the prefix")

	// A run id passed down (a parent process's) must be of the generated form.
	clearEnv(t)
	t.Setenv("CLOUDPULSE_RUN_ID", "web")
	o, err = FromEnv()
	require.NoError(t, err)
	o.Cloud = &cloud.Config{Name: "c"}
	_, err = NewFunctional(o)
	assert.EqualError(t, err, `run id "web" is not of the generated form <prefix><MMDDhhmm>-<8 hex digits>, e.g. cp12021042-0a1b2c3d: leave the run id unset (CLOUDPULSE_RUN_ID) and choose only its prefix (CLOUDPULSE_RUN_PREFIX)`)
	t.Setenv("CLOUDPULSE_RUN_ID", "cp12021042-0a1b2c3d")
	o, err = FromEnv()
	require.NoError(t, err)
	o.Cloud = &cloud.Config{Name: "c"}
	f, err := NewFunctional(o)
	require.NoError(t, err)
	assert.Equal(t, "cp12021042-0a1b2c3d", f.RunID())
}

func TestPrecheckErrorListsEverything(t *testing.T) {
	e := &PrecheckError{Cloud: "prod", Missing: []string{`flavor "cp.tiny" not found`, "quota: instances has room for 1, the scenario needs 2"}}
	assert.Equal(t, `cloud "prod" is not ready for the functional scenario (nothing was created): flavor "cp.tiny" not found; quota: instances has room for 1, the scenario needs 2`, e.Error())
}

func TestRoomTreatsNegativeLimitAsUnlimited(t *testing.T) {
	var got []string
	miss := func(f string, a ...any) { got = append(got, f) }
	room(miss, "x", -1, 100, 5)
	room(miss, "y", 10, 9, 2)
	require.Len(t, got, 1)
}
