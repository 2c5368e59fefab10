package probe

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostKeys pins the host key of each address for the life of a run. With a Source (see NewVerifiedHostKeys) the
// key a server shows must be one it printed on its console, read through the cloud's API; a server that prints
// none is trusted on first use after a wait. Without one (NewHostKeys) the first key an address shows is
// trusted. Either way a different key later fails. Share one HostKeys between the SSH calls of a run; the zero
// value is not usable.
type HostKeys struct {
	source HostKeySource
	wait   time.Duration
	onPin  func(HostKeyPin)
	now    func() time.Time

	mu        sync.Mutex
	keys      map[string]ssh.PublicKey   // the key each address showed and was accepted
	printed   map[string]PrintedHostKeys // what the console of the server behind each address printed
	pins      map[string]HostKeyPin
	firstSeen map[string]time.Time // first handshake with an address whose console showed nothing yet
}

// HostKeySource returns the host keys the server behind address ("host:port") printed on its console (empty when
// it printed none, yet), and the server's name for messages.
type HostKeySource func(ctx context.Context, address string) (printed PrintedHostKeys, server string, err error)

// How a host key came to be trusted.
const (
	PinnedFromConsole = "console"
	PinnedOnFirstUse  = "first use"
)

// HostKeyPin says which key was accepted for an address, and why.
type HostKeyPin struct {
	Address     string // host:port
	Server      string // the server behind it, as the source named it
	Fingerprint string // SHA256 fingerprint of the accepted key
	Source      string // PinnedFromConsole or PinnedOnFirstUse
	Note        string // for PinnedOnFirstUse with a source: why the console did not help
}

func (p HostKeyPin) String() string {
	who := p.Address
	if p.Server != "" {
		who += " (" + p.Server + ")"
	}
	if p.Source == PinnedFromConsole {
		return fmt.Sprintf("host key of %s pinned from the console: %s", who, p.Fingerprint)
	}
	s := fmt.Sprintf("host key of %s trusted on first use for this run: %s", who, p.Fingerprint)
	if p.Note != "" {
		s += " (" + p.Note + ")"
	}
	return s
}

// NewHostKeys returns a store that trusts the first key each address shows ("trust on first use").
func NewHostKeys() *HostKeys {
	return &HostKeys{
		now:       time.Now,
		keys:      map[string]ssh.PublicKey{},
		printed:   map[string]PrintedHostKeys{},
		pins:      map[string]HostKeyPin{},
		firstSeen: map[string]time.Time{},
	}
}

// NewVerifiedHostKeys returns a store that checks each address's key against what source says its server printed
// on its console. When the console shows no keys (yet), the handshake fails and SSH tries again; once wait has
// passed since the first handshake with that address, the key it shows is trusted on first use. onPin (may be
// nil) is called once per address when its key is accepted.
func NewVerifiedHostKeys(source HostKeySource, wait time.Duration, onPin func(HostKeyPin)) *HostKeys {
	k := NewHostKeys()
	k.source, k.wait, k.onPin = source, wait, onPin
	return k
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

// HostKeyMismatchError says that an address showed a host key that its server did not print on its console: a man
// in the middle, or another server (a rebuilt one, or a floating IP moved) behind the address. SSH does not retry it.
type HostKeyMismatchError struct {
	Address   string
	Server    string
	Presented string // SHA256 fingerprint shown
	Printed   string // the fingerprints on the console
}

func (e *HostKeyMismatchError) Error() string {
	return fmt.Sprintf("host key of %s is %s, not one that server %s printed on its console (%s): a man in the middle, or another server behind the address",
		e.Address, e.Presented, e.Server, e.Printed)
}

// Get returns the key recorded for address ("host:port").
func (k *HostKeys) Get(address string) (ssh.PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[address]
	return key, ok
}

// Pins returns how each address's key was accepted so far, by address.
func (k *HostKeys) Pins() []HostKeyPin {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]HostKeyPin, 0, len(k.pins))
	for _, p := range k.pins {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b HostKeyPin) int { return strings.Compare(a.Address, b.Address) })
	return out
}

// Callback checks the key an address shows. ctx bounds the console lookup.
func (k *HostKeys) Callback(ctx context.Context) ssh.HostKeyCallback {
	return func(address string, _ net.Addr, key ssh.PublicKey) error {
		pin, err := k.check(ctx, address, key)
		if pin != nil && k.onPin != nil {
			k.onPin(*pin)
		}
		return err
	}
}

// check accepts or refuses key for address; it returns the pin when this call made one.
func (k *HostKeys) check(ctx context.Context, address string, key ssh.PublicKey) (*HostKeyPin, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if printed, ok := k.printed[address]; ok {
		if !printed.Match(key) {
			return nil, &HostKeyMismatchError{Address: address, Server: k.pins[address].Server,
				Presented: ssh.FingerprintSHA256(key), Printed: printed.String()}
		}
		return nil, nil
	}
	if old, ok := k.keys[address]; ok {
		if old.Type() == key.Type() && bytes.Equal(old.Marshal(), key.Marshal()) {
			return nil, nil
		}
		return nil, &HostKeyChangedError{Address: address, Recorded: ssh.FingerprintSHA256(old), Presented: ssh.FingerprintSHA256(key)}
	}
	pin := HostKeyPin{Address: address, Fingerprint: ssh.FingerprintSHA256(key), Source: PinnedOnFirstUse}
	if k.source != nil {
		// The lookup runs under the lock: calls for other addresses wait, but no two lookups race to pin.
		printed, server, err := k.source(ctx, address)
		pin.Server = server
		if err == nil && !printed.Empty() {
			k.printed[address] = printed
			pin.Source = PinnedFromConsole
			k.pins[address] = pin
			if !printed.Match(key) {
				return nil, &HostKeyMismatchError{Address: address, Server: server, Presented: pin.Fingerprint, Printed: printed.String()}
			}
			k.keys[address] = key
			return &pin, nil
		}
		first, seen := k.firstSeen[address]
		if !seen {
			first = k.now()
			k.firstSeen[address] = first
		}
		why := "it printed no ssh host keys on its console"
		if err != nil {
			why = fmt.Sprintf("its console could not be read: %v", err)
		}
		if waited := k.now().Sub(first); waited < k.wait {
			return nil, fmt.Errorf("host key of %s not checked yet: %s (trusting it on first use in %s)",
				address, why, (k.wait - waited).Round(time.Second))
		}
		pin.Note = fmt.Sprintf("server %s: %s in %s", server, why, k.wait)
	}
	k.keys[address] = key
	k.pins[address] = pin
	return &pin, nil
}
