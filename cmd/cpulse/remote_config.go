package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
)

// globalFlags are the flags given before the command: the service to talk to.
type globalFlags struct {
	server    string
	tokenFile string
}

// parseGlobalFlags takes --server URL and --token-file FILE (also -server,
// --server=URL) off the front of args.
func parseGlobalFlags(args []string) ([]string, globalFlags, error) {
	var g globalFlags
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if !strings.HasPrefix(args[0], "-") || (name != "server" && name != "token-file") {
			break
		}
		if !hasValue {
			if len(args) < 2 || args[1] == "" {
				return nil, g, usagef("--%s needs a value", name)
			}
			value, args = args[1], args[1:]
		}
		args = args[1:]
		if value == "" {
			return nil, g, usagef("--%s needs a value", name)
		}
		if name == "server" {
			g.server = value
		} else {
			g.tokenFile = value
		}
	}
	return args, g, nil
}

// rcFile is ~/.cpulserc: the service the CLI talks to when no --server or
// $CPULSE_SERVER is given.
type rcFile struct {
	Server    string `yaml:"server"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	path      string
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// loadRC reads ~/.cpulserc; no file (or no home) gives an empty one. A file
// that others may read is refused: it may hold the token.
func loadRC() (rcFile, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return rcFile{}, nil
	}
	p := filepath.Join(home, ".cpulserc")
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return rcFile{}, nil
	}
	if err != nil {
		return rcFile{}, usagef("%v", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return rcFile{}, usagef("%s is open to others (mode %04o) and may hold the token: chmod 600 %s", p, st.Mode().Perm(), p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return rcFile{}, usagef("%v", err)
	}
	rc := rcFile{path: p}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rc); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = unknownField.ReplaceAllString(te.Errors[0], "unknown key $1")
		}
		return rcFile{}, usagef("%s: %s (want server: URL, and token: TOKEN or token_file: FILE)", p, msg)
	}
	if rc.Token != "" && rc.TokenFile != "" {
		return rcFile{}, usagef("%s: both token and token_file: keep one", p)
	}
	if rc.TokenFile != "" && !filepath.IsAbs(rc.TokenFile) {
		if strings.HasPrefix(rc.TokenFile, "~/") {
			rc.TokenFile = filepath.Join(home, rc.TokenFile[2:])
		} else {
			rc.TokenFile = filepath.Join(home, rc.TokenFile)
		}
	}
	return rc, nil
}

// remoteClient is the client of the service named by --server, else
// $CPULSE_SERVER, else ~/.cpulserc; nil when none is named (local mode).
// The token comes from --token-file, else $CPULSE_TOKEN, else ~/.cpulserc —
// the file's token only for the file's own server, so that it never goes to
// another one.
func remoteClient(g globalFlags) (*apiclient.Client, error) {
	rc, err := loadRC()
	if err != nil {
		return nil, err
	}
	server := g.server
	if server == "" {
		server = os.Getenv("CPULSE_SERVER")
	}
	if server == "" {
		server = rc.Server
	}
	if server == "" {
		if g.tokenFile != "" {
			return nil, usagef("--token-file without a server: give --server URL, set $CPULSE_SERVER, or put server: in ~/.cpulserc")
		}
		return nil, nil
	}
	var token string
	switch {
	case g.tokenFile != "":
		if token, err = readToken(g.tokenFile, "--token-file"); err != nil {
			return nil, err
		}
	case os.Getenv("CPULSE_TOKEN") != "":
		token = strings.TrimSpace(os.Getenv("CPULSE_TOKEN"))
	case rc.Server != "" && strings.TrimRight(rc.Server, "/") == strings.TrimRight(server, "/"):
		token = rc.Token
		if rc.TokenFile != "" {
			if token, err = readToken(rc.TokenFile, rc.path+": token_file"); err != nil {
				return nil, err
			}
		}
	}
	c, err := apiclient.New(server, token)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

// readToken reads a token file, which others may not read.
func readToken(path, what string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", usagef("%s: %v", what, err)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return "", usagef("%s: %s is readable by others (mode %04o): chmod 600 %s", what, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("%s: %v", what, err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", usagef("%s: %s is empty: put the service's token in it", what, path)
	}
	return token, nil
}
