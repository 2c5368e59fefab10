package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// validate checks what involves several settings or the file system, after
// the file has been applied over the defaults.
func (l *loader) validate() error {
	c := l.cfg
	if len(c.Clouds) == 0 {
		return l.errAt(l.line("clouds"), "list clouds.yaml names, like clouds: [mycloud]", "no clouds configured")
	}
	loopback, err := l.loopback()
	if err != nil {
		return err
	}
	switch {
	case c.TokenFile != "" && c.InsecureNoToken:
		return l.errAt(l.line("insecure_no_token"), "remove one of them", "insecure_no_token: true and token_file are both set")
	case c.TokenFile == "" && !loopback:
		return l.errAt(l.line("listen"), "or listen on 127.0.0.1", "listen %s is not loopback: set token_file", c.Listen)
	case c.TokenFile == "" && !c.InsecureNoToken:
		return l.errAt(l.line("token_file"), "set token_file, or insecure_no_token: true to serve loopback without a token", "token_file is not set")
	case c.TokenFile != "":
		if err := l.tokenFile(); err != nil {
			return err
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		set, unset := "tls.cert", "tls.key"
		if c.TLS.Cert == "" {
			set, unset = unset, set
		}
		return l.errAt(l.line(set), "set both, or neither for plain HTTP", "%s is set but %s is not", set, unset)
	}
	for _, f := range []struct{ key, path string }{{"tls.cert", c.TLS.Cert}, {"tls.key", c.TLS.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return l.errAt(l.line(f.key), "give an existing PEM file", "%s %s: %s", f.key, f.path, pathError(err))
		}
	}
	if err := l.stateKeyFile(); err != nil {
		return err
	}
	if c.StateDir == "" && store.IsPostgresURL(c.History.Path) {
		c.StateDir = l.path("cloudpulse-state") // next to the configuration file
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(filepath.Dir(c.History.Path), "cloudpulse-state")
	}
	return nil
}

// loopback reports whether Listen is a loopback host:port.
func (l *loader) loopback() (bool, error) {
	listen := l.cfg.Listen
	fix := "write it like 127.0.0.1:8787"
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return false, l.errAt(l.line("listen"), fix, "listen %q is not host:port", listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return false, l.errAt(l.line("listen"), fix, "listen %q: port %q is not a number 0–65535", listen, port)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// tokenFile refuses a token file that is missing, empty or readable by others.
func (l *loader) tokenFile() error {
	f, line := l.cfg.TokenFile, l.line("token_file")
	fi, err := os.Stat(f)
	if err != nil {
		return l.errAt(line, fmt.Sprintf("write a random token to it: umask 077; openssl rand -hex 32 > %s", f), "token_file %s: %s", f, pathError(err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return l.errAt(line, "chmod 600 "+f, "token_file %s has mode %04o: readable by group or others", f, fi.Mode().Perm())
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return l.errAt(line, "make it readable by the service's user", "token_file %s: %s", f, pathError(err))
	}
	if strings.TrimSpace(string(b)) == "" {
		return l.errAt(line, "write a random token to it: openssl rand -hex 32 > "+f, "token_file %s is empty", f)
	}
	return nil
}

// fixStateKey says how to make the state key file.
func fixStateKey(f string) string {
	return "write one random secret and copy the same file to every instance: umask 077; openssl rand -hex 32 > " + f
}

// stateKeyFile: with a PostgreSQL history the runs' state is there, and
// state_key_file (the same on every instance) must be a private file of at
// least minStateKey characters; with SQLite it has no use and is refused.
func (l *loader) stateKeyFile() error {
	c := l.cfg
	pg := store.IsPostgresURL(c.History.Path)
	f, line := c.StateKeyFile, l.line("state_key_file")
	switch {
	case pg && f == "":
		return l.errAt(l.line("history.path"), "set state_key_file; "+fixStateKey("/etc/cloudpulse/state.key"), "history.path is PostgreSQL, so scenario state is kept there, and state_key_file is not set")
	case !pg && f != "":
		return l.errAt(line, "remove it, or put the history on postgres://", "state_key_file is set but the history is SQLite: runs keep their state in state_dir, each with a key of its own")
	case f == "":
		return nil
	}
	fi, err := os.Stat(f)
	if err != nil {
		return l.errAt(line, fixStateKey(f), "state_key_file %s: %s", f, pathError(err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return l.errAt(line, "chmod 600 "+f, "state_key_file %s has mode %04o: readable by group or others", f, fi.Mode().Perm())
	}
	if _, err := c.StateKey(); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return l.errAt(line, "make it readable by the service's user", "state_key_file %s: %s", f, pathError(err))
		}
		return l.errAt(line, fixStateKey(f), "state_key_file %s is too short: want %d characters or more", f, minStateKey)
	}
	return nil
}

// pathError is err without the path that the message already names.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
