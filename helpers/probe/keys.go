package probe

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// KeyPair is an ssh key made for one run: the public half goes to the cloud (a keypair resource), the private
// half stays in memory and signs logins.
type KeyPair struct {
	// AuthorizedKey is the public key as one authorized_keys line, "ssh-ed25519 AAAA... comment", no newline.
	AuthorizedKey string
	// Signer logs in with the private key (Host.Signer).
	Signer ssh.Signer
	// PrivateKeyPEM is the private key in OpenSSH PEM form, to hand to ssh(1) when debugging. It is a secret:
	// never log it.
	PrivateKeyPEM []byte
}

// NewKeyPair generates an ed25519 key pair; comment ends the authorized_keys line (empty: none).
func NewKeyPair(comment string) (KeyPair, error) {
	if strings.ContainsAny(comment, "\r\n") {
		return KeyPair{}, fmt.Errorf("generate ssh key: comment %q must be one line", comment)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate ed25519 key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return KeyPair{}, fmt.Errorf("make ssh signer: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return KeyPair{}, fmt.Errorf("make ssh public key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return KeyPair{}, fmt.Errorf("encode ssh private key: %w", err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if comment != "" {
		line += " " + comment
	}
	return KeyPair{AuthorizedKey: line, Signer: signer, PrivateKeyPEM: pem.EncodeToMemory(block)}, nil
}
