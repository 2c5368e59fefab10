package scenario

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const runR = "cp12011000-0a1b2c3d"

var tagR = []string{"cloudpulse-run=" + runR}

// ours are what a run R makes in project p (the fixture's names), including
// a floating IP OpenTofu never tagged (killed before the tag update).
func ours(p, user string) []*fakeRes {
	return []*fakeRes{
		{kind: "server", project: p, id: p + "-s1", name: "cp-" + runR + "-vm-1", meta: map[string]string{"cloudpulse-run": runR}},
		{kind: "server-group", project: p, id: p + "-g1", name: "cp-" + runR + "-vm-group"},
		{kind: "keypair", project: p, user: user, id: "cp-" + runR + "-key", name: "cp-" + runR + "-key"},
		{kind: "floating-ip", project: p, id: p + "-f1", desc: "cp-" + runR + "-vm-1-fip"},
		{kind: "port", project: p, id: p + "-p1", name: "cp-" + runR + "-vm-1-port", tags: tagR},
		{kind: "network", project: p, id: p + "-n1", name: "cp-" + runR + "-net", tags: tagR},
		{kind: "volume", project: p, id: p + "-v1", name: "cp-" + runR + "-vol-data", meta: map[string]string{"cloudpulse-run": runR}},
	}
}

// decoys carry the run id, or even its prefix, inside their names — not at
// the start — or belong to another run.
func decoys(p, user string) []*fakeRes {
	return []*fakeRes{
		{kind: "server", project: p, id: p + "-ds1", name: "decoy-cp-" + runR + "-vm-1", meta: map[string]string{"owner": runR}},
		{kind: "server", project: p, id: p + "-ds2", name: "cp-" + runR + "x-vm-1"},
		{kind: "server-group", project: p, id: p + "-dg1", name: "web-" + runR},
		{kind: "keypair", project: p, user: user, id: "decoy-cp-" + runR + "-key", name: "decoy-cp-" + runR + "-key"},
		{kind: "floating-ip", project: p, id: p + "-df1", desc: "for " + runR},
		{kind: "network", project: p, id: p + "-dn1", name: "decoy-cp-" + runR + "-net", tags: []string{"owner=" + runR}},
		{kind: "network", project: p, id: p + "-dn2", name: "cp-cp12011000-ffffffff-net", tags: []string{"cloudpulse-run=cp12011000-ffffffff"}},
		{kind: "volume", project: p, id: p + "-dv1", name: runR},
	}
}

func names(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+" "+r.ProjectID+" "+r.Name)
	}
	sort.Strings(out)
	return out
}

func want(rs ...[]*fakeRes) []string {
	var out []string
	for _, set := range rs {
		for _, r := range set {
			n := r.name
			if r.kind == "floating-ip" {
				n = "172.24.4.9"
			}
			out = append(out, r.kind+" "+r.project+" "+n)
		}
	}
	sort.Strings(out)
	return out
}

// world is a tenant project p1 with a run's resources and decoys, another
// project p3 holding resources named and tagged for the same run id, a
// project cp-<R> (p2) with its user u2 as operator mode makes them, and
// projects that only look like it.
func world() []*fakeRes {
	var all []*fakeRes
	all = append(all, ours("p1", "u1")...)
	all = append(all, decoys("p1", "u1")...)
	all = append(all, ours("p2", "u2")...)
	all = append(all, ours("p3", "u3")...)
	all = append(all, decoys("p3", "u3")...)
	all = append(all,
		&fakeRes{kind: "project", id: "p2", name: "cp-" + runR, tags: tagR},
		&fakeRes{kind: "user", id: "u2", project: "p2", name: "cp-" + runR},
		&fakeRes{kind: "project", id: "p3", name: "decoy-cp-" + runR, tags: tagR},
		&fakeRes{kind: "project", id: "p4", name: "cp-" + runR}, // not tagged: someone else's
	)
	return all
}

// assertScoped checks that no listing looked beyond the given projects.
func assertScoped(t *testing.T, f *fakeCloud, projects ...string) {
	t.Helper()
	for _, r := range f.requests {
		method, rest, _ := strings.Cut(r, " ")
		if method != "GET" {
			continue
		}
		path, raw, _ := strings.Cut(rest, "?")
		q, err := url.ParseQuery(raw)
		require.NoError(t, err)
		if strings.HasPrefix(path, "/network/v2.0/") && !strings.HasSuffix(path, "/network/v2.0/") {
			assert.Contains(t, projects, q.Get("project_id"), "Neutron lists every project for an admin unless filtered: %s", r)
		}
		if q.Get("all_tenants") != "" {
			assert.Contains(t, projects, q.Get("tenant_id")+q.Get("project_id"), "all_tenants without a project filter: %s", r)
		}
		if q.Get("all_projects") != "" {
			assert.Equal(t, "/compute/v2.1/os-server-groups", path, "all_projects is only for server groups (Nova has no project filter there): %s", r)
		}
		if path == "/image/v2/images" {
			assert.Contains(t, projects, q.Get("owner"), r)
		}
	}
}

