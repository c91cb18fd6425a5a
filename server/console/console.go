// Package console is flowc's web console, served by `flowc serve` at
// /ui: server-rendered HTML (html/template), a style sheet and a few
// lines of JavaScript embedded in the binary, no build step.
//
// People sign in with the tokens they already have (the admin token, or
// a user's own flowc_u_… token) and get a session cookie (session.go).
// Every page says which role may see it (Page.Admin); the navigation is
// built from the same list, so a page a role may not open is neither
// linked nor served to it (403). Pages are added to pages() by the
// sessions that build them (numbers, the agents' workspace, the
// playground, queues and traces).
//
// The package does not import the server: it reads and acts through
// Backend, which server/console.go implements with the same functions
// the admin and agent APIs call (the admin API's rollback, requireAgent's
// token check), so there is one copy of each rule.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
)

// Base is where the console is mounted.
const Base = "/ui"

// Role is what a session may see.
type Role int

// Roles.
const (
	RoleAgent Role = 1 + iota // a directory user: their own workspace
	RoleAdmin                 // the admin token: everything
)

func (r Role) String() string {
	switch r {
	case RoleAgent:
		return "agent"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// Principal is who a session is.
type Principal struct {
	Role Role   `json:"role"`
	User string `json:"user"` // the directory user; "admin" for the admin
	// TokenDigest says which token signed in, so that each request
	// checks the token is still in force (revoked, rotated: the session
	// ends at once): an agent token's hex SHA-256 (as user_tokens keeps
	// it; those tokens are random), the admin token's salted scrypt
	// proof (it may be one a person chose; server/console.go).
	TokenDigest string `json:"token_digest"`
}

// Flow is one flow in the list.
type Flow struct {
	Name     string
	Active   string // active version, "" for a draft only
	Numbers  []string
	Deployed time.Time
	Draft    string // the draft's version, if any
}

// Version is one stored version of a flow.
type Version struct {
	Version    string
	Created    time.Time
	Active     bool
	Numbers    []string
	DeployedBy string // "" when unknown (saved before flowc kept it)
}

// Backend is what the console reads and does, implemented by the server.
type Backend interface {
	Now() time.Time
	// Authenticate checks a token; refusal says why it is not taken.
	// Without admin (the public listener) only agents' tokens are
	// checked: anything else is WrongToken at once, the admin token
	// included, so that neither the answer nor its time tells a guesser
	// whether a guess was the admin token.
	Authenticate(ctx context.Context, token string, admin bool) (p Principal, refusal string, err error)
	// StillValid reports why a signed-in principal's token no longer
	// counts ("" while it does).
	StillValid(ctx context.Context, p Principal) (refusal string, err error)
	// Setting, SetSetting, DeleteSetting and SettingsPrefixed keep the
	// sessions (store.ErrNotFound when unset).
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error
	SettingsPrefixed(ctx context.Context, prefix string) ([]Setting, error)
	Flows(ctx context.Context) ([]Flow, error)
	Versions(ctx context.Context, flow string) ([]Version, error) // newest first
	Program(ctx context.Context, version string) (*vm.Program, error)
	// Rollback is the admin API's rollback.
	Rollback(ctx context.Context, flow, version string) error
	// Diagnostics are `flowc check`'s for a stored version's source.
	Diagnostics(p *vm.Program) diag.List
	// Replay is `flowc deploy --diff` for a stored version: the last
	// days' first messages of its flow replayed through the active
	// version and through it.
	Replay(ctx context.Context, version string, days int) (*Replay, error)
	Workspace    // workspace.go
	AdminBackend // numbers.go: the numbers, playground, queues and traces pages
}

// Replay is what a version would have done differently with recent
// messages.
type Replay struct {
	Days      int
	Replayed  int
	Truncated bool // more messages than a replay takes: the oldest were left out
	Changed   []ReplayChange
}

// ReplayChange is one message the version routes differently.
type ReplayChange struct {
	SID, From, Body string
	Received        time.Time
	Active, New     string // what each version did, in words
}

// Options configure a Console.
type Options struct {
	// AdminLogin: admin sessions are taken here (false on a listener
	// that does not serve the admin API).
	AdminLogin bool
	// Secure marks the cookies Secure (the public URL is https).
	Secure bool
	Logger *slog.Logger
}

// Page is one page of the navigation.
type Page struct {
	Path  string // under Base, e.g. "/flows"
	Title string
	Admin bool // admins only; agents get 403
}

// Console serves /ui.
type Console struct {
	b      Backend
	logins loginLimiter
	opt    Options
	log    *slog.Logger
	tmpl   map[string]*template.Template
	router chi.Router
	graphs *renderer
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages is the navigation, in order: the page registry. A new page adds
// itself here and routes its handlers in New with c.page.
func pages() []Page {
	return []Page{
		{Path: "/home", Title: "Home"},
		{Path: "/flows", Title: "Flows", Admin: true},
		{Path: "/workspace", Title: "Workspace"},
		{Path: "/numbers", Title: "Numbers", Admin: true},       // numbers.go
		{Path: "/playground", Title: "Playground", Admin: true}, // playground.go
		{Path: "/queues", Title: "Queues", Admin: true},         // queues.go
		{Path: "/traces", Title: "Traces", Admin: true},         // queues.go
	}
}

// New returns the console over b.
func New(b Backend, opt Options) *Console {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	c := &Console{b: b, opt: opt, log: opt.Logger, tmpl: map[string]*template.Template{}, graphs: newRenderer()}
	funcs := template.FuncMap{
		"short": short,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"join": strings.Join,
	}
	adminFuncs(funcs) // numbers.go
	// templates/_*.html are partials every page may use.
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html"))
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		if n == "templates/layout.html" || strings.HasPrefix(n, "templates/_") {
			continue
		}
		c.tmpl[strings.TrimPrefix(n, "templates/")] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	root := chi.NewRouter()
	root.Use(securityHeaders)
	root.Route(Base, func(r chi.Router) {
		static, _ := fs.Sub(staticFS, "static")
		r.Handle("/static/*", http.StripPrefix(Base+"/static/", http.FileServer(http.FS(static))))
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Base+"/home", http.StatusSeeOther) })
		r.Get("/login", c.loginForm)
		r.Post("/login", c.login)
		r.Group(func(r chi.Router) {
			r.Use(c.requireSession)
			r.Post("/logout", c.logout)
			c.page(r, "/home", http.MethodGet, "", c.home)
			c.page(r, "/flows", http.MethodGet, "", c.flowsPage)                 // flows.go
			c.page(r, "/flows", http.MethodGet, "/{flow}", c.flowPage)           // flows.go
			c.page(r, "/flows", http.MethodGet, "/{flow}/diff", c.diffPage)      // flows.go
			c.page(r, "/flows", http.MethodPost, "/{flow}/rollback", c.rollback) // flows.go
			c.workspaceRoutes(r)                                                 // workspace.go
			c.adminPages(r)                                                      // numbers.go: numbers, playground, queues, traces
		})
	})
	root.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no such page.")
	})
	c.router = root
	return c
}

