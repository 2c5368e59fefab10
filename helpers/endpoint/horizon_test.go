package endpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// fakeHorizon mimics Horizon's Django login flow under /dashboard: the login
// page sets the csrftoken cookie and renders the form (hidden
// csrfmiddlewaretoken, region, next; domain, username, password; the fake
// autocomplete fields); the POST enforces CSRF (cookie, form token, Referer)
// and the credentials; success sets sessionid and redirects twice to the
// project overview, failure re-renders the form with Horizon's alert.
type fakeHorizon struct {
	srv            *httptest.Server
	regions        []string // >1 renders a <select>
	noCSRFCookie   bool
	forgetSessions bool
	loginStatus    int
	posted         url.Values
}

const (
	csrfCookie = "Zq3cookie"
	csrfForm   = "mAsKeDfOrMtOkEn"
)

func newFakeHorizon(t *testing.T) *fakeHorizon {
	t.Helper()
	h := &fakeHorizon{regions: []string{"http://127.0.0.1:5000/v3"}}
	mux := http.NewServeMux()
	mux.HandleFunc("/dashboard/auth/login/", h.login)
	mux.HandleFunc("/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dashboard/" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/dashboard/project/", http.StatusFound)
	})
	mux.HandleFunc("/dashboard/project/", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sessionid")
		if err != nil || c.Value != "s3ss10n" || h.forgetSessions {
			http.Redirect(w, r, "/dashboard/auth/login/?next=/dashboard/project/", http.StatusFound)
			return
		}
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Instance Overview - OpenStack Dashboard</title></head><body>
<ul class="dropdown-menu"><li><a href="/dashboard/settings/">Settings</a></li>
<li><a href="/dashboard/auth/logout/" target="_self"><span class="fa fa-sign-out"></span>Sign Out</a></li></ul>
<h1>Overview</h1><div class="quota-dynamic">Limit Summary</div></body></html>`)
	})
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *fakeHorizon) url() string { return h.srv.URL + "/dashboard" }

func (h *fakeHorizon) login(w http.ResponseWriter, r *http.Request) {
	if h.loginStatus != 0 {
		w.WriteHeader(h.loginStatus)
		fmt.Fprint(w, "<h1>Server Error (500)</h1>")
		return
	}
	switch r.Method {
	case http.MethodGet:
		if !h.noCSRFCookie {
			http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: csrfCookie, Path: "/", SameSite: http.SameSiteLaxMode})
		}
		h.renderForm(w, "")
	case http.MethodPost:
		c, err := r.Cookie("csrftoken")
		if err != nil || c.Value != csrfCookie || r.PostFormValue("csrfmiddlewaretoken") != csrfForm || r.Referer() == "" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p>")
			return
		}
		h.posted = r.PostForm
		if r.PostFormValue("username") != "demo" || r.PostFormValue("password") != "secret" || r.PostFormValue("domain") != "Default" {
			h.renderForm(w, "Invalid credentials.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s3ss10n", Path: "/", HttpOnly: true})
		http.Redirect(w, r, r.PostFormValue("next"), http.StatusFound)
	}
}

func (h *fakeHorizon) renderForm(w http.ResponseWriter, alert string) {
	region := fmt.Sprintf(`<input type="hidden" name="region" value="%s" id="id_region">`, h.regions[0])
	if len(h.regions) > 1 {
		var opts strings.Builder
		for i, r := range h.regions {
			fmt.Fprintf(&opts, `<option value="%s">Region%d</option>`, r, i+1)
		}
		region = `<select name="region" id="id_region">` + opts.String() + `</select>`
	}
	if alert != "" {
		alert = `<div class="alert alert-danger">
      <p>` + alert + `</p>
    </div>`
	}
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Login - OpenStack Dashboard</title></head><body>
<form id="" class="ng-pristine" ng-controller="hzLoginController" method="POST" action="/dashboard/auth/login/" autocomplete="off">
  <input type="hidden" name="csrfmiddlewaretoken" value="%s">
  <fieldset hz-login-finder>
    %s
    <input type="hidden" name="next" value="/dashboard/">
    <input type="text" name="fake_email" value="" style="display:none">
    <input type="password" name="fake_password" value="" style="display:none">
    %s
    <div class="form-group"><input type="text" name="domain" value="" autofocus="autofocus" class="form-control" required id="id_domain"></div>
    <div class="form-group"><input type="text" name="username" autofocus="autofocus" class="form-control" required id="id_username"></div>
    <div class="form-group"><input type="password" name="password" class="form-control" required id="id_password"></div>
  </fieldset>
  <button id="loginBtn" type="submit" class="btn btn-primary">Sign In</button>
</form></body></html>`, csrfForm, alert, region)
}

