package service_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/service"
)

func newUpgradeEnv(t *testing.T, o service.Options) (*env, *fakeUpgrade) {
	t.Helper()
	fu := newFakeUpgrade()
	o.Upgrade, o.SnapshotDir = fu, filepath.Join(t.TempDir(), "state", "snapshots")
	return newEnv(t, o), fu
}

var hexHandle = regexp.MustCompile(`^[0-9a-f]{16}$`)

// A read-only snapshot: 202 with the handle and the resources at once, a run
// of type snapshot, then a check of type upgrade on it (no functional run by
// default), then DELETE finishes it (a run of type finish); after that it is
// finished and cannot be verified. No family ran.
func TestSnapshotVerifyFinish(t *testing.T) {
	e, fu := newUpgradeEnv(t, service.Options{})
	code, a := e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web-1", "3f1c"]}}`)
	require.Equal(t, 202, code, "%v", a)
	h, _ := a["handle"].(string)
	require.Regexp(t, hexHandle, h)
	assert.Equal(t, map[string]any{"vm": []any{"web-1", "3f1c"}}, a["resources"], "the resources echoed")
	assert.Equal(t, false, a["create"])
	assert.Equal(t, "lab-member", a["cloud"])
	snap := e.waitState(t, h, "passed")
	assert.Equal(t, "snapshot", snap["type"])
	assert.Equal(t, []any{"existing/vm-1/status"}, snap["tests_passed"])
	assert.Nil(t, snap["run_ids"], "a read-only snapshot builds nothing: no run id to clean up")
	assert.Equal(t, []os.FileMode{0o700}, fu.dirModes, "the snapshots' directory is private")

	code, v := e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+h+`"}`)
	require.Equal(t, 202, code, "%v", v)
	assert.Equal(t, "upgrade", v["type"])
	assert.Equal(t, h, v["snapshot"])
	assert.Equal(t, false, v["joined"])
	ver := e.waitState(t, v["handle"].(string), "passed")
	assert.Equal(t, []any{"existing/vm-1/status"}, ver["tests_passed"])
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "handle": "`+h+`", "cloud": "lab-member"}`)
	require.Equal(t, 202, code, "handle is another name of snapshot: %v", v)
	e.waitState(t, v["handle"].(string), "passed")

	code, d := e.do(t, "DELETE", "/cpulse/check/"+h, "")
	require.Equal(t, 202, code, "%v", d)
	assert.Equal(t, "finishing", d["state"])
	assert.Equal(t, h, d["handle"])
	fin := e.waitState(t, d["finish"].(string), "passed")
	assert.Equal(t, "finish", fin["type"])
	code, d = e.do(t, "DELETE", "/cpulse/check/"+h, "")
	assert.Equal(t, 202, code)
	assert.Equal(t, map[string]any{"handle": h, "state": "finished"}, d, "nothing left to finish")
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+h+`"}`)
	assert.Equal(t, 409, code)
	assert.Equal(t, map[string]any{"error": "snapshot " + h + " is finished (its state is gone): take a new snapshot"}, v)

	assert.Equal(t, []string{"snapshot lab-member create=false", "verify lab-member functional=false destroy=false",
		"verify lab-member functional=false destroy=false", "finish lab-member"}, fu.callList())
	assert.Empty(t, e.runner.startedList(), "no family ran")
	_, list := e.do(t, "GET", "/cpulse/results?type=snapshot", "")
	assert.Len(t, list["results"], 1, "the history filters by type snapshot")
}

