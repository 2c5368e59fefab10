package service_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// 200 concurrent POSTs all get handles, none is lost, and requests for a type
// and cloud in flight join: as many runs as distinct type+cloud pairs.
func TestConcurrentPostsJoin(t *testing.T) {
	e := newEnv(t, service.Options{Clouds: []string{"a", "b"}})
	types := []string{"endpoint", "operator", "functional", "comprehensive", "all"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	handles := map[string]string{} // handle → type/cloud
	codes := map[int]int{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			typ, cloud := types[i%len(types)], []string{"a", "b"}[i/len(types)%2]
			code, v := e.do(t, "POST", "/cpulse/check", fmt.Sprintf(`{"type":%q,"cloud":%q}`, typ, cloud))
			mu.Lock()
			defer mu.Unlock()
			codes[code]++
			h, _ := v["handle"].(string)
			if prev, ok := handles[h]; ok && prev != typ+"/"+cloud {
				t.Errorf("handle %s given to %s and %s", h, prev, typ+"/"+cloud)
			}
			handles[h] = typ + "/" + cloud
		}()
	}
	wg.Wait()
	assert.Equal(t, map[int]int{202: 200}, codes)
	assert.Len(t, handles, 10, "one run per type and cloud")
	assert.Equal(t, 10, e.store.count(), "runs recorded")
	for h := range handles {
		_, v := e.do(t, "GET", "/cpulse/result?handle="+h, "")
		assert.Equal(t, h, v["handle"])
	}
	t.Logf("200 concurrent POSTs: %d handles, %d runs", len(handles), e.store.count())
}

// Shutdown cancels running scenarios, which destroy before it returns, and
// refuses new runs.
func TestShutdownCancelsAndWaitsForDestroy(t *testing.T) {
	st, fr := &memStore{}, newFakeRunner()
	svc := service.New(service.Options{Clouds: []string{"a"}}, st, fr.Run)
	r, _, err := svc.Submit(t.Context(), "functional", "a", "api")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(fr.startedList()) == 1 }, 5*time.Second, time.Millisecond)
	q, _, err := svc.Submit(t.Context(), "comprehensive", "a", "api") // waits: queued
	require.NoError(t, err)
	require.NoError(t, svc.Shutdown(t.Context()))
	assert.Equal(t, []string{"functional/a"}, fr.destroyedList())
	for _, h := range []string{r.Handle, q.Handle} {
		got, err := st.Get(t.Context(), h)
		require.NoError(t, err)
		assert.Equal(t, service.Cancelled, got.State)
		assert.Equal(t, "cancelled: the service stopped", got.Error)
	}
	_, _, err = svc.Submit(t.Context(), "endpoint", "a", "api")
	assert.ErrorIs(t, err, service.ErrStopping)
}

// At start the runs found in flight are interrupted and their scenario run
// ids cleaned up.
func TestStartInterruptsAndCleansUp(t *testing.T) {
	st := &memStore{runs: []store.Run{
		{Handle: "00000000000000aa", Cloud: "a", Type: "functional", State: service.Running, RunIDs: []string{"cp12021200-deadbeef"}},
		{Handle: "00000000000000bb", Cloud: "a", Type: "endpoint", State: service.Running},
		{Handle: "00000000000000cc", Cloud: "a", Type: "endpoint", State: service.Passed},
	}}
	cleaned := make(chan string, 4)
	svc := service.New(service.Options{Clouds: []string{"a"}, Cleanup: func(_ context.Context, cloud string, ids []string) error {
		cleaned <- cloud + ":" + fmt.Sprint(ids)
		return nil
	}}, st, newFakeRunner().Run)
	require.NoError(t, svc.Start(t.Context()))
	select {
	case got := <-cleaned:
		assert.Equal(t, "a:[cp12021200-deadbeef]", got)
	case <-time.After(5 * time.Second):
		t.Fatal("no cleanup")
	}
	require.NoError(t, svc.Shutdown(t.Context()))
	assert.Empty(t, cleaned, "only the run with run ids is cleaned up")
	for h, want := range map[string]string{"00000000000000aa": "interrupted", "00000000000000bb": "interrupted", "00000000000000cc": "passed"} {
		r, err := st.Get(t.Context(), h)
		require.NoError(t, err)
		assert.Equal(t, want, r.State, h)
	}
}

// The scheduler runs each enabled family at start and then on its interval; a
// run still in flight is joined (no pile-up); disabled families never run.
func TestSchedulerRunsJoinsAndSkipsDisabled(t *testing.T) {
	st, fr := &memStore{}, newFakeRunner()
	fr.open("endpoint")
	svc := service.New(service.Options{Clouds: []string{"a", "b"}, Jitter: 0.1,
		Intervals: map[string]time.Duration{"endpoint": 20 * time.Millisecond, "functional": 20 * time.Millisecond, "operator": 0, "comprehensive": -1}}, st, fr.Run)
	require.NoError(t, svc.Start(t.Context()))
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, svc.Shutdown(t.Context()))
	started := fr.startedList()
	count := map[string]int{}
	for _, s := range started {
		count[s]++
	}
	assert.GreaterOrEqual(t, count["endpoint/a"], 5, "%v", count)
	assert.GreaterOrEqual(t, count["endpoint/b"], 5, "%v", count)
	assert.Equal(t, 1, count["functional/a"], "the slow functional run is joined, not piled up")
	assert.Equal(t, 1, count["functional/b"])
	assert.False(t, slices.ContainsFunc(started, func(s string) bool { return s[:8] == "operator" || s[:5] == "compr" }))
	runs, _, err := st.List(t.Context(), store.Filter{Type: "functional"})
	require.NoError(t, err)
	assert.Len(t, runs, 2)
	assert.Equal(t, "schedule", runs[0].Trigger)
}

func TestRetentionPrunes(t *testing.T) {
	old := time.Now().Add(-48 * time.Hour)
	st := &memStore{runs: []store.Run{
		{Handle: "00000000000000aa", Cloud: "a", Type: "endpoint", State: service.Passed, Queued: old, Finished: old},
		{Handle: "00000000000000bb", Cloud: "a", Type: "endpoint", State: service.Passed, Queued: time.Now(), Finished: time.Now()},
	}}
	svc := service.New(service.Options{Clouds: []string{"a"}, Retention: 24 * time.Hour}, st, newFakeRunner().Run)
	require.NoError(t, svc.Start(t.Context()))
	require.Eventually(t, func() bool { return st.count() == 1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, svc.Shutdown(t.Context()))
	_, err := st.Get(t.Context(), "00000000000000bb")
	assert.NoError(t, err)
}
