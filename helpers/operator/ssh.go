package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSH runs commands on a remote host over one ssh connection.
type SSH struct {
	Host   string // name used in errors
	client *ssh.Client
}

// SSHClientConfig builds the ssh client configuration of cfg: public key
// authentication with KeyFile, host keys checked against KnownHosts (unless
// InsecureIgnoreHostKey).
func SSHClientConfig(cfg SSHConfig) (*ssh.ClientConfig, error) {
	if cfg.KeyFile == "" {
		return nil, errors.New("ssh.key_file is not set in the service map: give the private key cloudpulse logs in with")
	}
	pem, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("ssh.key_file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("ssh.key_file %s: %w (a passphrase-protected key is not supported)", cfg.KeyFile, err)
	}
	hostKey := ssh.InsecureIgnoreHostKey() //nolint:gosec // only when the operator says so, below
	if !cfg.InsecureIgnoreHostKey {
		hostKey, err = knownhosts.New(cfg.KnownHosts)
		if err != nil {
			return nil, fmt.Errorf("ssh.known_hosts: %w (add the hosts' keys with ssh-keyscan, or set insecure_ignore_host_key)", err)
		}
	}
	return &ssh.ClientConfig{
		User:            cfg.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKey,
	}, nil
}

// DialSSH connects to address (host:port) as config says. The TCP connect
// and the ssh handshake both end when ctx does.
func DialSSH(ctx context.Context, name, address string, config *ssh.ClientConfig) (*SSH, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s (%s): %w", config.User, name, address, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	c, chans, reqs, err := ssh.NewClientConn(conn, address, config)
	if !stop() || err != nil {
		conn.Close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("handshake: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("ssh %s@%s (%s): %w", config.User, name, address, err)
	}
	return &SSH{Host: name, client: ssh.NewClient(c, chans, reqs)}, nil
}

// Run runs command on the remote host (through the login shell, as ssh does).
func (s *SSH) Run(ctx context.Context, command string, stdin io.Reader) ([]byte, error) {
	sess, err := s.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%s: open ssh session: %w", s.Host, err)
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = stdin, &stdout, &stderr
	if err := sess.Start(command); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", s.Host, command, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		// the session's copy goroutines may still write: leave the buffers alone
		return nil, fmt.Errorf("%s: %s: %w", s.Host, command, ctx.Err())
	}
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return stdout.Bytes(), &CommandError{Host: s.Host, Command: command, ExitCode: ee.ExitStatus(), Stderr: tail(stderr.String())}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return stdout.Bytes(), &CommandError{Host: s.Host, Command: command, ExitCode: -1, Stderr: tail(stderr.String())}
	}
	return stdout.Bytes(), fmt.Errorf("%s: %s: %w", s.Host, command, err)
}

// DialContext connects from the remote host through the ssh connection
// (direct-tcpip, or direct-streamlocal for "unix" sockets).
func (s *SSH) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := s.client.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("%s: connect to %s %s over ssh: %w", s.Host, network, address, err)
	}
	return conn, nil
}

// alive sends an ssh keepalive and reports whether the server answered.
func (s *SSH) alive() bool {
	_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
	return err == nil
}

// Close closes the ssh connection.
func (s *SSH) Close() error { return s.client.Close() }

func sshAddress(address string, port int) string {
	return net.JoinHostPort(address, strconv.Itoa(port))
}
