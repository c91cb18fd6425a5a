package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

const adminToken = "flowc_console_test_admin"

// The flow the tests deploy twice: v1 has a dead end (the menu's key 2
// tags and stops, leaving the answer unanswered) and a menu without
// else; v2 has neither.
const flowV1 = `flow gaps
numbers "+15550900"
timezone "UTC"

when (keyword == "stop") <
  reply "Bye"
>
menu "Reply 1 for sales, 2 for news" <
  1 -> inbox team:sales
  2 -> tag "news"
  timeout 1h -> end
>
`

const flowV2 = `flow gaps
numbers "+15550900"
timezone "UTC"

when (keyword == "stop") <
  reply "Bye"
> else reply "Hello" then inbox team:sales
`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a server (a replica) on a store, listening on an httptest
// server.
type env struct {
	t     *testing.T
	st    store.Store
	clock *clock
	srv   *server.Server
	ts    *httptest.Server
}

var stores = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), t.TempDir()+"/flowc.db")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
		st, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// newEnv starts a replica on st; cfg tweaks the configuration.
func newEnv(t *testing.T, st store.Store, c *clock, cfg func(*server.Config)) *env {
	t.Helper()
	d, err := server.LoadDirectory("../../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	conf := server.Config{AdminToken: adminToken, Directory: d, Now: c.Now, Logger: quiet}
	if cfg != nil {
		cfg(&conf)
	}
	srv := server.New(conf, st)
	if _, _, err := srv.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LoadStoredDirectory(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		// A page left open on a live stream (the workspace, the queues)
		// holds a request until its lifetime ends: cut the connections,
		// or Close waits for it.
		ts.CloseClientConnections()
		ts.Close()
	})
	return &env{t: t, st: st, clock: c, srv: srv, ts: ts}
}

// api calls the admin API with the admin token.
func (e *env) api(method, path string, body any) (int, []byte) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// deploy deploys source and returns its version.
func (e *env) deploy(source string) string {
	e.t.Helper()
	code, body := e.api("POST", "/v1/admin/flows", server.DeployRequest{File: "gaps.flow", Source: source})
	var ans server.DeployResponse
	if err := json.Unmarshal(body, &ans); err != nil || code >= 300 {
		e.t.Fatalf("deploy: %d %s", code, body)
	}
	return ans.Version
}

// userToken makes a per-user token for user.
func (e *env) userToken(user string) string {
	e.t.Helper()
	code, body := e.api("POST", "/v1/admin/users/"+user+"/tokens", map[string]string{"label": "console test"})
	var ans server.UserTokenAnswer
	if err := json.Unmarshal(body, &ans); err != nil || code != http.StatusCreated {
		e.t.Fatalf("token: %d %s", code, body)
	}
	return ans.Token
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.ts.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// on points the browser at another replica, keeping its cookies.
func (b *browser) on(e *env) *browser {
	nb := *b
	u, _ := url.Parse(e.ts.URL)
	old, _ := url.Parse(b.base)
	nb.c = &http.Client{Jar: b.c.Jar, CheckRedirect: b.c.CheckRedirect}
	// The cookie jar keys cookies by host (not port): both replicas are
	// 127.0.0.1, so the session cookie goes to either.
	if u.Hostname() != old.Hostname() {
		b.t.Fatalf("replicas on different hosts: %s %s", u, old)
	}
	nb.base = e.ts.URL
	return &nb
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	res, body := b.do("GET", path, nil)
	return res.StatusCode, body
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	code, body := b.get(path)
	m := csrfRe.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		b.t.Fatalf("GET %s: %d, no csrf token:\n%s", path, code, body)
	}
	return m[1]
}

// login signs in with token and returns the response.
func (b *browser) login(token string) *http.Response {
	b.t.Helper()
	res, _ := b.do("POST", "/ui/login", url.Values{"csrf": {b.csrf("/ui/login")}, "token": {token}})
	return res
}

func (b *browser) mustLogin(token string) {
	b.t.Helper()
	if res := b.login(token); res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login: %d", res.StatusCode)
	}
}
