package probe

import (
	"bytes"
	"fmt"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// HostKeys remembers the host key each address showed first and rejects a different one later
// ("trust on first use", recorded in memory for the life of a run). Share one HostKeys between the SSH calls
// of a run; the zero value is not usable, make it with NewHostKeys.
type HostKeys struct {
	mu   sync.Mutex
	keys map[string]ssh.PublicKey
}

// NewHostKeys returns an empty store.
func NewHostKeys() *HostKeys {
	return &HostKeys{keys: map[string]ssh.PublicKey{}}
}

// HostKeyChangedError says that an address showed another host key than the one recorded for it earlier.
// SSH does not retry it.
type HostKeyChangedError struct {
	Address   string
	Recorded  string // SHA256 fingerprint recorded first
	Presented string // SHA256 fingerprint shown now
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("host key of %s changed: recorded %s, now %s (another server behind the address, or a man in the middle)",
		e.Address, e.Recorded, e.Presented)
}

// Get returns the key recorded for address ("host:port").
func (k *HostKeys) Get(address string) (ssh.PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[address]
	return key, ok
}

// Callback records the first key per address and fails on a different one.
func (k *HostKeys) Callback() ssh.HostKeyCallback {
	return func(address string, _ net.Addr, key ssh.PublicKey) error {
		k.mu.Lock()
		defer k.mu.Unlock()
		old, ok := k.keys[address]
		if !ok {
			k.keys[address] = key
			return nil
		}
		if old.Type() == key.Type() && bytes.Equal(old.Marshal(), key.Marshal()) {
			return nil
		}
		return &HostKeyChangedError{Address: address, Recorded: ssh.FingerprintSHA256(old), Presented: ssh.FingerprintSHA256(key)}
	}
}
