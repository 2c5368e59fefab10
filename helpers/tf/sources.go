package tf

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cloudpulse/cloudpulse"
)

// Sources are where a run's fixture and the modules come from: the checkout
// when there is one (RepoRoot: $CLOUDPULSE_ROOT, or the working directory and
// its parents), else the copy embedded in the binary, so that cpulse needs no
// checkout at run time.
type Sources struct {
	FS   fs.FS  // holds fixtures/<name>/ and modules/ at its root
	Root string // the checkout; "" for the embedded copy
}

// String says where the sources are, for logs and errors.
func (s Sources) String() string {
	if s.Root == "" {
		return "the fixtures embedded in cpulse"
	}
	return s.Root
}

// FindSources returns the checkout's sources, or the embedded ones when no
// checkout is found. A $CLOUDPULSE_ROOT that names no checkout is an error:
// the user chose it.
func FindSources() (Sources, error) {
	root, err := RepoRoot()
	if err == nil {
		return Sources{FS: os.DirFS(root), Root: root}, nil
	}
	if os.Getenv("CLOUDPULSE_ROOT") != "" {
		return Sources{}, err
	}
	return Embedded(), nil
}

// Embedded are the sources built into the binary.
func Embedded() Sources { return Sources{FS: cloudpulse.Sources} }

// DefaultStateRoot is where workspaces live when nothing says otherwise:
// $CLOUDPULSE_STATE_DIR, else <checkout>/state/runs, else (no checkout)
// $XDG_STATE_HOME/cloudpulse/runs or ~/.local/state/cloudpulse/runs.
func DefaultStateRoot() (string, error) {
	if d := os.Getenv("CLOUDPULSE_STATE_DIR"); d != "" {
		return d, nil
	}
	if root, err := RepoRoot(); err == nil {
		return filepath.Join(root, "state", "runs"), nil
	} else if os.Getenv("CLOUDPULSE_ROOT") != "" {
		return "", err
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cloudpulse", "runs"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: set CLOUDPULSE_STATE_DIR (%w)", err)
	}
	return filepath.Join(home, ".local", "state", "cloudpulse", "runs"), nil
}

// skipped are OpenTofu's working files, never copied into a workspace.
func skipped(name string, dir bool) bool {
	if dir {
		return name == ".terraform"
	}
	return name == ".terraform.lock.hcl" || strings.HasSuffix(name, ".tfstate") || strings.Contains(name, ".tfstate.") || name == VarFile
}

// copyTree copies the regular files and directories under src in fsys to dst
// (0700 directories, 0600 files), leaving out OpenTofu's working files
// (.terraform, state, lock file) so every run starts clean.
func copyTree(fsys fs.FS, src, dst string) error {
	return fs.WalkDir(fsys, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipped(d.Name(), d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

// fsPath turns a slash-separated path relative to the sources' root into
// one fs.FS accepts ("fixtures/functional").
func fsPath(rel string) string { return path.Clean(filepath.ToSlash(rel)) }
