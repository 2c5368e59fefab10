package cloudpulse

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every Terraform file of the checkout's fixtures and modules is embedded with
// the same content, and nothing else of OpenTofu's is.
func TestSourcesHoldEveryTerraformFile(t *testing.T) {
	onDisk := map[string]bool{}
	for _, dir := range []string{"fixtures", "modules"} {
		require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".tf") {
				onDisk[filepath.ToSlash(p)] = true
			}
			return nil
		}))
	}
	require.NotEmpty(t, onDisk)
	embedded := map[string]bool{}
	require.NoError(t, fs.WalkDir(Sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		assert.NotContains(t, p, ".terraform")
		assert.NotContains(t, p, ".tfstate")
		if strings.HasSuffix(p, ".tf") {
			embedded[p] = true
			want, err := os.ReadFile(filepath.FromSlash(p))
			require.NoError(t, err)
			got, err := fs.ReadFile(Sources, p)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), p)
		}
		return nil
	}))
	assert.Equal(t, onDisk, embedded)
	for _, p := range []string{"fixtures/functional/main.tf", "modules/network/main.tf", "fixtures/service-map/lab.yaml"} {
		_, err := fs.Stat(Sources, p)
		assert.NoError(t, err, p)
	}
}
