package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Host is an ssh server to log in to, directly or through Jump (like ssh -J).
type Host struct {
	Address    string     // IP address or name
	Port       int        // 0 means 22
	User       string     // login name, for example "root"
	Signer     ssh.Signer // private key to log in with (see NewKeyPair) ...
	PrivateKey []byte     // ... or, when Signer is nil, the private key in PEM form (unencrypted)
	Jump       *Host      // reach Address from this host; nil: connect directly
	HostKeys   *HostKeys  // checks and pins host keys across calls (see HostKeys); nil: accept any key
}

// String is user@address:port, followed by " via ..." for each jump host.
func (h Host) String() string {
	s := h.User + "@" + h.addr()
	if h.Jump != nil {
		s += " via " + h.Jump.String()
	}
	return s
}

func (h Host) addr() string {
	port := h.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(h.Address, strconv.Itoa(port))
}

// How often SSH tries again, and how long one connection attempt (TCP connect and handshake, not the command)
// may take before it is abandoned and retried. Both are bounded by the caller's ctx.
const (
	sshRetryEvery     = time.Second
	sshAttemptTimeout = 15 * time.Second
)

// SSH logs in to h, runs cmd and returns its standard output. It tries again on any connection or login
// failure (connection refused, timeouts, a host still booting, keys not installed yet) until ctx ends. A command
// that runs and exits non-zero is not retried: the error gives its exit status and standard error.
func SSH(ctx context.Context, h Host, cmd string) (string, error) {
	var stdout string
	err := WaitFor(ctx, sshRetryEvery, func(ctx context.Context) (bool, error) {
		client, err := dial(ctx, h)
		if err != nil {
			return false, err
		}
		defer client.Close()
		stdout, err = run(client, cmd)
		return err == nil, err
	})
	if err != nil {
		return stdout, fmt.Errorf("ssh %s: run %q: %w", h, cmd, err)
	}
	return stdout, nil
}

// Dial logs in to h, trying again like SSH until ctx ends, and returns the connection for several commands.
// The connection (and any jump connection under it) is closed when ctx ends or when the caller closes it.
func Dial(ctx context.Context, h Host) (*ssh.Client, error) {
	var client *ssh.Client
	err := WaitFor(ctx, sshRetryEvery, func(ctx context.Context) (bool, error) {
		var err error
		client, err = dial(ctx, h)
		return err == nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("ssh %s: connect: %w", h, err)
	}
	return client, nil
}

// run runs one command on a new session. A non-zero exit is permanent; a broken session is not.
func run(client *ssh.Client, cmd string) (string, error) {
	session, err := client.NewSession()
	if err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	defer session.Close()
	var stdout, stderr bytes.Buffer
	session.Stdout, session.Stderr = &stdout, &stderr
	err = session.Run(cmd)
	if exit, ok := errors.AsType[*ssh.ExitError](err); ok {
		return stdout.String(), Permanent(fmt.Errorf("exit status %d, stderr: %q: %w",
			exit.ExitStatus(), strings.TrimSpace(stderr.String()), err))
	}
	if err != nil {
		return stdout.String(), fmt.Errorf("run: %w", err)
	}
	return stdout.String(), nil
}

// dial makes one attempt to log in to h (through its jump hosts). The returned client is closed when ctx ends.
func dial(ctx context.Context, h Host) (*ssh.Client, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, sshAttemptTimeout)
	defer cancel()
	config, err := h.clientConfig(attemptCtx)
	if err != nil {
		return nil, Permanent(err)
	}

	var jump *ssh.Client
	var conn net.Conn
	if h.Jump != nil {
		jump, err = dial(ctx, *h.Jump)
		if err != nil {
			return nil, fmt.Errorf("jump host %s: %w", h.Jump.User+"@"+h.Jump.addr(), err)
		}
		conn, err = jump.DialContext(attemptCtx, "tcp", h.addr())
		if err != nil {
			jump.Close()
			return nil, fmt.Errorf("connect to %s from jump host %s: %w", h.addr(), h.Jump.addr(), err)
		}
	} else {
		var d net.Dialer
		conn, err = d.DialContext(attemptCtx, "tcp", h.addr())
		if err != nil {
			return nil, err
		}
	}

	// The handshake has no context of its own: closing the connection is how it is abandoned.
	stopAbort := context.AfterFunc(attemptCtx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, h.addr(), config)
	aborted := !stopAbort()
	if err != nil || aborted {
		conn.Close()
		if jump != nil {
			jump.Close()
		}
		if aborted {
			return nil, fmt.Errorf("handshake with %s abandoned: %w", h.addr(), context.Cause(attemptCtx))
		}
		if _, ok := errors.AsType[*HostKeyChangedError](err); ok {
			return nil, Permanent(err)
		}
		if _, ok := errors.AsType[*HostKeyMismatchError](err); ok {
			return nil, Permanent(err)
		}
		return nil, err
	}
	client := ssh.NewClient(c, chans, reqs)

	stopClose := context.AfterFunc(ctx, func() { client.Close() })
	go func() {
		_ = client.Wait()
		stopClose()
		if jump != nil {
			jump.Close()
		}
	}()
	return client, nil
}

// clientConfig is the login configuration of one attempt; ctx bounds the host key check's console lookup.
func (h Host) clientConfig(ctx context.Context) (*ssh.ClientConfig, error) {
	if h.Address == "" {
		return nil, errors.New("host has no address")
	}
	if h.User == "" {
		return nil, fmt.Errorf("host %s has no user", h.addr())
	}
	signer := h.Signer
	if signer == nil {
		if len(h.PrivateKey) == 0 {
			return nil, fmt.Errorf("host %s: no key: set Host.Signer or Host.PrivateKey", h.addr())
		}
		var err error
		signer, err = ssh.ParsePrivateKey(h.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("host %s: parse private key: %w", h.addr(), err)
		}
	}
	hostKeyCallback := ssh.InsecureIgnoreHostKey() // servers under test are new: see HostKeys and the package doc
	if h.HostKeys != nil {
		hostKeyCallback = h.HostKeys.Callback(ctx)
	}
	return &ssh.ClientConfig{
		User:              h.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   hostKeyCallback,
		HostKeyAlgorithms: hostKeyAlgorithms,
	}, nil
}

// hostKeyAlgorithms is OpenSSH's order: ed25519 first. Go's default asks for RSA first, and dropbear 2022.83 as
// Debian builds it (the test guest's sshd, started with -R) offers rsa-sha2-256 before it has an RSA key and
// then dies on an assertion, which the client sees as "handshake failed: EOF".
var hostKeyAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
	ssh.KeyAlgoRSA, // SHA-1 signatures: only for old servers that offer nothing else
}
