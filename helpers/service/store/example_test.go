package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "history")
	defer os.RemoveAll(dir)
	s, err := store.Open(ctx, filepath.Join(dir, "history.db"))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	r := &store.Run{Cloud: "lab-member", Type: "endpoint", Trigger: "schedule"}
	_ = s.Create(ctx, r) // queued, with a new handle
	r.State, r.Started, r.Finished = store.StateFailed, time.Now(), time.Now()
	r.Failed = []store.Failure{{Name: "compute", Details: "503 Service Unavailable"}}
	_ = s.Update(ctx, r)

	runs, next, _ := s.List(ctx, store.Filter{Failed: true, Since: time.Now().Add(-time.Hour)})
	fmt.Println(len(runs), runs[0].State, runs[0].Failed[0].Name, next == "")
	// Output: 1 failed compute true
}
