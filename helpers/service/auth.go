package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// authorized: no token configured, a read the configuration opens, or the
// token (Options.Tokens: any of the token file's) as a bearer token or as the password of HTTP basic auth (any user),
// compared in constant time (of the hashes: the token's length leaks nothing).
func (s *Service) authorized(r *http.Request, open string) bool {
	if s.o.Token == "" && s.o.Tokens == nil {
		return true
	}
	if open != "" && (slices.Contains(s.o.OpenReads, open) || (open == "openapi" && slices.Contains(s.o.OpenReads, "api"))) {
		return true
	}
	var got string
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got = strings.TrimSpace(h[7:])
	} else if _, pw, ok := r.BasicAuth(); ok {
		got = pw
	} else {
		return false
	}
	if s.o.Tokens != nil {
		return s.o.Tokens.Match(got)
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.o.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// guard answers 401 unless the request is authorized.
func (s *Service) guard(open string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r, open) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cloudpulse", Basic realm="cloudpulse"`)
			writeError(w, http.StatusUnauthorized, "missing or bad token: send Authorization: Bearer TOKEN (or basic auth with the token as password)")
			return
		}
		h(w, r)
	}
}
