package probe

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newHostKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// guestConsole is a console log as the cloudpulse test guest (fixtures/image/rootfs/init) prints it.
func guestConsole(keys ...ssh.PublicKey) string {
	var b strings.Builder
	b.WriteString("cloudpulse-guest [0.91s] hostname vm-0, 1 ssh key(s)\r\n-----BEGIN SSH HOST KEY KEYS-----\r\n")
	for _, k := range keys {
		b.WriteString(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " root@vm-0\r\n")
	}
	b.WriteString("-----END SSH HOST KEY KEYS-----\r\ncloudpulse-guest ready hostname=vm-0\r\n")
	return b.String()
}

func TestParseConsoleHostKeysGuest(t *testing.T) {
	k := newHostKey(t).PublicKey()
	p := ParseConsoleHostKeys(guestConsole(k))
	if len(p.Keys) != 1 || len(p.Fingerprints) != 0 || !p.Match(k) {
		t.Fatalf("parsed %+v from the guest's console, want its one key", p)
	}
	if got, want := p.String(), ssh.FingerprintSHA256(k); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if other := newHostKey(t).PublicKey(); p.Match(other) {
		t.Error("another key matches")
	}
}

// cloud-init logs through logger, so each line carries a syslog prefix; older images print MD5 fingerprints.
func TestParseConsoleHostKeysCloudInit(t *testing.T) {
	ed, ed2 := newHostKey(t).PublicKey(), newHostKey(t).PublicKey()
	console := "[   12.3] cloud-init[901]: Cloud-init v. 24.1 finished\n" +
		"<14>Jul  6 07:30:24 ec2: #############################################################\n" +
		"<14>Jul  6 07:30:24 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n" +
		"<14>Jul  6 07:30:24 ec2: 256 " + ssh.FingerprintSHA256(ed) + " root@vm (ED25519)\n" +
		"<14>Jul  6 07:30:24 ec2: 256 MD5:" + strings.ToUpper(ssh.FingerprintLegacyMD5(ed2)) + " root@vm (ED25519)\n" +
		"[   12.4] random: crng init done\n" +
		"<14>Jul  6 07:30:24 ec2: -----END SSH HOST KEY FINGERPRINTS-----\n"
	p := ParseConsoleHostKeys(console)
	want := []string{ssh.FingerprintSHA256(ed), "MD5:" + ssh.FingerprintLegacyMD5(ed2)}
	if strings.Join(p.Fingerprints, " ") != strings.Join(want, " ") {
		t.Fatalf("fingerprints %q, want %q", p.Fingerprints, want)
	}
	if !p.Match(ed) || !p.Match(ed2) {
		t.Error("a printed key does not match")
	}
}

func TestParseConsoleHostKeysLastCompleteBlock(t *testing.T) {
	old, cur, half := newHostKey(t).PublicKey(), newHostKey(t).PublicKey(), newHostKey(t).PublicKey()
	unfinished := "-----BEGIN SSH HOST KEY KEYS-----\n" + string(ssh.MarshalAuthorizedKey(half))
	p := ParseConsoleHostKeys(guestConsole(old) + guestConsole(cur) + unfinished)
	if !p.Match(cur) || p.Match(old) || p.Match(half) || len(p.Keys) != 1 {
		t.Fatalf("want only the key of the last complete block (%s), got %s", ssh.FingerprintSHA256(cur), p)
	}
	if p := ParseConsoleHostKeys(unfinished); !p.Empty() {
		t.Fatalf("a block still being printed gave %s", p)
	}
	if p := ParseConsoleHostKeys("Booting Linux...\nlogin:\n"); !p.Empty() {
		t.Fatalf("a console without keys gave %s", p)
	}
}
