package scenario

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestParseResources(t *testing.T) {
	r, err := ParseResources([]byte(`{"image": ["cirros"], "vm": ["web", "db", "cache"], "net": [{"name": "app", "cidr": "10.50.0.0/24"}], "router": ["edge"], "connections": [["web", "db"]]}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"web", "db", "cache"}, r.VM)
	assert.Equal(t, NetSpec{Name: "app", CIDR: "10.50.0.0/24"}, r.Net[0])
	assert.Equal(t, [][2]string{{"web", "db"}}, r.Connections)

	r, err = ParseResources([]byte(`{"net": ["app"]}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"vm-1", "vm-2"}, r.VM, "default vms")
	assert.Equal(t, [][2]string{{"vm-1", "vm-2"}, {"vm-2", "vm-1"}}, r.Connections, "both ways between two vms")

	r, err = ParseResources([]byte(`{"vm": ["a", "b", "c"]}`))
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"a", "b"}, {"b", "c"}, {"c", "a"}}, r.Connections, "a ring")

	for in, want := range map[string]string{
		`{"vms": ["a"]}`:                                  `resources: json: unknown field "vms" (keys: image, vm, net, router, connections)`,
		`{"project": "demo"}`:                             `resources: "project" selects existing resources: use it with --create=false`,
		`{"vm": ["A"]}`:                                   `resources: vm "A": use 1-31 lowercase letters, digits or '-', starting with a letter or digit`,
		`{"vm": ["a", "a"]}`:                              `resources: vm "a" is listed twice`,
		`{"net": ["a", "b"]}`:                             `resources: 2 nets; fixtures/upgrade builds one network (list one, or none for the default)`,
		`{"router": ["a", "b"]}`:                          `resources: 2 routers; fixtures/upgrade builds one router (list one, or none for the default)`,
		`{"image": ["a", "b"]}`:                           `resources: 2 images; fixtures/upgrade boots every vm from one image`,
		`{"vm": ["a", "b"], "connections": [["a", "c"]]}`: `resources: connection a→c names vm "c", which is not in "vm" [a b]`,
		`{"vm": ["a", "b"], "connections": [["a", "a"]]}`: `resources: connection a→a: a vm to itself is not a connection`,
	} {
		_, err := ParseResources([]byte(in))
		assert.EqualError(t, err, want, in)
	}
}

func TestFilterDrift(t *testing.T) {
	plan := &tfjson.Plan{}
	require.NoError(t, json.Unmarshal([]byte(`{"format_version": "1.2", "resource_drift": [
	  {"address": "module.security_group.openstack_networking_secgroup_rule_v2.this[\"icmp\"]", "mode": "managed", "type": "openstack_networking_secgroup_rule_v2",
	   "change": {"actions": ["delete"], "before": {"protocol": "icmp"}, "after": null}},
	  {"address": "module.instance.openstack_networking_floatingip_v2.this[1]", "mode": "managed", "type": "openstack_networking_floatingip_v2",
	   "change": {"actions": ["update"], "before": {"address": "172.24.4.20", "port_id": "p-1", "fixed_ip": "10.44.0.5", "all_tags": ["a"]}, "after": {"address": "172.24.4.20", "port_id": "", "fixed_ip": "", "all_tags": ["a", "b"]}}},
	  {"address": "module.instance.openstack_compute_instance_v2.this[0]", "mode": "managed", "type": "openstack_compute_instance_v2",
	   "change": {"actions": ["update"], "before": {"power_state": "active", "updated": "t1", "all_metadata": {}}, "after": {"power_state": "active", "updated": "t2", "all_metadata": {"x": "y"}}}},
	  {"address": "module.network.openstack_networking_router_v2.this", "mode": "managed", "type": "openstack_networking_router_v2",
	   "change": {"actions": ["update"], "before": {"external_fixed_ip": [], "enable_snat": true}, "after": {"external_fixed_ip": null, "enable_snat": true}}}
	]}`), plan))
	got := FilterDrift(plan)
	require.Len(t, got, 2, "timestamps, metadata, tags and empty-vs-null are noise: %v", got)
	assert.Equal(t, `module.instance.openstack_networking_floatingip_v2.this[1]: port_id: "p-1" → (none); fixed_ip: "10.44.0.5" → (none)`, got[0].String())
	assert.Equal(t, `module.security_group.openstack_networking_secgroup_rule_v2.this["icmp"]: deleted outside OpenTofu`, got[1].String())
	assert.Empty(t, FilterDrift(nil))
}

func TestStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	_, err := LoadSnapshot(dir, "")
	assert.EqualError(t, err, "upgrade: "+dir+" holds no snapshot (snapshot.json): run the pre phase first (`cpulse upgrade snapshot`, or go test -run 'Upgrade/pre')")
	assert.EqualError(t, NewStateDir(""), "upgrade: no state directory: set CLOUDPULSE_UPGRADE_STATE (or --state) to a directory for the snapshot")
	require.NoError(t, NewStateDir(dir))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, UpgradeFixture), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "modules", "x"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(root, UpgradeFixture, "main.tf"), []byte("a"), 0o600))
	h, err := FixtureHash(root)
	require.NoError(t, err)
	require.NoError(t, SaveSnapshot(dir, &Snapshot{Format: snapshotFormat, Fixture: UpgradeFixture, FixtureSHA256: h, RunID: "cp12021800-0123abcd"}))
	fi, err = os.Stat(filepath.Join(dir, SnapshotFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	s, err := LoadSnapshot(dir, root)
	require.NoError(t, err)
	assert.Equal(t, "cp12021800-0123abcd", s.RunID)

	assert.EqualError(t, NewStateDir(dir), "upgrade: "+dir+" already holds a snapshot: verify and finish it (`cpulse upgrade finish --state "+dir+"`), or choose another directory")

	// another version of the fixture (or of a module) is refused
	require.NoError(t, os.WriteFile(filepath.Join(root, "modules", "x", "main.tf"), []byte("b"), 0o600))
	h2, err := FixtureHash(root)
	require.NoError(t, err)
	_, err = LoadSnapshot(dir, root)
	assert.EqualError(t, err, "upgrade: the snapshot in "+dir+" was made from another version of fixtures/upgrade (sha256 "+h[:12]+"…, this cloudpulse has "+h2[:12]+"…): verify it with the cloudpulse that made it, or finish it and take a new snapshot")

	require.NoError(t, SaveSnapshot(dir, &Snapshot{Format: 99}))
	_, err = LoadSnapshot(dir, "")
	assert.EqualError(t, err, "upgrade: "+filepath.Join(dir, SnapshotFile)+" has format 99, this cpulse reads format 1: verify it with the cpulse that made it")
}

// The binary's embedded fixtures hash as the checkout does: a snapshot taken
// by a cpulse without a checkout verifies with one in a checkout, and back.
func TestFixtureHashEmbeddedEqualsCheckout(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	want, err := FixtureHash(root)
	require.NoError(t, err)
	got, err := fixtureHash(tf.Embedded().FS, UpgradeFixture)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
