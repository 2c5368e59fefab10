package tf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// fakeBinary writes an executable that answers `version` and `version -json`
// as OpenTofu or Terraform of the given version would.
func fakeBinary(t *testing.T, dir, name, product, version string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	p := filepath.Join(dir, name)
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = version ] && [ "$2" = -json ]; then
  printf '{\n  "terraform_version": "%s",\n  "platform": "linux_amd64",\n  "provider_selections": {}\n}\n'
elif [ "$1" = version ]; then
  printf '%s v%s\non linux_amd64\n'
else
  exit 1
fi
`, version, product, version)
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func TestCheckBinary(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		product, version string
		err              string // "" = accepted
	}{
		{"OpenTofu", "1.12.6", ""},
		{"OpenTofu", "1.8.0", "{path} is OpenTofu v1.8.0, not OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0"},
		{"Terraform", "1.6.0", ""},
		{"Terraform", "1.6.6", ""},
		{"Terraform", "1.14.3", ""},
		{"Terraform", "1.5.7", "{path} is Terraform v1.5.7, not OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0"},
		{"Terraform", "2.0.0", "{path} is Terraform v2.0.0, not OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0"},
		{"Pulumi", "1.12.6", "{path}: neither OpenTofu nor Terraform: `version` says \"Pulumi v1.12.6\""},
	} {
		t.Run(tc.product+"-"+tc.version, func(t *testing.T) {
			p := fakeBinary(t, filepath.Join(dir, tc.product+tc.version), "tofu", tc.product, tc.version)
			got, err := tf.CheckBinary(p)
			if tc.err == "" {
				require.NoError(t, err)
				assert.Equal(t, tf.Tools{Tofu: p, Product: tc.product, Version: tc.version}, got)
				return
			}
			require.Error(t, err)
			assert.Equal(t, strings.ReplaceAll(tc.err, "{path}", p), err.Error())
		})
	}
}

// fakeRepo is an empty checkout (go.mod + fixtures/) with no .tools.
func fakeRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(root, "fixtures"), 0o755))
	t.Setenv("CLOUDPULSE_ROOT", root)
	t.Setenv("CLOUDPULSE_TOFU", "")
	t.Setenv("CLOUDPULSE_TOFURC", "")
	return root
}

func TestFindToolsOnPath(t *testing.T) {
	t.Run("tofu of the pinned version, no mirror: the user's own CLI config", func(t *testing.T) {
		fakeRepo(t)
		bin := t.TempDir()
		p := fakeBinary(t, bin, "tofu", "OpenTofu", "1.12.6")
		t.Setenv("PATH", bin)
		got, err := tf.FindTools()
		require.NoError(t, err)
		assert.Equal(t, tf.Tools{Tofu: p, Product: "OpenTofu", Version: "1.12.6"}, got)
		_, set := got.Env()["TF_CLI_CONFIG_FILE"]
		assert.False(t, set)
	})
	t.Run("another tofu is passed over for terraform", func(t *testing.T) {
		root := fakeRepo(t)
		require.NoError(t, os.MkdirAll(filepath.Join(root, ".tools"), 0o755))
		rc := filepath.Join(root, ".tools", "tofurc")
		require.NoError(t, os.WriteFile(rc, nil, 0o644))
		bin := t.TempDir()
		fakeBinary(t, bin, "tofu", "OpenTofu", "1.9.1")
		p := fakeBinary(t, bin, "terraform", "Terraform", "1.6.6")
		t.Setenv("PATH", bin)
		got, err := tf.FindTools()
		require.NoError(t, err)
		assert.Equal(t, tf.Tools{Tofu: p, CLIConfig: rc, Product: "Terraform", Version: "1.6.6"}, got)
		assert.Equal(t, rc, got.Env()["TF_CLI_CONFIG_FILE"])
	})
	t.Run(".tools/bin/tofu comes first", func(t *testing.T) {
		root := fakeRepo(t)
		p := fakeBinary(t, filepath.Join(root, ".tools", "bin"), "tofu", "OpenTofu", "1.12.6")
		bin := t.TempDir()
		fakeBinary(t, bin, "terraform", "Terraform", "1.6.6")
		t.Setenv("PATH", bin)
		got, err := tf.FindTools()
		require.NoError(t, err)
		assert.Equal(t, p, got.Tofu)
	})
	t.Run("CLOUDPULSE_TOFU is checked, and not replaced when it does not fit", func(t *testing.T) {
		fakeRepo(t)
		bin := t.TempDir()
		fakeBinary(t, bin, "tofu", "OpenTofu", "1.12.6")
		t.Setenv("PATH", bin)
		old := fakeBinary(t, t.TempDir(), "terraform", "Terraform", "1.5.7")
		t.Setenv("CLOUDPULSE_TOFU", old)
		_, err := tf.FindTools()
		require.Error(t, err)
		assert.Equal(t, "CLOUDPULSE_TOFU: "+old+" is Terraform v1.5.7, not OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0", err.Error())
	})
	t.Run("nothing fits: every candidate and the fix", func(t *testing.T) {
		fakeRepo(t)
		bin := t.TempDir()
		p := fakeBinary(t, bin, "tofu", "OpenTofu", "1.9.1")
		t.Setenv("PATH", bin)
		_, err := tf.FindTools()
		require.Error(t, err)
		assert.Equal(t, "no usable OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0 ("+p+" is OpenTofu v1.9.1, not OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0): run `make tools`, or set CLOUDPULSE_TOFU", err.Error())
	})
}

// A TF_CLI_CONFIG_FILE that names a missing file makes OpenTofu print a warning
// before its product line; the version check must not be misled by it (this
// machine kind has such a TF_CLI_CONFIG_FILE in its environment).
func TestCheckBinaryIgnoresTheCallersCLIConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tofu")
	script := `#!/bin/sh
if [ -n "$TF_CLI_CONFIG_FILE" ]; then printf '\nWarning: Unable to open CLI configuration file\n\n'; fi
if [ "$2" = -json ]; then printf '{"terraform_version": "1.12.6"}\n'; else printf 'OpenTofu v1.12.6\non linux_amd64\n'; fi
`
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(t.TempDir(), "missing.tfrc"))
	got, err := tf.CheckBinary(p)
	require.NoError(t, err)
	assert.Equal(t, tf.Tools{Tofu: p, Product: "OpenTofu", Version: "1.12.6"}, got)
}
