//go:build unix

package tf

import (
	"sync"
	"syscall"
)

// The umask is the process's, not a command's: os/exec cannot set one for a
// child. While any tofu command runs the process umask is 077, so the state,
// its backup, the lock file and .terraform are created private from the start
// (Protect catches anything else afterwards). Files the rest of the process
// creates meanwhile are private too, never more open than asked.
var umaskState struct {
	sync.Mutex
	users int
	saved int
}

// privateUmask sets the umask to 077 until the returned function is called.
func privateUmask() (restore func()) {
	umaskState.Lock()
	if umaskState.users == 0 {
		umaskState.saved = syscall.Umask(0o077)
	}
	umaskState.users++
	umaskState.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			umaskState.Lock()
			defer umaskState.Unlock()
			umaskState.users--
			if umaskState.users == 0 {
				syscall.Umask(umaskState.saved)
			}
		})
	}
}
