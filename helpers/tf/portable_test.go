package tf_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HCL evaluates both sides of || and &&. Terraform fails fileexists("") (the
// module directory, "." is a directory, not a file) where OpenTofu returns
// false, so `var.f == "" || fileexists(var.f)` breaks every Terraform run with
// an empty var.f. A conditional reports only the side it chose: write
// `var.f == "" ? true : fileexists(var.f)`. Terraform itself is not in CI, so
// this guards the modules and fixtures by their text.
func TestModulesUseFileexistsPortably(t *testing.T) {
	bad := regexp.MustCompile(`(\|\||&&)\s*fileexists\(|fileexists\([^)]*\)\s*(\|\||&&)`)
	root := os.Getenv("CLOUDPULSE_ROOT")
	var files int
	for _, dir := range []string{"modules", "fixtures"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tf") {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				code, _, _ := strings.Cut(line, "#")
				assert.False(t, bad.MatchString(code), "%s:%d: fileexists() beside || or && fails in Terraform: %s", p, i+1, strings.TrimSpace(line))
			}
			return nil
		})
		require.NoError(t, err)
	}
	assert.Greater(t, files, 10, "no .tf files found under %s", root)
}
