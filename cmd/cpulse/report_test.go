package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/report"
)

func TestWriteReportErrorIsReturned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := writeReport(filepath.Join(dir, "functional.json"), report.Summary{Name: "functional"})
	require.Error(t, err)
	assert.Equal(t, "CLOUDPULSE_REPORT: write report "+dir+"/functional.json: open "+dir+"/functional.json: no such file or directory", err.Error())

	p := filepath.Join(t.TempDir(), "functional.json")
	require.NoError(t, writeReport(p, report.Summary{Name: "functional"}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"name": "functional"`)
	require.NoError(t, writeReport("", report.Summary{}), "no CLOUDPULSE_REPORT: no report, no error")
}