// A snapshot that builds (create) is a scenario run: it waits for the
// cloud's functional run; a read-only one does not. Its verify runs the fresh
// functional run by default and destroys when asked.
func TestSnapshotCreateIsAScenarioRun(t *testing.T) {
	e, fu := newUpgradeEnv(t, service.Options{})
	_, fn := e.do(t, "POST", "/cpulse/check", `{"type":"functional"}`)
	e.waitState(t, fn["handle"].(string), "running")
	code, a := e.do(t, "POST", "/cpulse/snapshot", `{"resources": {"vm": ["web"]}}`)
	require.Equal(t, 202, code, "%v", a)
	assert.Equal(t, true, a["create"], "create is the default")
	created := a["handle"].(string)
	code, a = e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {}}`)
	require.Equal(t, 202, code, "%v", a)
	e.waitState(t, a["handle"].(string), "passed") // read-only: not behind the functional run
	_, r := e.do(t, "GET", "/cpulse/result?handle="+created, "")
	assert.Equal(t, "queued", r["state"], "behind the functional run")

	e.runner.open("functional")
	snap := e.waitState(t, created, "passed")
	assert.Equal(t, []any{"cpup12021200-0000abcd"}, snap["run_ids"], "a crash mid-snapshot leaves its run id to clean up")
	code, v := e.do(t, "POST", "/cpulse/check", `{"type":"upgrade","snapshot":"`+created+`","destroy":true}`)
	require.Equal(t, 202, code, "%v", v)
	e.waitState(t, v["handle"].(string), "passed")
	code, v = e.do(t, "POST", "/cpulse/check", `{"type":"upgrade","snapshot":"`+created+`"}`)
	assert.Equal(t, 409, code, "destroyed by the verify before: %v", v)
	assert.Equal(t, []string{"snapshot lab-member create=false", "snapshot lab-member create=true",
		"verify lab-member functional=true destroy=true"}, fu.callList())

	// all is every family but upgrade
	_, all := e.do(t, "POST", "/cpulse/check", `{"type":"all"}`)
	e.runner.open("all")
	e.waitState(t, all["handle"].(string), "passed")
	assert.Len(t, fu.callList(), 3, "all ran no upgrade phase")
	assert.NotContains(t, families.Names(), "upgrade")
}

// Bad snapshot requests and checks of type upgrade on what is no verifiable
// snapshot get a 4xx naming the problem, and start nothing.
func TestUpgradeBadRequests(t *testing.T) {
	e, fu := newUpgradeEnv(t, service.Options{})
	for name, tc := range map[string]struct {
		method, path, body string
		code               int
		want               string
	}{
		"twice the same vm":      {"POST", "/cpulse/snapshot", `{"resources": {"vm": ["web", "web"]}}`, 400, `resources: vm "web" is listed twice`},
		"existing, no resources": {"POST", "/cpulse/snapshot", `{"create": false}`, 400, `resources: with "create": false, say which existing resources: {"project": "<name or id>", "vm": ["<name or id>", ...]}`},
		"existing, empty vm":     {"POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": [""]}}`, 400, `resources file: "vm"[0] is empty: name a server by its name or id`},
		"existing, build keys":   {"POST", "/cpulse/snapshot", `{"create": false, "resources": {"image": ["x"]}}`, 400, `resources file: unknown key "image": with --create=false only "project" and "vm" are read (the others describe what --create builds)`},
		"create, project":        {"POST", "/cpulse/snapshot", `{"resources": {"project": "demo"}}`, 400, `resources: "project" selects existing resources: use it with --create=false`},
		"resources not object":   {"POST", "/cpulse/snapshot", `{"resources": [1]}`, 400, `resources: json: cannot unmarshal array into Go value of type scenario.Resources (keys: image, vm, net, router, connections)`},
		"unknown field":          {"POST", "/cpulse/snapshot", `{"creat": true}`, 400, `malformed JSON: json: unknown field "creat"`},
		"unknown cloud":          {"POST", "/cpulse/snapshot", `{"cloud": "x"}`, 400, `cloud "x" is not configured: use one of lab-member`},
		"upgrade, no snapshot":   {"POST", "/cpulse/check", `{"type": "upgrade"}`, 400, `snapshot: a check of type upgrade verifies a snapshot: give "snapshot": the handle POST /cpulse/snapshot answered`},
		"unknown snapshot":       {"POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "0123456789abcdef"}`, 404, `no snapshot with handle "0123456789abcdef"`},
		"not a handle":           {"POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "../../etc"}`, 404, `no snapshot with handle "../../etc"`},
		"two handles":            {"POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "0123456789abcdef", "handle": "fedcba9876543210"}`, 400, `snapshot "0123456789abcdef" and handle "fedcba9876543210": give the snapshot's handle once`},
		"destroy on functional":  {"POST", "/cpulse/check", `{"type": "functional", "destroy": true}`, 400, `destroy: only a check of type upgrade takes one, not "functional"`},
		"snapshot on endpoint":   {"POST", "/cpulse/check", `{"type": "endpoint", "snapshot": "0123456789abcdef"}`, 400, `snapshot: only a check of type upgrade takes one, not "endpoint"`},
	} {
		t.Run(name, func(t *testing.T) {
			code, v := e.do(t, tc.method, tc.path, tc.body)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, map[string]any{"error": tc.want}, v)
		})
	}
	assert.Empty(t, fu.callList(), "nothing ran")
	assert.Empty(t, e.runner.startedList(), "nothing ran")
	assert.Zero(t, e.store.count(), "nothing recorded")

	// a snapshot still running, a failed one, a functional run, another cloud
	fu.hold = make(chan struct{})
	_, a := e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web"]}}`)
	running := a["handle"].(string)
	e.waitState(t, running, "running")
	code, v := e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+running+`"}`)
	assert.Equal(t, 409, code)
	assert.Equal(t, "snapshot "+running+" is still running: wait until it passed (GET /cpulse/result?handle="+running+")", v["error"])
	code, v = e.do(t, "DELETE", "/cpulse/check/"+running, "")
	assert.Equal(t, 202, code)
	assert.Equal(t, "cancelling", v["state"], "a running snapshot is cancelled")
	e.waitState(t, running, "cancelled")

	fu.hold, fu.fail = nil, true
	_, a = e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web"]}}`)
	failed := a["handle"].(string)
	e.waitState(t, failed, "failed")
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+failed+`"}`)
	assert.Equal(t, 409, code)
	assert.Equal(t, "snapshot "+failed+" ended failed: nothing to verify; take a new snapshot", v["error"])

	_, fn := e.do(t, "POST", "/cpulse/check", `{"type": "endpoint"}`)
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+fn["handle"].(string)+`"}`)
	assert.Equal(t, 400, code)
	assert.Equal(t, `handle "`+fn["handle"].(string)+`" is a run of type endpoint, not a snapshot (POST /cpulse/snapshot)`, v["error"])

	fu.fail = false
	_, a = e.do(t, "POST", "/cpulse/snapshot", `{"create": false, "resources": {"vm": ["web"]}}`)
	ok := a["handle"].(string)
	e.waitState(t, ok, "passed")
	code, v = e.do(t, "POST", "/cpulse/check", `{"type": "upgrade", "snapshot": "`+ok+`", "cloud": "other"}`)
	assert.Equal(t, 400, code)
	assert.Equal(t, `cloud "other": snapshot `+ok+` is of cloud "lab-member"`, v["error"])
	assert.False(t, strings.Contains(strings.Join(fu.callList(), ","), "verify"), "no verify ran")
}
