package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/cloudpulse/cloudpulse/helpers/check"
)

// maxPage bounds how much of a Horizon page is read.
const maxPage = 4 << 20

// HorizonOption changes how Horizon logs in.
type HorizonOption func(*horizonLogin)

// WithHTTPClient makes Horizon use client's transport, timeout and redirect
// policy (for a CA bundle, say). Horizon still gives every run its own cookie
// jar.
func WithHTTPClient(client *http.Client) HorizonOption {
	return func(h *horizonLogin) { h.client = *client }
}

// WithRegion selects the login form's region by its label or value, for
// dashboards that offer more than one; the default is the form's selection.
func WithRegion(region string) HorizonOption {
	return func(h *horizonLogin) { h.region = region }
}

type horizonLogin struct {
	base                   *url.URL
	baseErr                error
	user, password, domain string
	region                 string
	client                 http.Client
}

// Horizon logs in to the dashboard at baseURL (for example
// http://127.0.0.1/horizon) like a browser: it GETs auth/login/, keeps the
// csrftoken cookie and the form's hidden fields (csrfmiddlewaretoken, region,
// next), POSTs username, password and domain (when the form has a domain
// field), follows the redirects with a cookie jar, then GETs project/ and
// requires the logged-in page (one with a sign-out link). A refused login
// fails with the message Horizon showed.
func Horizon(baseURL, user, password, domain string, opts ...HorizonOption) check.Check {
	h := &horizonLogin{user: user, password: password, domain: domain}
	h.base, h.baseErr = url.Parse(strings.TrimRight(baseURL, "/") + "/")
	if h.baseErr == nil && (h.base.Scheme != "http" && h.base.Scheme != "https" || h.base.Host == "") {
		h.baseErr = fmt.Errorf("want http(s)://host[:port]/path")
	}
	for _, o := range opts {
		o(h)
	}
	return check.Check{Name: "horizon", Run: h.run}
}

func (h *horizonLogin) run(ctx context.Context) error {
	if h.baseErr != nil {
		return fmt.Errorf("horizon: dashboard URL: %w", h.baseErr)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return fmt.Errorf("horizon: cookie jar: %w", err)
	}
	client := h.client
	client.Jar = jar
	loginURL := h.base.ResolveReference(&url.URL{Path: "auth/login/"})

	// 1. The login page: csrftoken cookie + the form.
	page, final, err := h.get(ctx, &client, loginURL)
	if err != nil {
		return fmt.Errorf("horizon: open login page: %w", err)
	}
	form, err := findLoginForm(page)
	if err != nil {
		return fmt.Errorf("horizon: login page %s: %w", final, err)
	}
	if !hasCookie(jar, final, "csrftoken") {
		return fmt.Errorf("horizon: login page %s set no csrftoken cookie: is this a Horizon (Django) dashboard?", final)
	}

	// 2. Post the form like a browser.
	values := form.values
	values.Set("username", h.user)
	values.Set("password", h.password)
	if h.domain != "" {
		values.Set("domain", h.domain)
	}
	if h.region != "" {
		v, ok := form.regions[h.region]
		if !ok {
			return fmt.Errorf("horizon: region %q is not offered by the login form (offered: %s)", h.region, strings.Join(form.regionLabels, ", "))
		}
		values.Set("region", v)
	}
	action := final
	if form.action != "" {
		a, err := final.Parse(form.action)
		if err != nil {
			return fmt.Errorf("horizon: login form action %q: %w", form.action, err)
		}
		action = a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return fmt.Errorf("horizon: build login request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", final.String()) // Django's CSRF check requires it over https
	page, after, err := h.do(&client, req)
	if err != nil {
		return fmt.Errorf("horizon: log in as %q: %w", h.user, err)
	}
	if f, ferr := findLoginForm(page); ferr == nil && f != nil {
		msg := loginError(page)
		if msg == "" {
			msg = fmt.Sprintf("the login page came back (landed on %s)", after)
		}
		return fmt.Errorf("horizon: log in as %q at %s refused: %s", h.user, action, msg)
	}
	if !hasCookie(jar, after, "sessionid") {
		return fmt.Errorf("horizon: log in as %q: no sessionid cookie after login (landed on %s)", h.user, after)
	}

	// 3. The project overview must be the logged-in page.
	overview := h.base.ResolveReference(&url.URL{Path: "project/"})
	page, final, err = h.get(ctx, &client, overview)
	if err != nil {
		return fmt.Errorf("horizon: open project overview after login: %w", err)
	}
	if f, ferr := findLoginForm(page); ferr == nil && f != nil {
		return fmt.Errorf("horizon: %s sent the logged-in user %q back to the login page (%s): session not kept", overview, h.user, final)
	}
	if !strings.Contains(string(page), "auth/logout") {
		return fmt.Errorf("horizon: %s (landed on %s) is not a logged-in page: no sign-out link", overview, final)
	}
	return nil
}

func (h *horizonLogin) get(ctx context.Context, client *http.Client, u *url.URL) ([]byte, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	return h.do(client, req)
}

// do sends req (following redirects) and returns the final page and URL; a
// final status other than 200 is an error naming the URL.
func (h *horizonLogin) do(client *http.Client, req *http.Request) ([]byte, *url.URL, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read body: %w", req.Method, resp.Request.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s %s: got HTTP %d, expected 200", resp.Request.Method, resp.Request.URL, resp.StatusCode)
	}
	return body, resp.Request.URL, nil
}

