package endpoint

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// maxBody is how much of an error response body an error message keeps.
const maxBody = 200

// httpError gives gophercloud's ErrUnexpectedResponseCode a message on one
// line with the body cut short (a proxy's 503 page can be kilobytes of HTML),
// and still unwraps to it for errors.As and gophercloud.ResponseCodeIs.
type httpError struct {
	gophercloud.ErrUnexpectedResponseCode
}

func (e httpError) Error() string {
	body := strings.Join(strings.Fields(string(e.Body)), " ")
	if len(body) > maxBody {
		body = body[:maxBody] + "..."
	}
	msg := fmt.Sprintf("%s %s: got HTTP %d", e.Method, e.URL, e.Actual)
	if body != "" {
		msg += ": " + body
	}
	return msg
}

func (e httpError) Unwrap() error { return e.ErrUnexpectedResponseCode }

// describe shortens HTTP status errors; other errors are returned as they are.
func describe(err error) error {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return httpError{e}
	}
	return err
}

// clientError explains why a service client could not be made. gophercloud
// v2.15 GETs the version document of unversioned catalog endpoints (glance,
// neutron, placement) while making the client, so a service that is down
// usually fails here rather than at the first call.
func clientError(service string, err error) error {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return fmt.Errorf("%s: version discovery: %w", service, httpError{e})
	}
	return fmt.Errorf("%s: %w", service, err)
}

// failOrSkip wraps err as "<what>: <err>", or, when the API answered 403,
// returns a check.Skip saying the call needs admin rights.
func failOrSkip(what string, err error) error {
	if gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		return check.Skipf("%s needs admin rights (HTTP 403 for these credentials)", what)
	}
	return fmt.Errorf("%s: %w", what, describe(err))
}
