package scenario

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/tf"
)

// The upgrade's state directory ($CLOUDPULSE_UPGRADE_STATE) holds everything
// the post phase needs, so that a pipeline can hand it from the pre job to
// the post job as one (protected) artifact:
//
//	snapshot.json      what was built and observed (0600)
//	ssh_key            the run's throwaway private key (0600)
//	upgrade-<run id>/  the OpenTofu workspace: fixture copy, encrypted state, its passphrase, variables
//
// Every file is 0600 and every directory 0700: the key logs in to the VMs,
// and in operator mode the variables hold the generated user's password.
const (
	SnapshotFile   = "snapshot.json"
	SnapshotKey    = "ssh_key"
	snapshotFormat = 1
	// UpgradeFixture is the fixture the snapshot applies.
	UpgradeFixture = "fixtures/upgrade"
)

// Snapshot is snapshot.json.
type Snapshot struct {
	Format        int         `json:"format"`
	Fixture       string      `json:"fixture"`
	FixtureSHA256 string      `json:"fixture_sha256"` // of the fixture and modules/ it was applied from
	RunID         string      `json:"run_id"`
	Cloud         string      `json:"cloud"` // the clouds.yaml entry
	Workspace     string      `json:"workspace"`
	Created       time.Time   `json:"created"`
	SSHUser       string      `json:"ssh_user"`
	CreateProject bool        `json:"create_project,omitempty"`
	Resources     Resources   `json:"resources"`
	Servers       []ServerObs `json:"servers"`
	Admin         bool        `json:"admin"` // hosts were read (as admin)

	// Mode is ModeCreate (fixtures/upgrade, built by the snapshot) or
	// ModeExisting (fixtures/upgrade-existing: a tenant's resources, read only).
	Mode string `json:"mode"`
	// ExistingVars and Before: in ModeExisting, the fixture's variables and
	// outputs at snapshot time (what verify compares with).
	ExistingVars map[string]any `json:"existing_vars,omitempty"`
	Before       tf.Outputs     `json:"before,omitempty"`
}

// Snapshot modes.
const (
	ModeCreate   = "create"
	ModeExisting = "existing"
)

// ServerObs is what the pre phase saw of one VM.
type ServerObs struct {
	VM           string    `json:"vm"` // the short name from the resources file
	Name         string    `json:"name"`
	ID           string    `json:"id"`
	FloatingIP   string    `json:"floating_ip"`
	FixedIP      string    `json:"fixed_ip"`
	Host         string    `json:"host,omitempty"` // compute host, as admin
	BootID       string    `json:"boot_id"`
	Uptime       float64   `json:"uptime_s"`
	ObservedAt   time.Time `json:"observed_at"`
	HostKey      string    `json:"host_key"` // authorized_keys line of the key ssh accepted
	VolumeID     string    `json:"volume_id"`
	VolumeSHA256 string    `json:"volume_sha256"` // of the block written at volumeOffset
}

// FixtureHash is the sha256 of fixtures/upgrade and the modules it uses, as
// they are under root (file names and contents, in order).
func FixtureHash(root string) (string, error) { return fixtureHash(os.DirFS(root), UpgradeFixture) }

// fixtureHash hashes fixture's and the modules' .tf files in src (a checkout
// or the sources embedded in the binary: both give the same hash).
func fixtureHash(src fs.FS, fixture string) (string, error) {
	h := sha256.New()
	var files []string
	for _, dir := range []string{fixture, "modules"} {
		err := fs.WalkDir(src, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".terraform" {
				return fs.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".tf") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", dir, err)
		}
	}
	sort.Strings(files)
	for _, p := range files {
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NewStateDir makes dir for a new snapshot (0700) and refuses one that holds a snapshot already.
func NewStateDir(dir string) error {
	if dir == "" {
		return errors.New("upgrade: no state directory: set CLOUDPULSE_UPGRADE_STATE (or --state) to a directory for the snapshot")
	}
	if _, err := os.Stat(filepath.Join(dir, SnapshotFile)); err == nil {
		return fmt.Errorf("upgrade: %s already holds a snapshot: verify and finish it (`cpulse upgrade finish --state %s`), or choose another directory", dir, dir)
	}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "upgrade-") {
				return fmt.Errorf("upgrade: %s holds the workspace %s of an unfinished snapshot: destroy it with `cpulse cleanup --state %s`, or choose another directory", dir, e.Name(), dir)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("upgrade: state directory: %w", err)
	}
	return os.Chmod(dir, 0o700)
}

// SaveSnapshot writes snapshot.json (0600).
func SaveSnapshot(dir string, s *Snapshot) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile0600(filepath.Join(dir, SnapshotFile), append(b, '\n'))
}

// LoadSnapshot reads dir's snapshot and checks that this cloudpulse can verify
// it: same format, same fixture (root's, hashed; root "": no fixture check).
func LoadSnapshot(dir, root string) (*Snapshot, error) {
	var src fs.FS
	if root != "" {
		src = os.DirFS(root)
	}
	return loadSnapshot(dir, src)
}

// loadSnapshot is LoadSnapshot with the fixture's sources (a checkout or the
// binary's own) in src; nil: no fixture check.
func loadSnapshot(dir string, src fs.FS) (*Snapshot, error) {
	if dir == "" {
		return nil, errors.New("upgrade: no state directory: set CLOUDPULSE_UPGRADE_STATE (or --state) to the pre phase's directory")
	}
	b, err := os.ReadFile(filepath.Join(dir, SnapshotFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("upgrade: %s holds no snapshot (%s): run the pre phase first (`cpulse upgrade snapshot`, or go test -run 'Upgrade/pre')", dir, SnapshotFile)
	}
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("upgrade: %s: %w", filepath.Join(dir, SnapshotFile), err)
	}
	if s.Format != snapshotFormat {
		return nil, fmt.Errorf("upgrade: %s has format %d, this cpulse reads format %d: verify it with the cpulse that made it", filepath.Join(dir, SnapshotFile), s.Format, snapshotFormat)
	}
	if s.Mode == "" {
		s.Mode = ModeCreate
	}
	if src != nil {
		h, err := fixtureHash(src, s.Fixture)
		if err != nil {
			return nil, err
		}
		if h != s.FixtureSHA256 {
			return nil, fmt.Errorf("upgrade: the snapshot in %s was made from another version of %s (sha256 %.12s…, this cloudpulse has %.12s…): verify it with the cloudpulse that made it, or finish it and take a new snapshot", dir, s.Fixture, s.FixtureSHA256, h)
		}
	}
	return &s, nil
}

// OpenSnapshotWorkspace opens the snapshot's OpenTofu workspace.
func OpenSnapshotWorkspace(dir string, s *Snapshot) (*tf.Workspace, error) {
	ws, err := tf.OpenWorkspace(filepath.Join(dir, s.Workspace))
	if err != nil {
		return nil, fmt.Errorf("upgrade: the snapshot's workspace: %w", err)
	}
	return ws, nil
}

func writeFile0600(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
