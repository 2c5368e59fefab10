package operator

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// testSSHServer is a real ssh server on 127.0.0.1:0 (x/crypto/ssh server
// side): public-key auth against one authorized key, "exec" sessions run with
// sh -c on this machine (stdin, stdout, stderr, exit status), and
// direct-streamlocal channels to unix sockets — what the SSH runner uses of
// OpenSSH's sshd.
type testSSHServer struct {
	addr       string
	port       int
	keyFile    string // the authorized client key
	otherKey   string // a key the server refuses
	knownHosts string // has the server's host key
	wrongHosts string // has another key for the same address
	ln         net.Listener
	wg         sync.WaitGroup
}

func writeKey(t *testing.T, dir, name string, priv ed25519.PrivateKey) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	return path
}

func newTestSSHServer(t *testing.T) *testSSHServer {
	t.Helper()
	dir := t.TempDir()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	require.NoError(t, err)
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, wrongHostPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	wrongHostSigner, err := ssh.NewSignerFromKey(wrongHostPriv)
	require.NoError(t, err)
	authorized, err := ssh.NewPublicKey(clientPub)
	require.NoError(t, err)

	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if c.User() == "cloudpulse" && string(k.Marshal()) == string(authorized.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("key not authorized")
	}}
	cfg.AddHostKey(hostSigner)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &testSSHServer{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, ln: ln}
	s.keyFile = writeKey(t, dir, "id_ed25519", clientPriv)
	s.otherKey = writeKey(t, dir, "other_ed25519", otherPriv)
	s.knownHosts = filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(s.knownHosts, []byte(knownhosts.Line([]string{s.addr}, hostSigner.PublicKey())+"\n"), 0o600))
	s.wrongHosts = filepath.Join(dir, "wrong_known_hosts")
	require.NoError(t, os.WriteFile(s.wrongHosts, []byte(knownhosts.Line([]string{s.addr}, wrongHostSigner.PublicKey())+"\n"), 0o600))

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn, cfg)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *testSSHServer) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		conn.Close()
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go serveSession(ch, creqs)
		case "direct-streamlocal@openssh.com":
			var p struct {
				SocketPath string
				Reserved0  string
				Reserved1  uint32
			}
			if err := ssh.Unmarshal(nc.ExtraData(), &p); err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			uc, err := net.Dial("unix", p.SocketPath)
			if err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				uc.Close()
				continue
			}
			go ssh.DiscardRequests(creqs)
			go func() { io.Copy(ch, uc); ch.CloseWrite() }()
			go func() { io.Copy(uc, ch); uc.Close() }()
		default:
			nc.Reject(ssh.UnknownChannelType, "not supported")
		}
	}
}

func serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			ssh.Unmarshal(req.Payload, &p)
			req.Reply(true, nil)
			cmd := exec.Command("sh", "-c", p.Command)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			status := uint32(0)
			if err := cmd.Start(); err != nil {
				status = 127
			} else {
				go func() { // an ssh "signal" request kills the command
					for r := range reqs {
						if r.Type == "signal" {
							cmd.Process.Kill()
						}
						if r.WantReply {
							r.Reply(false, nil)
						}
					}
				}()
				if err := cmd.Wait(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						status = uint32(ee.ExitCode())
					} else {
						status = 255
					}
				}
			}
			b := make([]byte, 4)
			binary.BigEndian.PutUint32(b, status)
			ch.SendRequest("exit-status", false, b)
			return
		default:
			if req.WantReply {
				req.Reply(req.Type == "env", nil)
			}
		}
	}
}
