package probe

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// consoleSource serves console logs per address, as the scenario's source reads them through nova.
type consoleSource struct {
	mu    sync.Mutex
	logs  map[string]string
	calls atomic.Int32
}

func (c *consoleSource) set(address, log string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs[address] = log
}

func (c *consoleSource) lookup(_ context.Context, address string) (PrintedHostKeys, string, error) {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return ParseConsoleHostKeys(c.logs[address]), "vm-0", nil
}

func verifiedHost(t *testing.T, srv *sshServer, keys KeyPair, src *consoleSource, wait time.Duration) (Host, *[]HostKeyPin) {
	t.Helper()
	var mu sync.Mutex
	var pins []HostKeyPin
	h := localHost(srv, keys)
	h.HostKeys = NewVerifiedHostKeys(src.lookup, wait, func(p HostKeyPin) {
		mu.Lock()
		defer mu.Unlock()
		pins = append(pins, p)
	})
	return h, &pins
}

func TestSSHHostKeyFromConsoleMatches(t *testing.T) {
	keys := newKeys(t)
	hostKey := newHostKey(t)
	srv := startSSHServerWithKeys(t, "vm-0", "127.0.0.1:0", keys.Signer.PublicKey(), hostKey)
	addr := srv.ln.Addr().String()
	src := &consoleSource{logs: map[string]string{addr: guestConsole(hostKey.PublicKey())}}
	h, pins := verifiedHost(t, srv, keys, src, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	for range 2 {
		if out, err := SSH(ctx, h, "hostname"); err != nil || out != "vm-0\n" {
			t.Fatalf("SSH to a server whose key is on its console: out %q, err %v", out, err)
		}
	}
	want := HostKeyPin{Address: addr, Server: "vm-0", Fingerprint: ssh.FingerprintSHA256(hostKey.PublicKey()), Source: PinnedFromConsole}
	if len(*pins) != 1 || (*pins)[0] != want {
		t.Fatalf("pins %+v, want one: %+v", *pins, want)
	}
	if got, want := (*pins)[0].String(), "host key of "+addr+" (vm-0) pinned from the console: "+want.Fingerprint; got != want {
		t.Errorf("pin reads %q, want %q", got, want)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("console read %d times, want once (then pinned)", n)
	}
}

func TestSSHHostKeyNotOnConsoleIsRefused(t *testing.T) {
	keys := newKeys(t)
	printed, presented := newHostKey(t), newHostKey(t)
	srv := startSSHServerWithKeys(t, "impostor", "127.0.0.1:0", keys.Signer.PublicKey(), presented)
	addr := srv.ln.Addr().String()
	src := &consoleSource{logs: map[string]string{addr: guestConsole(printed.PublicKey())}}
	h, pins := verifiedHost(t, srv, keys, src, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	start := time.Now()
	_, err := SSH(ctx, h, "hostname")
	var mismatch *HostKeyMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("login to a server whose key is not on its console: err = %v, want a HostKeyMismatchError", err)
	}
	want := "host key of " + addr + " is " + ssh.FingerprintSHA256(presented.PublicKey()) +
		", not one that server vm-0 printed on its console (" + ssh.FingerprintSHA256(printed.PublicKey()) +
		"): a man in the middle, or another server behind the address"
	if !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q\ndoes not end with %q", err, want)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a mismatching host key was retried for %s", took)
	}
	if len(*pins) != 0 {
		t.Errorf("a refused key was pinned: %+v", *pins)
	}
}

// A server rebuilt behind the same address after its key was pinned from the console is caught.
func TestSSHRebuiltServerIsRefused(t *testing.T) {
	keys := newKeys(t)
	first := newHostKey(t)
	srv := startSSHServerWithKeys(t, "vm-0", "127.0.0.1:0", keys.Signer.PublicKey(), first)
	addr := srv.ln.Addr().String()
	src := &consoleSource{logs: map[string]string{addr: guestConsole(first.PublicKey())}}
	h, _ := verifiedHost(t, srv, keys, src, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("first login: %v", err)
	}

	srv.stop()
	rebuilt := newHostKey(t)
	startSSHServerWithKeys(t, "vm-0", addr, keys.Signer.PublicKey(), rebuilt)
	src.set(addr, guestConsole(first.PublicKey())+guestConsole(rebuilt.PublicKey())) // it printed its new key too
	_, err := SSH(ctx, h, "hostname")
	if _, ok := errors.AsType[*HostKeyMismatchError](err); !ok {
		t.Fatalf("login to the rebuilt server: err = %v, want a HostKeyMismatchError", err)
	}
}

// Keys printed a moment after sshd answers (cloud-init prints them at the end of boot) are waited for.
func TestSSHHostKeyWaitsForConsole(t *testing.T) {
	keys := newKeys(t)
	hostKey := newHostKey(t)
	srv := startSSHServerWithKeys(t, "vm-0", "127.0.0.1:0", keys.Signer.PublicKey(), hostKey)
	addr := srv.ln.Addr().String()
	src := &consoleSource{logs: map[string]string{addr: "Booting...\n"}}
	h, pins := verifiedHost(t, srv, keys, src, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	time.AfterFunc(1500*time.Millisecond, func() { src.set(addr, "Booting...\n"+guestConsole(hostKey.PublicKey())) })

	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("SSH: %v", err)
	}
	if len(*pins) != 1 || (*pins)[0].Source != PinnedFromConsole {
		t.Fatalf("pins %+v, want one from the console", *pins)
	}
	if n := src.calls.Load(); n < 2 {
		t.Errorf("console read %d times, want a retry until the keys were there", n)
	}
}

// A server that prints no keys is trusted on first use after the wait, and then pinned: a changed key fails.
func TestSSHHostKeyTrustOnFirstUseWhenConsoleIsSilent(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServerWithKeys(t, "vm-0", "127.0.0.1:0", keys.Signer.PublicKey(), newHostKey(t))
	addr := srv.ln.Addr().String()
	src := &consoleSource{logs: map[string]string{addr: "Booting...\nlogin:\n"}}
	const wait = 2 * time.Second
	h, pins := verifiedHost(t, srv, keys, src, wait)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	start := time.Now()
	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("SSH to a server that prints no keys: %v", err)
	}
	if took := time.Since(start); took < wait {
		t.Errorf("trusted on first use after %s, before the %s wait for the console", took, wait)
	}
	if len(*pins) != 1 {
		t.Fatalf("pins %+v, want one", *pins)
	}
	pin := (*pins)[0]
	want := "host key of " + addr + " (vm-0) trusted on first use for this run: " + pin.Fingerprint +
		" (server vm-0: it printed no ssh host keys on its console in 2s)"
	if pin.Source != PinnedOnFirstUse || pin.String() != want {
		t.Errorf("pin reads %q (source %q), want %q", pin, pin.Source, want)
	}

	srv.stop()
	startSSHServer(t, "impostor", addr, keys.Signer.PublicKey())
	_, err := SSH(ctx, h, "hostname")
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) || changed.Recorded != pin.Fingerprint {
		t.Fatalf("login after the key changed: err = %v, want a HostKeyChangedError from %s", err, pin.Fingerprint)
	}
}
