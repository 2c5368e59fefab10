package tests

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/operator"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// TestOperator answers "is the control plane healthy, as its operator sees
// it?": every check the service map at CLOUDPULSE_SERVICE_MAP configures
// (listening ports, RabbitMQ, Galera, HAProxy, Pacemaker when mapped) plus,
// with the admin cloud CLOUDPULSE_ADMIN_CLOUD, nova services, neutron agents
// and cinder services. Every check must pass; none may skip. Secrets the map
// names by *_env must be in the environment.
//
//	CLOUDPULSE_SERVICE_MAP=my-cloud.yaml CLOUDPULSE_ADMIN_CLOUD=mycloud-admin go test -run TestOperator ./tests/
func TestOperator(t *testing.T) {
	path := serviceMapPath(t)
	admin := adminCloud(t)
	m := loadServiceMap(t, path)
	ctx := runContext(t, 10*time.Second)

	c, rec, authTook := connectRecorded(t, ctx, admin)
	isAdmin, err := c.IsAdmin(ctx)
	require.NoError(t, err)
	require.True(t, isAdmin, "CLOUDPULSE_ADMIN_CLOUD=%s: the token has no admin role: nova services, neutron agents and cinder services need it", admin.Name)
	t.Logf("service map %s, admin cloud %q (token issued in %s)", path, admin.Name, authTook.Round(time.Millisecond))
	rec.Reset()

	hosts := operator.NewHosts(m)
	t.Cleanup(func() {
		if err := hosts.Close(); err != nil {
			t.Logf("close ssh connections: %v", err)
		}
	})
	results, wall := runChecks(t, ctx, operator.Checks(m, hosts, c, nil))
	logLatency(t, rec.Stats())
	t.Logf("operator set: %d checks in %s wall", len(results), wall.Round(time.Millisecond))
	reportResults(t, results, nil)
}

// TestOperatorLabServiceMap needs no cloud: the lab's service map
// (fixtures/service-map/lab.yaml) parses, keeps its secrets in the
// environment variables .lab/secrets.env defines, and checks the lab's
// one-node Pacemaker cluster (scripts/lab/pacemaker.sh) on host controller.
func TestOperatorLabServiceMap(t *testing.T) {
	root, err := tf.RepoRoot()
	require.NoError(t, err)
	m, err := operator.Load(filepath.Join(root, "fixtures", "service-map", "lab.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []string{"RABBIT_MON_PASS", "MYSQL_MON_PASS"}, secretEnvs(m))
	require.NotNil(t, m.Pacemaker, "the lab runs a one-node Pacemaker cluster (scripts/lab/pacemaker.sh)")
	assert.Equal(t, operator.PacemakerConfig{Host: "controller", Command: "crm_mon --output-as=xml"}, *m.Pacemaker)
	var names []string
	for _, c := range operator.Checks(m, operator.NewHosts(m), nil, nil) {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, "listen/controller/nova-api")
	assert.Contains(t, names, "listen/public-vip/haproxy")
	assert.Contains(t, names, "rabbitmq")
	assert.Contains(t, names, "galera/controller")
	assert.Contains(t, names, "haproxy")
	assert.Contains(t, names, "pacemaker")
}
