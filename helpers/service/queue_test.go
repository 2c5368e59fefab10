package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

// Scenario runs on one cloud start in the order they were submitted, every
// time: the queue is kept at submission, not left to goroutine scheduling.
func TestScenariosStartFirstComeFirstServed(t *testing.T) {
	e := newEnv(t, service.Options{Clouds: []string{"a"}})
	order := []string{"functional", "comprehensive", "all"}
	for _, typ := range order {
		e.runner.open(typ)
	}
	for round := range 40 {
		if round%2 == 1 { // both orders
			order = []string{order[2], order[1], order[0]}
		}
		var handles []string
		for _, typ := range order {
			r, joined, err := e.svc.Submit(t.Context(), typ, "a", "api")
			require.NoError(t, err)
			require.False(t, joined)
			handles = append(handles, r.Handle)
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, h := range handles {
			for {
				r, err := e.svc.Get(t.Context(), h)
				require.NoError(t, err)
				if r.State != service.Queued && r.State != service.Running {
					break
				}
				require.True(t, time.Now().Before(deadline), "round %d: run %s still %s", round, h, r.State)
				time.Sleep(time.Millisecond)
			}
		}
		started := e.runner.startedList()
		got := started[len(started)-3:]
		want := []string{order[0] + "/a", order[1] + "/a", order[2] + "/a"}
		require.Equal(t, want, got, fmt.Sprintf("round %d", round))
	}
	assert.EqualValues(t, 1, e.runner.maxRun.Load(), "one scenario at a time on the cloud")
}

// A run cancelled while it waits leaves the line; the ones behind it move up.
func TestCancelledWhileQueuedLeavesTheLine(t *testing.T) {
	e := newEnv(t, service.Options{Clouds: []string{"a"}})
	first, _, err := e.svc.Submit(t.Context(), "functional", "a", "api") // holds the cloud until its gate opens
	require.NoError(t, err)
	second, _, err := e.svc.Submit(t.Context(), "comprehensive", "a", "api")
	require.NoError(t, err)
	third, _, err := e.svc.Submit(t.Context(), "all", "a", "api")
	require.NoError(t, err)
	_, active, err := e.svc.Cancel(t.Context(), second.Handle)
	require.NoError(t, err)
	require.True(t, active)
	e.runner.open("all")
	e.runner.open("functional")
	require.Eventually(t, func() bool {
		r, err := e.svc.Get(t.Context(), third.Handle)
		return err == nil && r.State == service.Passed
	}, 10*time.Second, 5*time.Millisecond)
	r, err := e.svc.Get(t.Context(), second.Handle)
	require.NoError(t, err)
	assert.Equal(t, service.Cancelled, r.State)
	r, err = e.svc.Get(t.Context(), first.Handle)
	require.NoError(t, err)
	assert.Equal(t, service.Passed, r.State)
	assert.Equal(t, []string{"functional/a", "all/a"}, e.runner.startedList(), "the cancelled run never started")
}