func TestHorizonLogsIn(t *testing.T) {
	h := newFakeHorizon(t)
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default"))
	require.Equal(t, check.Passed, res.Status(), res.Error)
	assert.Equal(t, "horizon", res.Name)
	assert.Equal(t, "http://127.0.0.1:5000/v3", h.posted.Get("region"))
	assert.Equal(t, "/dashboard/", h.posted.Get("next"))
	assert.Equal(t, "", h.posted.Get("fake_email"))
}

func TestHorizonRefusedLoginShowsHorizonsMessage(t *testing.T) {
	h := newFakeHorizon(t)
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url()+"/", "demo", "wrong", "Default"))
	assert.Equal(t, check.Failed, res.Status())
	assert.Equal(t, fmt.Sprintf(`horizon: log in as "demo" at %s/dashboard/auth/login/ refused: Invalid credentials.`, h.srv.URL), res.Error)
	assert.NotContains(t, res.Error, "wrong", "no password in errors")
}

func TestHorizonNoCSRFCookie(t *testing.T) {
	h := newFakeHorizon(t)
	h.noCSRFCookie = true
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default"))
	assert.Equal(t, fmt.Sprintf("horizon: login page %s/dashboard/auth/login/ set no csrftoken cookie: is this a Horizon (Django) dashboard?", h.srv.URL), res.Error)
}

func TestHorizonSessionNotKept(t *testing.T) {
	h := newFakeHorizon(t)
	h.forgetSessions = true
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default"))
	assert.Equal(t, check.Failed, res.Status())
	assert.Equal(t, fmt.Sprintf(`horizon: log in as "demo" at %[1]s/dashboard/auth/login/ refused: the login page came back (landed on %[1]s/dashboard/auth/login/?next=/dashboard/project/)`, h.srv.URL), res.Error)
}

func TestHorizonServerError(t *testing.T) {
	h := newFakeHorizon(t)
	h.loginStatus = 500
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default"))
	assert.Equal(t, fmt.Sprintf("horizon: open login page: GET %s/dashboard/auth/login/: got HTTP 500, expected 200", h.srv.URL), res.Error)
}

func TestHorizonNotADashboard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body>It works!</body></html>")
	}))
	defer srv.Close()
	res := check.Runner{}.RunOne(context.Background(), Horizon(srv.URL, "demo", "secret", "Default"))
	assert.Equal(t, fmt.Sprintf("horizon: login page %s/auth/login/: no login form (a form with a password field and a csrfmiddlewaretoken) on the page", srv.URL), res.Error)
}

func TestHorizonRegionSelect(t *testing.T) {
	h := newFakeHorizon(t)
	h.regions = []string{"http://one:5000/v3", "http://two:5000/v3"}

	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default"))
	require.Equal(t, check.Passed, res.Status(), res.Error)
	assert.Equal(t, "http://one:5000/v3", h.posted.Get("region"), "the form's default")

	res = check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default", WithRegion("Region2")))
	require.Equal(t, check.Passed, res.Status(), res.Error)
	assert.Equal(t, "http://two:5000/v3", h.posted.Get("region"))

	res = check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default", WithRegion("Region9")))
	assert.Equal(t, `horizon: region "Region9" is not offered by the login form (offered: Region1, Region2)`, res.Error)
}

func TestHorizonBadURL(t *testing.T) {
	res := check.Runner{}.RunOne(context.Background(), Horizon("127.0.0.1/horizon", "demo", "secret", "Default"))
	assert.Equal(t, "horizon: dashboard URL: want http(s)://host[:port]/path", res.Error)
}

func TestHorizonOwnClientKeepsItsTransport(t *testing.T) {
	h := newFakeHorizon(t)
	var seen int
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen++
		return http.DefaultTransport.RoundTrip(r)
	})}
	res := check.Runner{}.RunOne(context.Background(), Horizon(h.url(), "demo", "secret", "Default", WithHTTPClient(client)))
	require.Equal(t, check.Passed, res.Status(), res.Error)
	assert.Equal(t, 5, seen, "GET login, POST login, GET /, GET project (redirect), GET project")
	assert.Nil(t, client.Jar, "the caller's client is not modified")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
