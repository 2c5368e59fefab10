package check

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sample = []Result{
	{Name: "identity", OK: true, StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 152 * time.Millisecond},
	{Name: "placement", Skipped: true, Reason: "needs admin", StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 3 * time.Millisecond},
	{Name: "compute", Error: "list servers: got 503:\n\tService Unavailable", StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 1234 * time.Millisecond},
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, sample))
	assert.Equal(t, ""+
		"NAME       STATUS  DURATION  DETAIL\n"+
		"identity   pass    152ms\n"+
		"placement  skip    3ms       needs admin\n"+
		"compute    fail    1.23s     list servers: got 503: Service Unavailable\n"+
		"1 passed, 1 failed, 1 skipped\n", buf.String())
}

func TestWriteJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, sample))
	assert.Contains(t, buf.String(), `"status": "fail"`)
	assert.Contains(t, buf.String(), `"duration_seconds": 1.234`)
	assert.Contains(t, buf.String(), `"reason": "needs admin"`)
	var back []Result
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	assert.Equal(t, sample, back)
}

func TestWriteJSONEmptyIsArray(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, nil))
	assert.Equal(t, "[]\n", buf.String())
}
