package probe

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshServer is a small in-process ssh server for tests. It accepts one client key and understands a few
// commands: "hostname" (prints its name), "echo ARGS", "fail" (stderr "boom", exit 3) and "sleep" (runs until the
// client goes away). It also forwards direct-tcpip channels, so it can be a jump host.
type sshServer struct {
	name     string
	ln       net.Listener
	hostKey  ssh.Signer
	forwards atomic.Int32
	wg       sync.WaitGroup
}

func (s *sshServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// startSSHServer listens on addr ("127.0.0.1:0" for any port) until the test ends, with a new ed25519 host key.
func startSSHServer(t *testing.T, name, addr string, clientKey ssh.PublicKey) *sshServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return startSSHServerWithKeys(t, name, addr, clientKey, hostKey)
}

// startSSHServerWithKeys is startSSHServer with the given host keys; the first is sshServer.hostKey.
func startSSHServerWithKeys(t *testing.T, name, addr string, clientKey ssh.PublicKey, hostKeys ...ssh.Signer) *sshServer {
	t.Helper()
	hostKey := hostKeys[0]
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sshServer{name: name, ln: ln, hostKey: hostKey}
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	for _, k := range hostKeys {
		config.AddHostKey(k)
	}
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
				s.serve(conn, config)
			}()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *sshServer) stop() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *sshServer) serve(conn net.Conn, config *ssh.ServerConfig) {
	defer conn.Close()
	sconn, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			wg.Add(1)
			go func() { defer wg.Done(); s.session(nc) }()
		case "direct-tcpip":
			wg.Add(1)
			go func() { defer wg.Done(); s.forward(nc) }()
		default:
			nc.Reject(ssh.UnknownChannelType, "unsupported")
		}
	}
}

func (s *sshServer) session(nc ssh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var exec struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &exec); err != nil {
			req.Reply(false, nil)
			return
		}
		req.Reply(true, nil)
		status := s.run(ch, reqs, exec.Command)
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

func (s *sshServer) run(ch ssh.Channel, reqs <-chan *ssh.Request, cmd string) uint32 {
	switch {
	case cmd == "hostname":
		io.WriteString(ch, s.name+"\n")
	case strings.HasPrefix(cmd, "echo "):
		io.WriteString(ch, strings.TrimPrefix(cmd, "echo ")+"\n")
	case cmd == "fail":
		io.WriteString(ch.Stderr(), "boom\n")
		return 3
	case cmd == "sleep":
		for range reqs { // until the client closes the channel
		}
	default:
		io.WriteString(ch.Stderr(), "unknown command\n")
		return 127
	}
	return 0
}

func (s *sshServer) forward(nc ssh.NewChannel) {
	var dest struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &dest); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad payload")
		return
	}
	target, err := net.DialTimeout("tcp", net.JoinHostPort(dest.Host, strconv.Itoa(int(dest.Port))), 5*time.Second)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	defer target.Close()
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	go ssh.DiscardRequests(reqs)
	s.forwards.Add(1)
	done := make(chan struct{}, 2)
	go func() { io.Copy(target, ch); target.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(ch, target); ch.CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

// freePort returns a local port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
