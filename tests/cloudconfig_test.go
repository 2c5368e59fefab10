package tests

import (
	"fmt"
	"runtime"
	"testing"
)

// TestCloudConfigWithoutCloudFails needs no cloud: with neither OS_CLOUD nor
// OS_AUTH_URL the cloud tests fail with errNoCloud (a pipeline whose cloud
// secret did not arrive must not gate green); only -short skips them.
func TestCloudConfigWithoutCloudFails(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_AUTH_URL", "")
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() { // Fatal and Skip end the goroutine, as they end a test
		defer close(done)
		cloudConfig(rec)
	}()
	<-done
	if testing.Short() {
		if rec.skipped != "-short: cloud tests skipped" || rec.failed != "" {
			t.Fatalf("with -short: skipped %q, failed %q; want a skip", rec.skipped, rec.failed)
		}
		return
	}
	if rec.failed != errNoCloud || rec.skipped != "" {
		t.Fatalf("without a cloud: failed %q, skipped %q; want the failure %q", rec.failed, rec.skipped, errNoCloud)
	}
}

// recordingTB records Fatal and Skip instead of ending the test that runs it.
type recordingTB struct {
	testing.TB
	failed, skipped string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recordingTB) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
