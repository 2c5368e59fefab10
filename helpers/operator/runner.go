package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Runner runs commands on, and opens connections from, one host: this
// machine (Local) or a remote one over ssh (SSH).
type Runner interface {
	// Run runs command with sh -c, feeding it stdin (may be nil), and
	// returns its standard output. A non-zero exit is a *CommandError; the
	// output is returned with it (some tools print their report and exit
	// non-zero).
	Run(ctx context.Context, command string, stdin io.Reader) ([]byte, error)
	// DialContext connects from the host, e.g. to a unix socket on it.
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// CommandError is a command that ran and exited non-zero (or was killed).
type CommandError struct {
	Host     string
	Command  string
	ExitCode int    // -1 when killed by a signal or the context
	Stderr   string // last lines of standard error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %s: exit status %d", e.Host, e.Command, e.ExitCode)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// NotFound reports whether the shell could not find the command (exit 127).
func (e *CommandError) NotFound() bool { return e.ExitCode == 127 }

// IsCommandNotFound reports whether err is a CommandError with exit status 127.
func IsCommandNotFound(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) && ce.NotFound()
}

// Local runs commands on this machine.
//
// A command gets a minimal environment (CommandEnv), not the process's: the
// caller's OS_PASSWORD, tokens and service passwords stay out of every
// command, its children and anything they print (`env`, a crash dump, an
// error that quotes its environment). A command that needs more gets it in
// Env; a secret goes on standard input (see Galera).
type Local struct {
	// Name is used in errors; default "localhost".
	Name string
	// Env is added to the command's environment ("KEY=value").
	Env []string
}

// passEnv are the variables a command inherits from the process: where to
// find programs and files, and how to print text. Nothing that may hold a
// credential.
var passEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"}

// CommandEnv is the environment Local gives a command: PATH (a default when
// the process has none), HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, the LC_*
// locale variables, TZ, TMPDIR and TERM from the process, then extra.
func CommandEnv(extra ...string) []string {
	var env []string
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		} else if k == "PATH" {
			env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		}
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LC_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func (l Local) name() string {
	if l.Name == "" {
		return "localhost"
	}
	return l.Name
}

// Run runs command with sh -c on this machine.
func (l Local) Run(ctx context.Context, command string, stdin io.Reader) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	// Its own process group, killed whole when ctx ends: else a child of the
	// shell keeps stdout open and Run waits for it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Stdin = stdin
	cmd.Env = CommandEnv(l.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ce := &CommandError{Host: l.name(), Command: command, ExitCode: ee.ExitCode(), Stderr: tail(stderr.String())}
		if ctx.Err() != nil {
			return stdout.Bytes(), fmt.Errorf("%w (%w)", ce, ctx.Err())
		}
		return stdout.Bytes(), ce
	}
	return stdout.Bytes(), fmt.Errorf("%s: run %s: %w", l.name(), command, err)
}

// DialContext connects from this machine.
func (l Local) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// tail keeps the last few lines of a command's standard error, on one line.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	out := strings.Join(lines, " / ")
	if len(out) > 300 {
		out = "..." + out[len(out)-300:]
	}
	return out
}
