package tf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubGo stands in for the go command: it logs each call and makes fake
// binaries, so scripts/tools.sh runs in seconds and compiles nothing.
const stubGo = `#!/bin/sh
echo "$*" >> "$STUB_GO_LOG"
case "$1" in
build)
  out=; prev=
  for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
  case "$*" in
  *opentofu*) printf '#!/bin/sh\nif [ "$2" = -json ]; then echo "{\\"terraform_version\\": \\"1.12.6\\"}"; else echo "OpenTofu v1.12.6"; fi\n' > "$out" ;;
  *) printf '#!/bin/sh\n' > "$out" ;;
  esac
  chmod +x "$out" ;;
version) printf '\tmod\tgithub.com/terraform-provider-openstack/terraform-provider-openstack/v3\tv3.4.0\n' ;;
install) printf '#!/bin/sh\necho "gotestsum version v1.13.0"\n' > "$GOBIN/gotestsum"; chmod +x "$GOBIN/gotestsum" ;;
esac
`

// toolsScript runs a copy of scripts/tools.sh in a fresh checkout with the
// given binaries on PATH; it returns the root, the output, the go calls and
// the exit error.
func toolsScript(t *testing.T, setup func(root, pathDir string), env ...string) (string, string, string, error) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(os.Getenv("CLOUDPULSE_ROOT"), "scripts", "tools.sh"))
	require.NoError(t, err)
	root := t.TempDir()
	for _, d := range []string{"scripts", "tools/tofu", "tools/provider"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "tools.sh"), src, 0o755))
	stubs, pathDir := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(stubs, "go"), []byte(stubGo), 0o755))
	if setup != nil {
		setup(root, pathDir)
	}
	goLog := filepath.Join(t.TempDir(), "go.log")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "tools.sh"))
	cmd.Env = append([]string{"PATH=" + stubs + ":" + pathDir + ":/usr/bin:/bin", "STUB_GO_LOG=" + goLog, "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(goLog)
	return root, string(out), string(calls), err
}

func TestToolsScriptUsesAnInstalledBinary(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	t.Run("terraform on PATH is linked, OpenTofu not compiled", func(t *testing.T) {
		var tfPath string
		root, out, calls, err := toolsScript(t, func(_, pathDir string) {
			fakeBinary(t, pathDir, "tofu", "OpenTofu", "1.9.1")
			tfPath = fakeBinary(t, pathDir, "terraform", "Terraform", "1.6.6")
		})
		require.NoError(t, err, out)
		assert.Contains(t, out, "tofu on PATH ("+filepath.Dir(tfPath)+"/tofu) is OpenTofu 1.9.1: not used")
		assert.Contains(t, out, "using Terraform 1.6.6 at "+tfPath+" (linked as "+root+"/.tools/bin/tofu): nothing to compile")
		link, err := os.Readlink(filepath.Join(root, ".tools", "bin", "tofu"))
		require.NoError(t, err)
		assert.Equal(t, tfPath, link)
		assert.NotContains(t, calls, "opentofu", "OpenTofu was compiled")
		assert.FileExists(t, filepath.Join(root, ".tools", "tofurc"))
		assert.DirExists(t, filepath.Join(root, ".tools", "mirror", "registry.terraform.io"))
	})
	t.Run("tofu of the pinned version on PATH", func(t *testing.T) {
		var p string
		root, out, calls, err := toolsScript(t, func(_, pathDir string) {
			p = fakeBinary(t, pathDir, "tofu", "OpenTofu", "1.12.6")
		})
		require.NoError(t, err, out)
		link, err := os.Readlink(filepath.Join(root, ".tools", "bin", "tofu"))
		require.NoError(t, err)
		assert.Equal(t, p, link)
		assert.NotContains(t, calls, "opentofu")
	})
	t.Run("nothing fits: compiled", func(t *testing.T) {
		root, out, calls, err := toolsScript(t, func(_, pathDir string) {
			fakeBinary(t, pathDir, "terraform", "Terraform", "1.5.7")
		})
		require.NoError(t, err, out)
		assert.Contains(t, out, "terraform on PATH")
		assert.Contains(t, out, "is Terraform 1.5.7: not used")
		assert.Contains(t, out, "building tofu 1.12.6")
		assert.Contains(t, calls, "github.com/opentofu/opentofu/cmd/tofu")
		fi, err := os.Lstat(filepath.Join(root, ".tools", "bin", "tofu"))
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular())
	})
	t.Run("a built .tools/bin/tofu is kept", func(t *testing.T) {
		_, out, calls, err := toolsScript(t, func(root, _ string) {
			fakeBinary(t, filepath.Join(root, ".tools", "bin"), "tofu", "OpenTofu", "1.12.6")
		})
		require.NoError(t, err, out)
		assert.Contains(t, out, "OpenTofu 1.12.6 ready at ")
		assert.NotContains(t, calls, "opentofu")
	})
	t.Run("CLOUDPULSE_TOFU that does not fit is refused", func(t *testing.T) {
		old := fakeBinary(t, t.TempDir(), "terraform", "Terraform", "1.5.7")
		_, out, calls, err := toolsScript(t, nil, "CLOUDPULSE_TOFU="+old)
		require.Error(t, err)
		assert.Equal(t, "tools: CLOUDPULSE_TOFU="+old+" is Terraform 1.5.7: use OpenTofu 1.12.6 or Terraform >= 1.6.0, < 2.0.0, or unset it", strings.TrimSpace(out))
		assert.Empty(t, calls)
	})
}
