package report

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

func TestTimelineTableAndJSON(t *testing.T) {
	var tl Timeline
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tl.Add("apply", t0, 90*time.Second, nil)
	tl.Add("ping", t0.Add(90*time.Second), 1500*time.Millisecond, errors.New("ping 172.24.4.10: no reply\nmore detail"))
	table := tl.Table()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 4)
	assert.Regexp(t, `^apply\s+ok\s+90\.00`, lines[1])
	assert.Regexp(t, `^ping\s+FAIL\s+1\.50\s+ping 172\.24\.4\.10: no reply …$`, lines[2])
	assert.Regexp(t, `^wall\s+91\.50`, lines[3])

	p := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, Summary{Name: "functional", Steps: tl.Steps()}.WriteJSON(p))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var back Summary
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, 90.0, back.Steps[0].Seconds)
	assert.False(t, back.Steps[1].OK)
}

func TestTimelineStart(t *testing.T) {
	var tl Timeline
	before := time.Now()
	done := tl.Start("x")
	time.Sleep(20 * time.Millisecond)
	done(nil)
	after := time.Now()
	failed := tl.Start("y")
	failed(errors.New("ssh 172.24.4.10: connection refused"))
	s := tl.Steps()
	require.Len(t, s, 2)
	assert.True(t, s[0].OK)
	assert.Empty(t, s[0].Error)
	assert.GreaterOrEqual(t, s[0].Duration, 20*time.Millisecond, "the step lasted from Start to its done call")
	assert.LessOrEqual(t, s[0].Duration, after.Sub(before))
	assert.False(t, s[0].Started.Before(before))
	assert.Equal(t, s[0].Duration.Seconds(), s[0].Seconds)
	assert.False(t, s[1].OK)
	assert.Equal(t, "ssh 172.24.4.10: connection refused", s[1].Error)
}

func TestTimelineShowsASkipAsSkipNotFail(t *testing.T) {
	var tl Timeline
	tl.Add("sg/non-peer→target", time.Now(), 0, check.Skip("only one host VM"))
	steps := tl.Steps()
	if len(steps) != 1 || !steps[0].OK || !steps[0].Skipped || steps[0].Error != "only one host VM" {
		t.Fatalf("step = %+v", steps)
	}
	if table := tl.Table(); !strings.Contains(table, "sg/non-peer→target  skip") {
		t.Fatalf("table:\n%s", table)
	}
}
