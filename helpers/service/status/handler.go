package status

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

//go:embed assets/*.html assets/style.css
var assets embed.FS

// Options configure the status page. The zero value works.
type Options struct {
	// Auth wraps every page (the service's authentication); nil: none.
	Auth func(http.Handler) http.Handler
	// Strip is how many runs the strip of each cloud and family shows (default 20).
	Strip int
	// Clouds and Families, when set, are shown even before they have a run;
	// the page also shows every cloud and family among the latest runs.
	Clouds, Families []string
	// Refresh reloads the overview in the browser every so often, without
	// JavaScript (meta refresh); default 60 s, negative: never.
	Refresh time.Duration
	// Now is the clock for relative times (default time.Now).
	Now func() time.Time
	// Log receives errors reading the history (default slog.Default()).
	Log *slog.Logger
}

// Defaults.
const (
	DefaultStrip   = 20
	DefaultRefresh = 60 * time.Second
	// scanRuns is how many of the latest runs the overview reads to find the
	// clouds and families that ran.
	scanRuns = store.MaxLimit
)

var handlePattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// page is the status page's handler.
type page struct {
	st       store.Store
	o        Options
	overview *template.Template
	detail   *template.Template
	problem  *template.Template
}

// Handler serves the status page from st: "/" the overview, "/runs/{handle}"
// one run, "/style.css" its stylesheet. Links are relative, so the handler
// may be mounted under a prefix (with http.StripPrefix).
func Handler(st store.Store, o Options) http.Handler {
	if o.Strip <= 0 {
		o.Strip = DefaultStrip
	}
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	p := &page{st: st, o: o,
		overview: parse("overview.html"),
		detail:   parse("detail.html"),
		problem:  parse("problem.html"),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.serveOverview)
	mux.HandleFunc("GET /runs/{handle}", p.serveRun)
	mux.HandleFunc("GET /style.css", serveCSS)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			p.fail(w, r, http.StatusMethodNotAllowed, "Read only", fmt.Sprintf("The status page only reads: %s is not allowed.", r.Method))
			return
		}
		p.fail(w, r, http.StatusNotFound, "No such page", fmt.Sprintf("%s is not a page of the status page.", r.URL.Path))
	})
	var h http.Handler = headers(mux)
	if o.Auth != nil {
		h = o.Auth(h)
	}
	return h
}

func parse(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/parts.html", "assets/"+name))
}

// headers: no script, no framing, no sniffing; the page never runs code.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func serveCSS(w http.ResponseWriter, _ *http.Request) {
	css, _ := assets.ReadFile("assets/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(css)
}

func (p *page) serveOverview(w http.ResponseWriter, r *http.Request) {
	v, err := p.buildOverview(r.Context())
	if err != nil {
		p.o.Log.Error("status page: read the history", "err", err)
		p.fail(w, r, http.StatusInternalServerError, "History unavailable", err.Error())
		return
	}
	p.render(w, r, p.overview, http.StatusOK, v)
}

func (p *page) serveRun(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("handle")
	if !handlePattern.MatchString(h) {
		p.fail(w, r, http.StatusNotFound, "No such run", fmt.Sprintf("%q is not a run handle (16 hex digits).", h))
		return
	}
	run, err := p.st.Get(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, "No such run", fmt.Sprintf("The history has no run %s (it may have been pruned).", h))
		return
	}
	if err != nil {
		p.o.Log.Error("status page: read a run", "handle", h, "err", err)
		p.fail(w, r, http.StatusInternalServerError, "History unavailable", err.Error())
		return
	}
	p.render(w, r, p.detail, http.StatusOK, p.buildDetail(run))
}

// problemView is an error page.
type problemView struct {
	Title, Message string
	Base           string
}

func (p *page) fail(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	p.render(w, r, p.problem, code, problemView{Title: title, Message: msg, Base: baseOf(r)})
}

// render executes into a buffer first, so a template error is a clean 500.
func (p *page) render(w http.ResponseWriter, r *http.Request, t *template.Template, code int, v any) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		p.o.Log.Error("status page: render", "path", r.URL.Path, "err", err)
		http.Error(w, "status page: render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// baseOf is the relative way back to the page's root: "" at "/", "../" at /runs/H.
func baseOf(r *http.Request) string {
	return strings.Repeat("../", max(strings.Count(r.URL.Path, "/")-1, 0))
}
