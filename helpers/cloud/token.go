package cloud

import (
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// ExtractToken is r.ExtractToken, tolerant of an expires_at with no time zone:
// Keystone (Zed) writes the expiry of a token issued for an application
// credential that expires as the credential's, in UTC without the "Z"
// ("2026-12-02T12:15:13.248327"), which gophercloud refuses to parse.
func ExtractToken(r tokens.GetResult) (*tokens.Token, error) {
	tok, err := r.ExtractToken()
	if err == nil {
		return tok, nil
	}
	var s struct {
		ExpiresAt string `json:"expires_at"`
	}
	if ierr := r.ExtractIntoStructPtr(&s, "token"); ierr != nil {
		return nil, err
	}
	at, perr := time.ParseInLocation("2006-01-02T15:04:05.999999999", s.ExpiresAt, time.UTC)
	if perr != nil {
		return nil, fmt.Errorf("%w (expires_at %q)", err, s.ExpiresAt)
	}
	return &tokens.Token{ID: r.Header.Get("X-Subject-Token"), ExpiresAt: at}, nil
}
