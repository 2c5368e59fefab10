package operator

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The testdata/crm_mon-lab-*.xml files are real `crm_mon --output-as=xml`
// output (Pacemaker 2.1.5, corosync 3.1.7, Debian 12) of the lab's one-node
// cluster (scripts/lab/pacemaker.sh): node controller, primitive cp-dummy and
// clone cp-clone (ocf:pacemaker:Dummy), in the states their names say.
func TestParseCrmMonLabCaptures(t *testing.T) {
	healthy := &PacemakerCluster{DC: "controller", WithQuorum: true, Nodes: 1, NodesOnline: 1}
	for _, tc := range []struct {
		file string
		want *PacemakerCluster
	}{
		{"crm_mon-lab-healthy.xml", healthy},
		// target-role=Stopped: stopped on purpose, not a problem
		{"crm_mon-lab-resource-disabled.xml", healthy},
		// crm_resource --ban cp-dummy --node controller: wanted, but it can run nowhere
		{"crm_mon-lab-resource-stopped.xml", &PacemakerCluster{DC: "controller", WithQuorum: true, Nodes: 1, NodesOnline: 1,
			Problems: []string{"resource cp-dummy (ocf:pacemaker:Dummy) is Stopped"}}},
		// Dummy's state file deleted: its monitor failed, Pacemaker restarted it; the failure stays until a cleanup
		{"crm_mon-lab-resource-failed.xml", &PacemakerCluster{DC: "controller", WithQuorum: true, Nodes: 1, NodesOnline: 1,
			Problems: []string{"failed action cp-dummy_monitor_10000 on controller: not running at 2026-11-23 13:31:59Z"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			c, err := ParseCrmMon(b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
		})
	}

	// pacemakerd stopped: crm_mon exits 102 and prints this
	b, err := os.ReadFile("testdata/crm_mon-lab-not-running.xml")
	require.NoError(t, err)
	_, err = ParseCrmMon(b)
	assert.EqualError(t, err, "crm_mon failed: Not connected (code 102): error: Could not connect to launcher: Connection refused: crm_mon: Connection to cluster failed: Connection refused")
}

func TestPacemakerCheckLabCaptures(t *testing.T) {
	path := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name))
		require.NoError(t, err)
		return p
	}
	res := runCheck(t, Pacemaker(PacemakerConfig{Host: "controller", Command: "cat " + path("crm_mon-lab-healthy.xml")}, fakeHosts{}))
	assert.True(t, res.OK, res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller", Command: "cat " + path("crm_mon-lab-resource-stopped.xml")}, fakeHosts{}))
	assert.Equal(t, "pacemaker (DC controller, 1 of 1 nodes online): resource cp-dummy (ocf:pacemaker:Dummy) is Stopped", res.Error)

	res = runCheck(t, Pacemaker(PacemakerConfig{Host: "controller", Command: "cat " + path("crm_mon-lab-not-running.xml") + "; exit 102"}, fakeHosts{}))
	assert.Equal(t, "pacemaker on controller: crm_mon failed: Not connected (code 102): error: Could not connect to launcher: Connection refused: crm_mon: Connection to cluster failed: Connection refused", res.Error)
}