func TestFindAsMemberFindsTheRunsOnly(t *testing.T) {
	f, c := newFake(t, false, world()...)
	found, err := Find(context.Background(), c, runR)
	require.NoError(t, err)
	assert.Equal(t, want(ours("p1", "u1")), names(found))
	assertScoped(t, f, "p1")
	for _, r := range f.requests {
		assert.NotContains(t, r, "all_", "a member lists its own project only")
		assert.NotContains(t, r, "/identity/v3/projects", "a member does not look for operator-mode projects")
	}
}

func TestFindAsAdminLooksInTheRunsProjectsOnly(t *testing.T) {
	f, c := newFake(t, true, world()...)
	found, err := Find(context.Background(), c, runR)
	require.NoError(t, err)
	// p3 holds resources tagged and named for the run, but is not the run's
	// project; p4 is named like it but lacks the run's tag.
	assert.Equal(t, want(ours("p1", "u1"), ours("p2", "u2")), names(found))
	assertScoped(t, f, "p1", "p2")
	assert.Contains(t, f.requests, "GET /compute/v2.1/servers/detail?all_tenants=true&tenant_id=p2")
	assert.Contains(t, f.requests, "GET /compute/v2.1/os-keypairs?user_id=u2")
}

func TestFindInKnownScopesAfterTheProjectIsGone(t *testing.T) {
	res := append(ours("p1", "u1"), ours("p9", "u9")...) // p9: an operator-mode project already deleted
	f, c := newFake(t, true, res...)
	found, err := Find(context.Background(), c, runR, Scope{ProjectID: "p9", UserID: "u9"})
	require.NoError(t, err)
	assert.Equal(t, want(ours("p1", "u1"), ours("p9", "u9")), names(found))
	assertScoped(t, f, "p1", "p9")

	_, c = newFake(t, false, res...)
	_, err = Find(context.Background(), c, runR, Scope{ProjectID: "p9"})
	assert.EqualError(t, err, "run "+runR+" built in project p9, not the caller's p1: looking there needs the admin role")
}

// The old code ignored IsAdmin's error and went on listing in whatever the
// default was: "no leftovers" then looked in the wrong place and passed.
func TestFindFailsWhenTheTokenCannotBeRead(t *testing.T) {
	f, c := newFake(t, true, world()...)
	f.tokenGet = 503
	found, err := Find(context.Background(), c, runR)
	require.Error(t, err)
	assert.Empty(t, found)
	assert.True(t, strings.HasPrefix(err.Error(), `find the run's projects: cloud "fake": read token: `), err.Error())
	_, err = Leftovers(context.Background(), c, runR)
	require.Error(t, err)
}

// The old Sweep dropped the listing errors when another listing had found something.
func TestSweepReportsEveryListingErrorAndDeletesOnlyTheRuns(t *testing.T) {
	f, c := newFake(t, false, world()...)
	f.failList["/network/v2.0/ports"] = true
	deleted, err := Sweep(context.Background(), c, runR)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "list ports in project p1: ")
	var wantDeleted []*fakeRes
	for _, r := range ours("p1", "u1") {
		if r.kind != "port" {
			wantDeleted = append(wantDeleted, r)
		}
	}
	assert.Equal(t, want(wantDeleted), names(deleted))
	for _, d := range decoys("p1", "u1") {
		assert.NotContains(t, f.deleted, d.id, "decoy %s %s was deleted", d.kind, d.name)
	}
	assert.Len(t, f.deleted, len(wantDeleted))
}

func TestStaleIsOldCloudpulseResourcesOfTheCallersProject(t *testing.T) {
	other := "cp12011000-ffffffff"
	f, c := newFake(t, true, world()...)
	old, err := time.Parse(time.RFC3339, created)
	require.NoError(t, err)

	stale, err := Stale(context.Background(), c, old.Add(time.Minute), func(id string) bool { return id == other })
	require.NoError(t, err)
	assert.Equal(t, want(ours("p1", "u1")), names(stale), "the live run %s is skipped, decoys are not cloudpulse's", other)
	assertScoped(t, f, "p1")

	stale, err = Stale(context.Background(), c, old.Add(time.Minute), nil)
	require.NoError(t, err)
	assert.Len(t, stale, len(ours("p1", "u1"))+1, "with the other run: its network")

	stale, err = Stale(context.Background(), c, old, nil)
	require.NoError(t, err)
	assert.Empty(t, stale, "nothing is older than its own creation")
}

// A busy API (HAProxy without a backend: 503) is asked again before a listing counts as failed.
func TestFindRetriesAnUnavailableAPI(t *testing.T) {
	f, c := newFake(t, false, ours("p1", "u1")...)
	f.unavailable = map[string]int{"/network/v2.0/ports": 2}
	found, err := Find(context.Background(), c, runR)
	require.NoError(t, err)
	assert.Equal(t, want(ours("p1", "u1")), names(found))
}