// page routes a handler under one of pages(): the page's role is
// enforced for every route under it.
func (c *Console) page(r chi.Router, page, method, sub string, h http.HandlerFunc) {
	var pg *Page
	for _, p := range pages() {
		if p.Path == page {
			pg = &p
		}
	}
	if pg == nil {
		panic("console: no page " + page + " in pages()")
	}
	r.Method(method, page+sub, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pg.Admin && session(r).Principal.Role != RoleAdmin {
			c.fail(w, r, http.StatusForbidden, "This page is for administrators; you are signed in as "+session(r).Principal.User+".")
			return
		}
		h(w, r)
	}))
}

// ServeHTTP serves the console's paths (under Base) however it is
// mounted: its router starts from the full path, not from where an outer
// chi router's Mount left off.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.router.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, (*chi.Context)(nil))))
}

// securityHeaders: a strict Content-Security-Policy (no inline script or
// style, nothing from elsewhere), no framing, no caching of pages that
// show a flow, no referrer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, Base+"/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     []Page
	Current string
	Session *Session
	Base    string
	Data    any
}

// render writes page name with data.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, name, title string, data any) {
	v := view{Title: title, Base: Base, Data: data, Current: r.URL.Path}
	if s := session(r); s != nil {
		v.Session = s
		for _, p := range pages() {
			if !p.Admin || s.Principal.Role == RoleAdmin {
				v.Nav = append(v.Nav, p)
			}
		}
	}
	var buf bytes.Buffer
	t := c.tmpl[name]
	if t == nil {
		panic("console: no template " + name)
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log.Error("console: render", "page", name, "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// fail renders an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	c.render(w, r, code, "error.html", http.StatusText(code), msg)
}

// storeFail is a failure to read or write the store.
func (c *Console) storeFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.log.Error("console", "path", r.URL.Path, "error", err.Error())
	c.fail(w, r, http.StatusServiceUnavailable, "The database is unavailable; try again.")
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "home.html", "Home", nil)
}

func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
