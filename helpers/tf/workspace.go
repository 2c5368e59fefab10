package tf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// VarFile is the name of the variables file written into every workspace.
// Keeping the variables next to the state means a later destroy (a second run,
// `cpulse cleanup`, the upgrade's post stage) needs nothing but the directory.
const VarFile = "cloudpulse.auto.tfvars.json"

// Workspace is a fixture copied, with the modules it references, into a state
// directory of its own: <StateRoot>/<fixture>-<run id>/{modules,fixtures/<fixture>}.
//
// The state holds secrets while the run lives (a generated tenant password is
// an attribute of the user it creates), so the directory is private: its root
// is 0700, and no file or directory in it is open to group or others (the
// runners run tofu with umask 077 and call Protect after each command). The
// state is encrypted with a passphrase kept in StateKeyFile (see Env), and the
// whole directory is removed after a successful destroy.
type Workspace struct {
	Root  string // the copy's root, removed by Remove
	Dir   string // the fixture inside the copy: tofu runs here
	RunID string
	// Parallelism caps how many resources OpenTofu creates or destroys at
	// once (-parallelism); 0: OpenTofu's default, 10.
	Parallelism int

	secrets *Secrets
	pg      *PGState // the state is in PostgreSQL (AttachPG); nil: local
}

// WorkspaceOptions say what to copy and where.
type WorkspaceOptions struct {
	// Fixture is the fixture directory, absolute or relative to the repository root (e.g. "fixtures/functional").
	Fixture string
	// RunID is put in the directory name; the fixture gets it as a variable only through Vars.
	RunID string
	// Vars are written to VarFile as JSON.
	Vars map[string]any
	// StateRoot holds workspaces; default $CLOUDPULSE_STATE_DIR or <repo>/state/runs.
	StateRoot string
	// Secrets are values the runners must never print: the cloud's password,
	// application credential secret or token. Variables whose names are
	// secret (IsSecretName, e.g. tenant_password) are added by themselves.
	Secrets []string
	// Parallelism: see Workspace.Parallelism.
	Parallelism int
}

