package service_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the claims, read directly
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
	"github.com/cloudpulse/cloudpulse/helpers/families"
	"github.com/cloudpulse/cloudpulse/helpers/service"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
	"github.com/cloudpulse/cloudpulse/helpers/service/store/pgtest"
)

// sharedHistory starts a throwaway PostgreSQL and returns a new database's URL.
func sharedHistory(t *testing.T) string {
	t.Helper()
	srv, err := pgtest.Start(t.Context())
	if errors.Is(err, pgtest.ErrNoPostgres) {
		t.Skip(err.Error())
	}
	require.NoError(t, err)
	t.Cleanup(func() { srv.Stop() })
	url, err := srv.NewDB(t.Context())
	require.NoError(t, err)
	return url
}

// overlap counts the scenarios running per cloud across instances.
type overlap struct {
	mu      sync.Mutex
	running map[string]int
	max     int
}

func (o *overlap) run(ctx context.Context, cloud, family string, p service.Progress) (families.Outcome, error) {
	scen := families.IsScenario(family)
	if scen {
		o.mu.Lock()
		o.running[cloud]++
		o.max = max(o.max, o.running[cloud])
		o.mu.Unlock()
		defer func() { o.mu.Lock(); o.running[cloud]--; o.mu.Unlock() }()
		p.OnRunID("cp-" + family + "-" + cloud)
		select {
		case <-time.After(600 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return families.Outcome{Results: []check.Result{{Name: family, OK: true}}}, nil
}

// Two instances share one PostgreSQL history for ~8 s with 1 s and 2 s
// intervals: every (cloud, family, slot) ran exactly once, both instances ran
// some, and the scenarios of a cloud never overlapped across instances.
func TestTwoInstancesShareOneHistory(t *testing.T) {
	url := sharedHistory(t)
	ctx := t.Context()
	every := map[string]time.Duration{"operator": time.Second, "endpoint": 2 * time.Second,
		"functional": 2 * time.Second, "comprehensive": 2 * time.Second}
	ov := &overlap{running: map[string]int{}}
	var svcs []*service.Service
	for _, owner := range []string{"A", "B"} {
		st, err := store.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		svc := service.New(service.Options{Clouds: []string{"a", "b"}, Intervals: every, Owner: owner,
			Heartbeat: 200 * time.Millisecond}, st, ov.run)
		require.NoError(t, svc.Start(ctx))
		svcs = append(svcs, svc)
	}
	time.Sleep(8 * time.Second)
	for _, svc := range svcs {
		require.NoError(t, svc.Shutdown(ctx))
	}

	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	runs, _, err := st.List(ctx, store.Filter{Limit: store.MaxLimit})
	require.NoError(t, err)
	// A run's slot is not its queued time (a claim and a submit late under load cross the next boundary):
	// each run must stand for a claim its instance won, and a slot has one claim (its primary key).
	ran := map[string]int{}
	owners := map[string]int{}
	for _, r := range runs {
		require.Equal(t, "schedule", r.Trigger)
		require.Contains(t, []string{store.StatePassed, store.StateCancelled}, r.State, r.Handle)
		ran[r.Cloud+"/"+r.Type+" by "+r.Owner]++
		owners[r.Owner]++
	}
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT cloud, family, owner, count(*) FROM claims GROUP BY cloud, family, owner`)
	require.NoError(t, err)
	won := map[string]int{}
	for rows.Next() {
		var cloud, family, owner string
		var n int
		require.NoError(t, rows.Scan(&cloud, &family, &owner, &n))
		won[cloud+"/"+family+" by "+owner] = n
	}
	require.NoError(t, rows.Err())
	for key, n := range ran {
		require.LessOrEqual(t, n, won[key], "%s: more runs than slots claimed (claims %v)", key, won)
	}
	slots := 0
	for _, n := range won {
		slots += n
	}
	// ~8 slots of the 1 s family and ~4 of each 2 s family, on two clouds
	require.GreaterOrEqual(t, len(runs), 2*(7+3*3), "slots ran: %v", owners)
	require.Positive(t, owners["A"], "A ran some: %v", owners)
	require.Positive(t, owners["B"], "B ran some: %v", owners)
	require.Equal(t, 1, ov.max, "one scenario at a time per cloud across instances")
	t.Logf("%d scheduled runs in %d claimed slots, by instance %v", len(runs), slots, owners)
}

// A live instance interrupts the runs of an instance whose heartbeat stopped
// and cleans up their scenario run ids.
func TestTakeOverDeadInstance(t *testing.T) {
	url := sharedHistory(t)
	ctx := t.Context()
	st, err := store.Open(ctx, url)
	require.NoError(t, err)
	defer st.Close()
	// instance "dead" beat once, started a scenario, and was SIGKILLed
	require.NoError(t, st.Heartbeat(ctx, "dead"))
	require.NoError(t, st.Create(ctx, &store.Run{Handle: "00000000000000d1", Cloud: "a", Type: "functional",
		State: store.StateRunning, Owner: "dead", RunIDs: []string{"cp-dead-1"}}))

	var mu sync.Mutex
	var cleaned []string
	cleanup := func(_ context.Context, cloud string, ids []string) error {
		mu.Lock()
		defer mu.Unlock()
		cleaned = append(cleaned, cloud+":"+ids[0])
		return nil
	}
	svc := service.New(service.Options{Clouds: []string{"a"}, Owner: "live", Heartbeat: 100 * time.Millisecond,
		DeadAfter: time.Second, Cleanup: cleanup}, st, (&overlap{running: map[string]int{}}).run)
	require.NoError(t, svc.Start(ctx))
	defer svc.Shutdown(ctx)

	r, err := st.Get(ctx, "00000000000000d1")
	require.NoError(t, err)
	require.Equal(t, store.StateRunning, r.State, "not yet: its heartbeat is fresh")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(cleaned) == 1
	}, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{"a:cp-dead-1"}, cleaned)
	r, err = st.Get(ctx, "00000000000000d1")
	require.NoError(t, err)
	require.Equal(t, store.StateInterrupted, r.State)
}