func hasCookie(jar http.CookieJar, u *url.URL, name string) bool {
	for _, c := range jar.Cookies(u) {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}

// loginForm is what a browser would send from Horizon's login form.
type loginForm struct {
	action       string
	values       url.Values        // every named field with its default value
	regions      map[string]string // region label and value -> value
	regionLabels []string
}

var errNoLoginForm = errors.New("no login form (a form with a password field and a csrfmiddlewaretoken) on the page")

// findLoginForm returns the form holding a password input, with the defaults
// a browser would submit: inputs' values (checkboxes only when checked), and
// each select's selected (or first) option.
func findLoginForm(page []byte) (*loginForm, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	var found *loginForm
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			if f := readForm(n); f.values.Has("password") && f.values.Has("csrfmiddlewaretoken") {
				found = f
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		return nil, errNoLoginForm
	}
	return found, nil
}

func readForm(form *html.Node) *loginForm {
	f := &loginForm{action: attr(form, "action"), values: url.Values{}, regions: map[string]string{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name := attr(n, "name")
			switch {
			case n.Data == "input" && name != "":
				switch strings.ToLower(attr(n, "type")) {
				case "checkbox", "radio":
					if hasAttr(n, "checked") {
						f.values.Add(name, attrOr(n, "value", "on"))
					}
				case "submit", "button", "image", "reset":
				default:
					f.values.Set(name, attr(n, "value"))
				}
			case n.Data == "select" && name != "":
				first, selected := "", ""
				for o := range n.Descendants() {
					if o.Type != html.ElementNode || o.Data != "option" {
						continue
					}
					label := strings.TrimSpace(text(o))
					v := attrOr(o, "value", label)
					if first == "" {
						first = v
					}
					if hasAttr(o, "selected") && selected == "" {
						selected = v
					}
					if name == "region" {
						f.regions[label], f.regions[v] = v, v
						f.regionLabels = append(f.regionLabels, label)
					}
				}
				if selected == "" {
					selected = first
				}
				f.values.Set(name, selected)
				return
			}
			if n.Data == "input" && name == "region" {
				v := attr(n, "value")
				f.regions[v] = v
				f.regionLabels = append(f.regionLabels, v)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return f
}

// loginError returns the text of the alert Horizon shows on a refused login
// ("Invalid credentials."), or "".
func loginError(page []byte) string {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return ""
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		class := " " + attr(n, "class") + " "
		if strings.Contains(class, " alert-danger ") || strings.Contains(class, " alert-error ") || strings.Contains(class, " errorlist ") {
			if t := strings.Join(strings.Fields(text(n)), " "); t != "" {
				return t
			}
		}
	}
	return ""
}

func attr(n *html.Node, key string) string { return attrOr(n, key, "") }

func attrOr(n *html.Node, key, def string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return def
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
