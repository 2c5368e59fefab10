package probe

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newKeys(t *testing.T) KeyPair {
	t.Helper()
	keys, err := NewKeyPair("probe-test")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func localHost(s *sshServer, keys KeyPair) Host {
	return Host{Address: "127.0.0.1", Port: s.port(), User: "root", Signer: keys.Signer}
}

func TestSSHDirect(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	out, err := SSH(ctx, localHost(srv, keys), "hostname")
	if err != nil {
		t.Fatalf("SSH: %v", err)
	}
	if out != "target\n" {
		t.Fatalf("stdout = %q, want %q", out, "target\n")
	}
}

func TestSSHPrivateKeyPEM(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	h := Host{Address: "127.0.0.1", Port: srv.port(), User: "root", PrivateKey: keys.PrivateKeyPEM}
	out, err := SSH(ctx, h, "echo from pem")
	if err != nil {
		t.Fatalf("SSH: %v", err)
	}
	if out != "from pem\n" {
		t.Fatalf("stdout = %q, want %q", out, "from pem\n")
	}
}

func TestSSHThroughJumpHost(t *testing.T) {
	keys := newKeys(t)
	jump := startSSHServer(t, "jump", "127.0.0.1:0", keys.Signer.PublicKey())
	target := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	jh := localHost(jump, keys)
	h := localHost(target, keys)
	h.Jump = &jh
	out, err := SSH(ctx, h, "hostname")
	if err != nil {
		t.Fatalf("SSH: %v", err)
	}
	if out != "target\n" {
		t.Fatalf("stdout = %q, want the target's name", out)
	}
	if n := jump.forwards.Load(); n != 1 {
		t.Fatalf("jump host forwarded %d connections, want 1", n)
	}
	if want := fmt.Sprintf("root@127.0.0.1:%d via root@127.0.0.1:%d", target.port(), jump.port()); h.String() != want {
		t.Fatalf("Host.String() = %q, want %q", h.String(), want)
	}
}

func TestSSHJumpHostUnreachableNamesIt(t *testing.T) {
	keys := newKeys(t)
	target := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()

	jh := Host{Address: "127.0.0.1", Port: freePort(t), User: "jumper", Signer: keys.Signer}
	h := localHost(target, keys)
	h.Jump = &jh
	_, err := SSH(ctx, h, "hostname")
	if err == nil {
		t.Fatal("SSH through a closed jump port succeeded")
	}
	for _, want := range []string{"jump host jumper@127.0.0.1", "connection refused", "gave up after"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSSHCommandExitIsNotRetried(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	start := time.Now()
	_, err := SSH(ctx, localHost(srv, keys), "fail")
	if err == nil {
		t.Fatal("failing command succeeded")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("failing command took %s: it was retried", took)
	}
	for _, want := range []string{"exit status 3", `"boom"`, `run "fail"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSSHWrongKeyFailsAtDeadline(t *testing.T) {
	keys, other := newKeys(t), newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	_, err := SSH(ctx, localHost(srv, other), "hostname")
	if err == nil {
		t.Fatal("login with an unauthorized key succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
	for _, want := range []string{"unable to authenticate", fmt.Sprintf("root@127.0.0.1:%d", srv.port()), "gave up after"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSSHRefusedPortFailsAtDeadline(t *testing.T) {
	keys := newKeys(t)
	port := freePort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := SSH(ctx, Host{Address: "127.0.0.1", Port: port, User: "root", Signer: keys.Signer}, "hostname")
	if err == nil {
		t.Fatal("SSH to a closed port succeeded")
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("gave up after %s, before the deadline", took)
	}
	if !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Errorf("error %q does not name the refused port %d", err, port)
	}
}

func TestSSHRetriesUntilServerStarts(t *testing.T) {
	keys := newKeys(t)
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	started := make(chan *sshServer, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond) // a guest still booting
		started <- startSSHServer(t, "late", addr, keys.Signer.PublicKey())
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()

	out, err := SSH(ctx, Host{Address: "127.0.0.1", Port: port, User: "root", Signer: keys.Signer}, "hostname")
	<-started
	if err != nil {
		t.Fatalf("SSH: %v", err)
	}
	if out != "late\n" {
		t.Fatalf("stdout = %q, want %q", out, "late\n")
	}
}

func TestSSHContextEndsRunningCommand(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()

	start := time.Now()
	_, err := SSH(ctx, localHost(srv, keys), "sleep")
	if err == nil {
		t.Fatal("a command that never ends succeeded")
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("SSH returned %s after the deadline", took-time.Second)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
}

func TestSSHHostKeyChangeIsRefused(t *testing.T) {
	keys := newKeys(t)
	first := startSSHServer(t, "first", "127.0.0.1:0", keys.Signer.PublicKey())
	addr := first.ln.Addr().String()
	hostKeys := NewHostKeys()
	h := localHost(first, keys)
	h.HostKeys = hostKeys
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	recorded, ok := hostKeys.Get(addr)
	if !ok || string(recorded.Marshal()) != string(first.hostKey.PublicKey().Marshal()) {
		t.Fatalf("host key of %s not recorded", addr)
	}
	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("second login to the same server: %v", err)
	}

	first.stop()
	startSSHServer(t, "impostor", addr, keys.Signer.PublicKey())
	start := time.Now()
	_, err := SSH(ctx, h, "hostname")
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("login to a server with another host key: err = %v, want a HostKeyChangedError", err)
	}
	if changed.Address != addr {
		t.Errorf("HostKeyChangedError.Address = %q, want %q", changed.Address, addr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a changed host key was retried for %s", took)
	}
}

// Servers that offer RSA and ed25519 get asked for ed25519, as OpenSSH does (dropbear's -R crashes on RSA).
func TestSSHPrefersEd25519HostKey(t *testing.T) {
	keys := newKeys(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edSigner, err := ssh.NewSignerFromKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSSHServerWithKeys(t, "both", "127.0.0.1:0", keys.Signer.PublicKey(), rsaSigner, edSigner)
	h := localHost(srv, keys)
	h.HostKeys = NewHostKeys()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	if _, err := SSH(ctx, h, "hostname"); err != nil {
		t.Fatalf("SSH: %v", err)
	}
	got, ok := h.HostKeys.Get(srv.ln.Addr().String())
	if !ok || got.Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("negotiated host key %v, want %s", got, ssh.KeyAlgoED25519)
	}
}

func TestDialRunsSeveralCommands(t *testing.T) {
	keys := newKeys(t)
	srv := startSSHServer(t, "target", "127.0.0.1:0", keys.Signer.PublicKey())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	client, err := Dial(ctx, localHost(srv, keys))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer client.Close()
	for _, word := range []string{"one", "two"} {
		out, err := run(client, "echo "+word)
		if err != nil || out != word+"\n" {
			t.Fatalf("echo %s: out %q, err %v", word, out, err)
		}
	}
}

func TestSSHRejectsIncompleteHost(t *testing.T) {
	keys := newKeys(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cases := map[string]struct {
		host Host
		want string
	}{
		"no address": {Host{User: "root", Signer: keys.Signer}, "no address"},
		"no user":    {Host{Address: "127.0.0.1", Signer: keys.Signer}, "has no user"},
		"no key":     {Host{Address: "127.0.0.1", User: "root"}, "no key"},
		"bad pem":    {Host{Address: "127.0.0.1", User: "root", PrivateKey: []byte("nope")}, "parse private key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := SSH(ctx, tc.host, "hostname")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("a bad host was retried for %s", took)
			}
		})
	}
}
