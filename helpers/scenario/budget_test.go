package scenario

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/cloud"
	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

func TestFitBudget(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	defaults := Timeouts{}
	cases := []struct {
		name string
		o    Timeouts
		left time.Duration // 0: no deadline
		want Budget
	}{{
		name: "no deadline: the options",
		o:    defaults,
		want: Budget{Run: 50 * time.Minute, Grace: 2 * time.Minute, Destroy: 15 * time.Minute, Leftovers: 2 * time.Minute},
	}, {
		// go test's default -timeout: the run that used to be dead before its first request
		name: "go test default 10m",
		o:    defaults, left: 10 * time.Minute,
		want: Budget{Run: 10*time.Minute - 150*time.Second - 100*time.Second, Grace: 50 * time.Second, Destroy: 150 * time.Second, Leftovers: 50 * time.Second},
	}, {
		name: "make test's 45m: destroy and grace capped",
		o:    defaults, left: 45 * time.Minute,
		want: Budget{Run: 45*time.Minute - 675*time.Second - 4*time.Minute, Grace: 2 * time.Minute, Destroy: 675 * time.Second, Leftovers: 2 * time.Minute},
	}, {
		name: "a long deadline: every option as given",
		o:    defaults, left: 3 * time.Hour,
		want: Budget{Run: 50 * time.Minute, Grace: 2 * time.Minute, Destroy: 15 * time.Minute, Leftovers: 2 * time.Minute},
	}, {
		name: "the user's shorter destroy timeout is kept",
		o:    Timeouts{Destroy: 90 * time.Second, Apply: 3 * time.Minute, Validate: time.Minute},
		left: 20 * time.Minute,
		want: Budget{Run: 9 * time.Minute, Grace: 100 * time.Second, Destroy: 90 * time.Second, Leftovers: 100 * time.Second},
	}, {
		name: "just enough: the floors",
		o:    defaults, left: 5 * time.Minute,
		want: Budget{Run: 2 * time.Minute, Grace: 30 * time.Second, Destroy: 2 * time.Minute, Leftovers: 30 * time.Second},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dl time.Time
			if tc.left > 0 {
				dl = now.Add(tc.left)
			}
			b, err := FitBudget("functional", tc.o, dl, now)
			require.NoError(t, err)
			assert.Equal(t, tc.want, b)
			if tc.left > 0 {
				assert.LessOrEqual(t, b.Total(), tc.left, "everything ends by the deadline")
			}
		})
	}
}

func TestFitBudgetTooShort(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		left time.Duration
		err  string
	}{
		{30 * time.Second, "functional: 30s left before the deadline, a run needs at least 5m0s (2m0s to build and validate, 2m0s to destroy, 30s of apply grace and 30s to look for leftovers): give it more time, e.g. go test -timeout 30m"},
		{5*time.Minute - time.Second, "functional: 4m59s left before the deadline, a run needs at least 5m0s (2m0s to build and validate, 2m0s to destroy, 30s of apply grace and 30s to look for leftovers): give it more time, e.g. go test -timeout 30m"},
		{-time.Minute, "functional: -1m0s left before the deadline, a run needs at least 5m0s (2m0s to build and validate, 2m0s to destroy, 30s of apply grace and 30s to look for leftovers): give it more time, e.g. go test -timeout 30m"},
	} {
		_, err := FitBudget("functional", Timeouts{}, now.Add(tc.left), now)
		require.Error(t, err, tc.left)
		assert.Equal(t, tc.err, err.Error())
	}
}

// untouchable fails the test if the run reaches OpenTofu.
type untouchable struct {
	t  *testing.T
	ws *tf.Workspace
}

func (u untouchable) Init(context.Context) error { u.t.Error("init ran"); return nil }
func (u untouchable) Apply(context.Context) error {
	u.t.Error("apply ran")
	return nil
}
func (u untouchable) Outputs(context.Context) (tf.Outputs, error) { return nil, nil }
func (u untouchable) Destroy(context.Context) error               { u.t.Error("destroy ran"); return nil }
func (u untouchable) Workspace() *tf.Workspace                    { return u.ws }

// A deadline too close to fit a run: Run says so, creates nothing, and leaves
// no workspace behind for cleanup to find (unless it holds a state).
func TestRunRefusesATooShortDeadline(t *testing.T) {
	f, err := NewFunctional(FunctionalOptions{Cloud: &cloud.Config{Name: "c", File: "/x/clouds.yaml"}})
	require.NoError(t, err)
	for _, withState := range []bool{false, true} {
		root := t.TempDir()
		ws := &tf.Workspace{Root: root, Dir: filepath.Join(root, "fixtures", "functional"), RunID: f.RunID()}
		require.NoError(t, os.MkdirAll(ws.Dir, 0o700))
		if withState {
			require.NoError(t, os.WriteFile(filepath.Join(ws.Dir, "terraform.tfstate"), []byte("{}"), 0o600))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res := f.Run(ctx, nil, untouchable{t, ws}, Hooks{})
		cancel()
		require.Error(t, res.Err)
		assert.Contains(t, res.Err.Error(), "left before the deadline, a run needs at least 5m0s")
		assert.Contains(t, res.Err.Error(), "go test -timeout")
		if withState {
			assert.DirExists(t, root, "a workspace with state is a run's: kept for cleanup")
		} else {
			assert.NoDirExists(t, root, "an unused workspace is removed")
		}
	}
}
