package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// cleanup --push pushes what the cleanup found, every kind (0 here: an empty
// state directory), under the stable group job=cloudpulse, cloud, family=cleanup.
func TestCleanupPush(t *testing.T) {
	unreachableCloud(t)
	g := newFakeGateway(t)
	empty := t.TempDir()
	stdout, stderr, code := runCLI(t, "cleanup", "--cloud", "a", "--state-dir", empty, "--push", g.url)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "cleanup: nothing left in "+empty+"\n", stdout)
	samples := requireOnePush(t, g, "cloud=a,family=cleanup,job=cloudpulse")
	assert.Equal(t, []string{
		"cloudpulse_cleanup_leftovers{kind=floating-ip} 0", "cloudpulse_cleanup_leftovers{kind=image} 0",
		"cloudpulse_cleanup_leftovers{kind=keypair} 0", "cloudpulse_cleanup_leftovers{kind=network} 0",
		"cloudpulse_cleanup_leftovers{kind=port} 0", "cloudpulse_cleanup_leftovers{kind=router} 0",
		"cloudpulse_cleanup_leftovers{kind=security-group} 0", "cloudpulse_cleanup_leftovers{kind=server-group} 0",
		"cloudpulse_cleanup_leftovers{kind=server} 0",
		"cloudpulse_cleanup_leftovers{kind=subnet} 0", "cloudpulse_cleanup_leftovers{kind=volume} 0",
	}, samples)

	// $CLOUDPULSE_PUSHGATEWAY is the default
	g = newFakeGateway(t)
	t.Setenv("CLOUDPULSE_PUSHGATEWAY", g.url)
	_, stderr, code = runCLI(t, "cleanup", "--cloud", "a", "--state-dir", empty)
	assert.Equal(t, 0, code, stderr)
	requireOnePush(t, g, "cloud=a,family=cleanup,job=cloudpulse")
}

// A push that fails is an error of its own, after the cleanup's output.
func TestCleanupPushFails(t *testing.T) {
	unreachableCloud(t)
	g := newFakeGateway(t)
	g.status = http.StatusInternalServerError
	empty := t.TempDir()
	stdout, stderr, code := runCLI(t, "cleanup", "--cloud", "a", "--state-dir", empty, "--push", g.url)
	assert.Equal(t, 1, code)
	assert.Equal(t, "cleanup: nothing left in "+empty+"\n", stdout)
	assert.Contains(t, stderr, "cpulse: push a/cleanup to "+g.url+": unexpected status code 500 while pushing to "+g.url+"/metrics/job/cloudpulse/")
}

// A cleanup that could not list (the cloud does not answer) pushes nothing:
// zeros would read as clean.
func TestCleanupPushNothingWhenTheCloudFails(t *testing.T) {
	unreachableCloud(t)
	g := newFakeGateway(t)
	_, stderr, code := runCLI(t, "cleanup", "--cloud", "a", "--state-dir", t.TempDir(), "--older-than", "2h", "--push", g.url)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "authenticate at http://127.0.0.1:1/v3")
	assert.Empty(t, g.pushed())
}
