package tf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// LiveFile is the lock file in a workspace's root: the process that runs the
// workspace holds an exclusive flock(2) on it for as long as it lives (the
// kernel drops the lock when the process ends, however it ends), so that
// `cpulse cleanup` can tell a live run from one whose runner is gone.
const LiveFile = ".cloudpulse-live"

// ErrWorkspaceInUse is returned when another process holds a workspace.
var ErrWorkspaceInUse = errors.New("in use by a live run")

// held are the lock files this process holds, by workspace root.
var held sync.Map // string → *os.File

// Hold takes the workspace's live lock for this process, until Release,
// Remove or the process's end. Holding it already is fine; a lock held by
// another process gives ErrWorkspaceInUse.
func (w *Workspace) Hold() error { return hold(w.Root) }

// Release gives the live lock back (a no-op when this process does not hold it).
func (w *Workspace) Release() error {
	f, ok := held.LoadAndDelete(filepath.Clean(w.Root))
	if !ok {
		return nil
	}
	return f.(*os.File).Close() // closing the last descriptor drops the flock
}

func hold(root string) error {
	root = filepath.Clean(root)
	if _, ok := held.Load(root); ok {
		return nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("workspace %s: %w", root, err)
	}
	// O_CLOEXEC (Go's default): tofu and other children do not inherit the lock,
	// so a killed run's orphans cannot keep it alive.
	f, err := os.OpenFile(filepath.Join(root, LiveFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("workspace %s: live lock: %w", root, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("workspace %s: %w", root, ErrWorkspaceInUse)
		}
		return fmt.Errorf("workspace %s: live lock: %w", root, err)
	}
	if _, loaded := held.LoadOrStore(root, f); loaded {
		f.Close() // another goroutine of this process took it meanwhile
	}
	return nil
}
