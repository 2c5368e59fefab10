package probe

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestNewKeyPair(t *testing.T) {
	keys, err := NewKeyPair("cloudpulse-run-1")
	if err != nil {
		t.Fatal(err)
	}
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(keys.AuthorizedKey))
	if err != nil {
		t.Fatalf("AuthorizedKey %q does not parse: %v", keys.AuthorizedKey, err)
	}
	if comment != "cloudpulse-run-1" || len(rest) != 0 || strings.Contains(keys.AuthorizedKey, "\n") {
		t.Fatalf("AuthorizedKey %q: comment %q, want one line ending in the comment", keys.AuthorizedKey, comment)
	}
	if pub.Type() != ssh.KeyAlgoED25519 || string(pub.Marshal()) != string(keys.Signer.PublicKey().Marshal()) {
		t.Fatal("AuthorizedKey is not the Signer's public key")
	}
	fromPEM, err := ssh.ParsePrivateKey(keys.PrivateKeyPEM)
	if err != nil {
		t.Fatalf("PrivateKeyPEM does not parse: %v", err)
	}
	if string(fromPEM.PublicKey().Marshal()) != string(pub.Marshal()) {
		t.Fatal("PrivateKeyPEM holds another key")
	}

	again, err := NewKeyPair("")
	if err != nil {
		t.Fatal(err)
	}
	if again.AuthorizedKey == keys.AuthorizedKey || strings.Count(again.AuthorizedKey, " ") != 1 {
		t.Fatalf("second key %q: want a new key and no comment", again.AuthorizedKey)
	}
}

func TestNewKeyPairRejectsMultilineComment(t *testing.T) {
	if _, err := NewKeyPair("a\nb"); err == nil {
		t.Fatal("accepted a comment with a newline")
	}
}