// NewWorkspace copies the fixture and the repository's modules/ into a fresh
// state directory and writes the variables file.
func NewWorkspace(o WorkspaceOptions) (*Workspace, error) {
	if err := ValidRunID(o.RunID); err != nil {
		return nil, err
	}
	src, rel, err := fixtureSource(o.Fixture)
	if err != nil {
		return nil, err
	}
	stateRoot := o.StateRoot
	if stateRoot == "" {
		if stateRoot, err = DefaultStateRoot(); err != nil {
			return nil, err
		}
	}
	ws := &Workspace{Root: filepath.Join(stateRoot, path.Base(rel)+"-"+o.RunID), RunID: o.RunID, Parallelism: o.Parallelism, secrets: NewSecrets(o.Secrets...)}
	ws.Dir = filepath.Join(ws.Root, filepath.FromSlash(rel))
	// The state root is created private; one that exists is left as it is
	// (it may be a directory the user chose), each workspace in it is 0700.
	if err := os.MkdirAll(stateRoot, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := os.Mkdir(ws.Root, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("workspace %s already exists: a run with id %q left state behind; destroy it with `cpulse cleanup` or `make clean-cloud`", ws.Root, o.RunID)
		}
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := os.Chmod(ws.Root, 0o700); err != nil { // whatever the umask
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := ws.writeStateKey(); err != nil {
		return nil, err
	}
	if err := ws.Hold(); err != nil { // before anything is in it: cleanup must never see it half made and unheld
		return nil, err
	}
	if err := copyTree(src.FS, rel, ws.Dir); err != nil {
		return nil, fmt.Errorf("copy fixture %s from %s: %w", rel, src, err)
	}
	if _, err := fs.Stat(src.FS, "modules"); err == nil {
		if err := copyTree(src.FS, "modules", filepath.Join(ws.Root, "modules")); err != nil {
			return nil, fmt.Errorf("copy modules from %s: %w", src, err)
		}
	}
	if err := ws.WriteVars(o.Vars); err != nil {
		return nil, err
	}
	return ws, nil
}

// OpenWorkspace opens a workspace left by an earlier run (for destroy or the
// upgrade's post stage) and holds its live lock; a workspace whose run is still
// alive gives ErrWorkspaceInUse.
func OpenWorkspace(root string) (*Workspace, error) {
	if _, err := os.Stat(root); err != nil {
		return nil, err
	}
	ws := &Workspace{Root: root, RunID: runIDFromDir(root)}
	if err := ws.Hold(); err != nil { // first: a live run may not have written its files yet
		return nil, err
	}
	matches, _ := filepath.Glob(filepath.Join(root, "fixtures", "*", VarFile))
	if len(matches) == 0 { // a fixture outside fixtures/ (test data)
		matches = findVarFiles(root)
	}
	if len(matches) != 1 {
		_ = ws.Release()
		return nil, fmt.Errorf("%s is not a cloudpulse workspace (want exactly one fixtures/*/%s, found %d)", root, VarFile, len(matches))
	}
	ws.Dir, ws.secrets = filepath.Dir(matches[0]), NewSecrets()
	if err := ws.loadSecrets(); err != nil {
		_ = ws.Release()
		return nil, err
	}
	return ws, nil
}

// findVarFiles lists the variables files under root, outside the modules
// and OpenTofu's working directories.
func findVarFiles(root string) []string {
	var found []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".terraform" || p == filepath.Join(root, "modules")) {
			return filepath.SkipDir
		}
		if d.Name() == VarFile && !d.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// runIDFromDir reads the run id at the end of <fixture>-<run id> (a fixture
// name may have dashes itself: upgrade-existing-cpup12021713-0a1b2c3d).
func runIDFromDir(root string) string {
	b := filepath.Base(root)
	if m := runIDSuffix.FindString(b); m != "" {
		return strings.TrimPrefix(m, "-")
	}
	if i := strings.Index(b, "-"); i >= 0 {
		return b[i+1:]
	}
	return b
}

var runIDSuffix = regexp.MustCompile(`-` + RunIDExpr + `$`)

// WriteVars replaces the workspace's variables file.
func (w *Workspace) WriteVars(vars map[string]any) error {
	if vars == nil {
		vars = map[string]any{}
	}
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return fmt.Errorf("encode variables: %w", err)
	}
	// 0600: a generated tenant password may be among the variables.
	if err := writePrivate(filepath.Join(w.Dir, VarFile), b); err != nil {
		return fmt.Errorf("write variables: %w", err)
	}
	w.addSecretVars(vars)
	return nil
}

// addSecretVars adds the values of the variables whose names are secret.
func (w *Workspace) addSecretVars(vars map[string]any) {
	if w.secrets == nil {
		w.secrets = NewSecrets()
	}
	for k, v := range vars {
		if s, ok := v.(string); ok && IsSecretName(k) {
			w.secrets.Add(s)
		}
	}
}

// loadSecrets learns the secrets of a workspace written earlier: the
// secret variables and the state passphrase.
func (w *Workspace) loadSecrets() error {
	vars, err := w.Vars()
	if err != nil {
		return err
	}
	w.addSecretVars(vars)
	key, err := w.stateKey()
	if err != nil {
		return err
	}
	w.secrets.Add(key)
	return nil
}

// Secrets are the values the runners of this workspace redact: the ones given
// in WorkspaceOptions, the secret variables and the state passphrase.
func (w *Workspace) Secrets() *Secrets {
	if w.secrets == nil {
		w.secrets = NewSecrets()
	}
	return w.secrets
}

// Vars reads the workspace's variables file back.
func (w *Workspace) Vars() (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(w.Dir, VarFile))
	if err != nil {
		return nil, err
	}
	var vars map[string]any
	if err := json.Unmarshal(b, &vars); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(w.Dir, VarFile), err)
	}
	return vars, nil
}

// Remove deletes the workspace; call it only after a successful destroy.
// The live lock is given back after the directory is gone.
// A state in PostgreSQL goes with it (the run's schema is dropped).
func (w *Workspace) Remove() error {
	var dropErr error
	if w.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		dropErr = w.pg.Drop(ctx, w.RunID)
		cancel()
	}
	return errors.Join(dropErr, os.RemoveAll(w.Root), w.Release())
}

// fixtureSource finds a fixture: one relative to the repository
// ("fixtures/functional") in the checkout or, without one, in the binary; an
// absolute one (test data) must be inside the checkout. It returns the sources
// and the fixture's slash-separated path in them.
func fixtureSource(fixture string) (Sources, string, error) {
	if !filepath.IsAbs(fixture) {
		src, err := FindSources()
		if err != nil {
			return Sources{}, "", err
		}
		rel := fsPath(fixture)
		if _, err := fs.Stat(src.FS, rel); err != nil || strings.HasPrefix(rel, "..") {
			return Sources{}, "", fmt.Errorf("fixture %s does not exist in %s", fixture, src)
		}
		return src, rel, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return Sources{}, "", err
	}
	if !fileExists(fixture) {
		return Sources{}, "", fmt.Errorf("fixture %s does not exist", fixture)
	}
	rel, err := filepath.Rel(root, fixture)
	if err != nil || strings.HasPrefix(rel, "..") {
		return Sources{}, "", fmt.Errorf("fixture %s is not inside the repository %s", fixture, root)
	}
	return Sources{FS: os.DirFS(root), Root: root}, filepath.ToSlash(rel), nil
}
