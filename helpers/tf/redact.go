package tf

import (
	"bytes"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Redacted replaces every secret in what the runners print or return.
const Redacted = "[REDACTED]"

// Secrets is the set of secret values a run knows (passwords, application
// credential secrets, tokens, the state passphrase). Its Redact, Writer and
// Error replace each of them with Redacted. The zero value and nil are empty
// sets; a Secrets is safe for concurrent use.
type Secrets struct {
	mu     sync.RWMutex
	values []string // longest first, so a secret containing another is replaced whole
}

// NewSecrets returns a set holding values (empty strings are ignored).
func NewSecrets(values ...string) *Secrets {
	s := &Secrets{}
	s.Add(values...)
	return s
}

// Add adds values; empty strings and values already known are ignored.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v == "" || slices.Contains(s.values, v) {
			continue
		}
		s.values = append(s.values, v)
	}
	sort.SliceStable(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// Merge adds every value of o.
func (s *Secrets) Merge(o *Secrets) {
	s.Add(o.Values()...)
}

// Values returns a copy of the known values, longest first.
func (s *Secrets) Values() []string {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.values...)
}

// Redact returns text with every known secret replaced by Redacted.
func (s *Secrets) Redact(text string) string {
	for _, v := range s.Values() {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	return text
}

// Error returns err with its message redacted (errors.Is/As still see err), or
// err itself when its message holds no secret.
func (s *Secrets) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := s.Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that redacts what it passes on to w. A secret split
// over several writes is still caught: the writer holds back the end of the
// text that could begin a secret until the next write or Flush. Call Flush
// when the stream ends.
func (s *Secrets) Writer(w io.Writer) *RedactingWriter {
	return &RedactingWriter{secrets: s, w: w}
}

// RedactingWriter is the writer returned by Secrets.Writer.
type RedactingWriter struct {
	mu      sync.Mutex
	secrets *Secrets
	w       io.Writer
	pending []byte
}

// Write redacts p (with what is pending from earlier writes) and writes all
// of it to the underlying writer but a tail that could start a secret.
func (r *RedactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, p...)
	values := r.secrets.Values()
	for _, v := range values {
		r.pending = bytes.ReplaceAll(r.pending, []byte(v), []byte(Redacted))
	}
	keep := heldBack(r.pending, values)
	out := r.pending[:len(r.pending)-keep]
	if len(out) > 0 {
		if _, err := r.w.Write(out); err != nil {
			return 0, err
		}
	}
	r.pending = append(r.pending[:0], r.pending[len(r.pending)-keep:]...)
	return len(p), nil
}

// Flush writes what is held back (it starts a secret but the stream ended
// before the secret did, so it is not one).
func (r *RedactingWriter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return nil
	}
	_, err := r.w.Write(r.pending)
	r.pending = r.pending[:0]
	return err
}

// heldBack is the length of the longest end of b that is a proper beginning
// of one of the secrets.
func heldBack(b []byte, secrets []string) int {
	keep := 0
	for _, v := range secrets {
		for n := min(len(v)-1, len(b)); n > keep; n-- {
			if bytes.HasSuffix(b, []byte(v[:n])) {
				keep = n
				break
			}
		}
	}
	return keep
}

// secretEnv are the variables that hold a secret by name: OpenStack's
// (openrc, clouds.yaml's env form), and the state passphrase.
var secretEnv = map[string]bool{
	"OS_PASSWORD":                      true,
	"OS_TOKEN":                         true,
	"OS_AUTH_TOKEN":                    true,
	"OS_APPLICATION_CREDENTIAL_SECRET": true,
	"OS_CLIENT_SECRET":                 true,
	"TF_ENCRYPTION":                    true,
	"PG_CONN_STR":                      true,
	"PGPASSWORD":                       true,
}

// IsSecretName reports whether a variable (environment or fixture) named
// name holds a secret: OS_PASSWORD and the other OpenStack secrets, and any
// name containing "password", "passwd", "secret" or "token", or ending in
// "_pass" (RABBIT_MON_PASS).
func IsSecretName(name string) bool {
	if secretEnv[name] {
		return true
	}
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "_pass") {
		return true
	}
	for _, w := range []string{"password", "passwd", "secret", "token"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// minGuessedSecret is the shortest value taken as a secret only because of
// its variable's name: SOME_TOKEN=1 must not redact every "1".
const minGuessedSecret = 8

// SecretsFromEnv returns the secrets among env (KEY → value) and this
// process's environment: the values of OpenStack's secret variables, and of
// any other variable IsSecretName finds, when at least 8 characters long.
func SecretsFromEnv(env map[string]string) *Secrets {
	s := NewSecrets()
	add := func(k, v string) {
		if secretEnv[k] || (IsSecretName(k) && len(v) >= minGuessedSecret) {
			s.Add(v)
		}
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			add(k, v)
		}
	}
	for k, v := range env {
		add(k, v)
	}
	return s
}
