package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/console"
)

var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// activeVersion is the flow's active version, from the admin API.
func (e *env) activeVersion() string {
	e.t.Helper()
	code, body := e.api("GET", "/v1/admin/flows/gaps/versions", nil)
	var vs []server.VersionInfo
	if err := json.Unmarshal(body, &vs); err != nil || code != http.StatusOK {
		e.t.Fatalf("versions: %d %s", code, body)
	}
	for _, v := range vs {
		if v.Active {
			return v.Version
		}
	}
	return ""
}

// TestFormsRefuseAPostWithoutCSRF: the sign-in form, rollback and sign
// out are refused (403) without the CSRF token, or with another
// session's, and nothing changes.
func TestFormsRefuseAPostWithoutCSRF(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			v1 := e.deploy(flowV1)
			v2 := e.deploy(flowV2)
			b := e.browser()
			b.csrf("/ui/login") // the login cookie is set, the field is not sent
			res, _ := b.do("POST", "/ui/login", url.Values{"token": {adminToken}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("login without csrf: %d, want 403", res.StatusCode)
			}
			res, _ = b.do("POST", "/ui/login", url.Values{"token": {adminToken}, "csrf": {"made-up"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("login with a made-up csrf: %d, want 403", res.StatusCode)
			}
			if code, _ := b.get("/ui/flows"); code != http.StatusSeeOther {
				t.Errorf("a refused login opened a session: GET /ui/flows %d", code)
			}

			b.mustLogin(adminToken)
			other := e.browser()
			other.mustLogin(adminToken)
			for _, f := range []url.Values{{"version": {v1}}, {"version": {v1}, "csrf": {""}}, {"version": {v1}, "csrf": {other.csrf("/ui/home")}}} {
				res, body := b.do("POST", "/ui/flows/gaps/rollback", f)
				if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
					t.Errorf("rollback with %v: %d, want 403 naming CSRF:\n%s", f, res.StatusCode, body)
				}
			}
			if got := e.activeVersion(); got != v2 {
				t.Errorf("a refused rollback changed the active version to %s", got)
			}
			if res, _ := b.do("POST", "/ui/logout", url.Values{}); res.StatusCode != http.StatusForbidden {
				t.Errorf("logout without csrf: %d, want 403", res.StatusCode)
			}
			// With the token, the rollback goes through.
			res, _ = b.do("POST", "/ui/flows/gaps/rollback", url.Values{"version": {v1}, "csrf": {b.csrf("/ui/flows/gaps")}})
			if res.StatusCode != http.StatusSeeOther || e.activeVersion() != v1 {
				t.Errorf("rollback with csrf: %d, active %s, want %s", res.StatusCode, e.activeVersion(), v1)
			}
		})
	}
}

// TestAgentSessionCannotReachAdminPages: an agent signs in with their
// own token and sees their home; every admin page (and the rollback
// form) answers 403, and the navigation does not link them.
func TestAgentSessionCannotReachAdminPages(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			v1 := e.deploy(flowV1)
			v2 := e.deploy(flowV2)
			b := e.browser()
			b.mustLogin(e.userToken("bob"))
			code, home := b.get("/ui/home")
			if code != http.StatusOK || !strings.Contains(home, "Signed in as bob") {
				t.Fatalf("agent home: %d\n%s", code, home)
			}
			if strings.Contains(home, `href="/ui/flows"`) {
				t.Errorf("the agent's navigation links the flows page:\n%s", home)
			}
			for _, p := range []string{"/ui/flows", "/ui/flows/gaps", "/ui/flows/gaps?version=" + v1, "/ui/flows/gaps/diff?a=" + v1 + "&b=" + v2} {
				code, body := b.get(p)
				if code != http.StatusForbidden {
					t.Errorf("agent GET %s: %d, want 403", p, code)
				}
				if strings.Contains(body, "Reply 1 for sales, 2 for news") || strings.Contains(body, "<svg") {
					t.Errorf("agent GET %s shows the flow:\n%s", p, body)
				}
			}
			res, _ := b.do("POST", "/ui/flows/gaps/rollback", url.Values{"version": {v1}, "csrf": {b.csrf("/ui/home")}})
			if res.StatusCode != http.StatusForbidden || e.activeVersion() != v2 {
				t.Errorf("agent rollback: %d, active %s", res.StatusCode, e.activeVersion())
			}
			// A wrong token signs no one in.
			nb := e.browser()
			if res := nb.login("flowc_u_madeup"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("made-up token: %d, want 401", res.StatusCode)
			}
			if res := nb.login("wrong-admin"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("wrong admin token: %d, want 401", res.StatusCode)
			}
		})
	}
}

// TestSessionsAcrossReplicasAndRestarts: a session made on one replica
// works on another and on a replica started later (a restart); signing
// out on one ends it on all; revoking the agent's token, or removing
// the user from the directory on another replica, ends theirs; a
// session lasts SessionTTL.
func TestSessionsAcrossReplicasAndRestarts(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.open(t)
			c := &clock{t: start}
			a := newEnv(t, st, c, nil)
			a.deploy(flowV1)
			bEnv := newEnv(t, st, c, nil)
			admin := a.browser()
			admin.mustLogin(adminToken)
			if code, _ := admin.on(bEnv).get("/ui/flows/gaps"); code != http.StatusOK {
				t.Errorf("the session on the other replica: %d", code)
			}
			later := newEnv(t, st, c, nil) // a restart: a new process, the same store
			if code, _ := admin.on(later).get("/ui/flows"); code != http.StatusOK {
				t.Errorf("the session after a restart: %d", code)
			}
			onB := admin.on(bEnv)
			if res, _ := onB.do("POST", "/ui/logout", url.Values{"csrf": {onB.csrf("/ui/home")}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", res.StatusCode)
			}
			// The jar dropped the cookie; replay it as a thief would.
			stolen := a.browser()
			stolen.mustLogin(adminToken)
			ck := stolen.c.Jar.Cookies(mustURL(a.ts.URL + "/ui/"))
			onBStolen := stolen.on(bEnv)
			if res, _ := onBStolen.do("POST", "/ui/logout", url.Values{"csrf": {onBStolen.csrf("/ui/home")}}); res.StatusCode != http.StatusSeeOther {
				t.Fatal("logout")
			}
			thief := a.browser()
			thief.c.Jar.SetCookies(mustURL(a.ts.URL+"/ui/"), ck)
			if code, _ := thief.get("/ui/flows"); code != http.StatusSeeOther {
				t.Errorf("a signed-out session's cookie still opens /ui/flows on another replica: %d", code)
			}

			agent := a.browser()
			tok := a.userToken("bob")
			agent.mustLogin(tok)
			if code, _ := agent.get("/ui/home"); code != http.StatusOK {
				t.Fatalf("agent home: %d", code)
			}
			var ts []struct {
				ID int64 `json:"id"`
			}
			_, body := a.api("GET", "/v1/admin/users/bob/tokens", nil)
			json.Unmarshal(body, &ts)
			if code, body := a.api("DELETE", "/v1/admin/users/bob/tokens/"+itoa(ts[len(ts)-1].ID), nil); code != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", code, body)
			}
			if code, _ := agent.on(bEnv).get("/ui/home"); code != http.StatusSeeOther {
				t.Errorf("a revoked token's session still opens /ui/home: %d", code)
			}

			// A user removed from the directory through another replica
			// is signed out on this one at its next request.
			flex := a.browser()
			flex.mustLogin(a.userToken("flex"))
			if code, _ := flex.on(bEnv).get("/ui/home"); code != http.StatusOK {
				t.Fatalf("flex home: %d", code)
			}
			_, body = a.api("GET", "/v1/admin/directory", nil)
			var dir map[string]any
			if err := json.Unmarshal(body, &dir); err != nil {
				t.Fatal(err)
			}
			var users []any
			for _, u := range dir["users"].([]any) {
				if u.(map[string]any)["name"] != "flex" {
					users = append(users, u)
				}
			}
			dir["users"] = users
			if code, body := a.api("PUT", "/v1/admin/directory", dir); code != http.StatusOK {
				t.Fatalf("put directory: %d %s", code, body)
			}
			if code, _ := flex.on(bEnv).get("/ui/home"); code != http.StatusSeeOther {
				t.Errorf("a user removed from the directory on another replica is still signed in: %d", code)
			}

			admin2 := a.browser()
			admin2.mustLogin(adminToken)
			c.Add(console.SessionTTL - time.Minute)
			if code, _ := admin2.get("/ui/home"); code != http.StatusOK {
				t.Errorf("before the TTL: %d", code)
			}
			c.Add(2 * time.Minute)
			if code, _ := admin2.get("/ui/home"); code != http.StatusSeeOther {
				t.Errorf("past the TTL: %d, want a redirect to the login", code)
			}
		})
	}
}

// TestCookiesAndHeaders: the session cookie is HttpOnly, SameSite=Strict,
// scoped to /ui, Secure when the public URL is https; every page has the
// strict Content-Security-Policy, and the pages carry no inline script or
// style.
func TestCookiesAndHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		e := newEnv(t, stores[0].open(t), &clock{t: start}, func(c *server.Config) {
			if https {
				c.PublicURL = "https://sms.example.com"
			}
		})
		e.deploy(flowV1)
		b := e.browser()
		res := b.login(adminToken)
		var sess *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "flowc_session" {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/ui" || sess.Secure != https {
			t.Errorf("https=%v: session cookie %+v", https, sess)
		}
		if https {
			continue // the jar does not send a Secure cookie over http
		}
		for _, p := range []string{"/ui/login", "/ui/home", "/ui/flows", "/ui/flows/gaps", "/ui/flows/gaps/diff"} {
			res, body := b.do("GET", p, nil)
			csp := res.Header.Get("Content-Security-Policy")
			if res.StatusCode != http.StatusOK || !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("GET %s: %d, CSP %q", p, res.StatusCode, csp)
			}
			for _, bad := range []string{"<script>", "style=\"", "onclick", "javascript:", "<style"} {
				if strings.Contains(body, bad) {
					t.Errorf("GET %s has inline %s", p, bad)
				}
			}
			if !strings.Contains(body, `name="viewport"`) {
				t.Errorf("GET %s has no viewport meta", p)
			}
		}
		// A redirect after sign-in stays inside the console.
		nb := e.browser()
		res, _ = nb.do("POST", "/ui/login", url.Values{"csrf": {nb.csrf("/ui/login")}, "token": {adminToken}, "next": {"//evil.example/ui/x"}})
		if loc := res.Header.Get("Location"); loc != "/ui/home" {
			t.Errorf("next=//evil.example: redirected to %q", loc)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestFlowPage: the flow page lists the versions with when they were
// saved, the source highlighted with one anchor per line, the
// diagnostics of flowc check, and the drawing as SVG with the dead end
// marked and each node linking to its line; the diff page shows what
// changed between two versions.
func TestFlowPage(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, sc.open(t), &clock{t: start}, nil)
			v1 := e.deploy(flowV1)
			e.clock.Add(time.Hour)
			v2 := e.deploy(flowV2)
			b := e.browser()
			b.mustLogin(adminToken)
			code, list := b.get("/ui/flows")
			if code != http.StatusOK || !strings.Contains(list, `href="/ui/flows/gaps"`) || !strings.Contains(list, v2[:12]) {
				t.Fatalf("flows: %d\n%s", code, list)
			}
			code, page := b.get("/ui/flows/gaps?version=" + v1[:10])
			if code != http.StatusOK {
				t.Fatalf("flow page: %d\n%s", code, page)
			}
			for _, want := range []string{
				v1[:12], v2[:12], "2026-11-23 10:00 UTC", "2026-11-23 11:00 UTC", // versions, when
				`id="L5"`, `<span class="t-keyword">when</span>`, `<span class="t-string">&#34;Bye&#34;</span>`, // source
				`class="node dead&#45;end"`, `xlink:href="#L5"`, "<svg role=\"img\"", // the drawing
				"Dead end: dead end message not handled", "missing else", // the gaps, in words
				"Roll back to version " + v1[:12],
			} {
				if !strings.Contains(page, want) {
					t.Errorf("flow page lacks %s", want)
				}
			}
			if !strings.Contains(page, `class="diag-warning"`) {
				t.Errorf("flow page shows no warning (flowc check warns of the menu without else):\n%s", page)
			}
			code, diff := b.get("/ui/flows/gaps/diff?a=" + v1 + "&b=" + v2)
			if code != http.StatusOK || !strings.Contains(diff, `<span class="d-add">`) || !strings.Contains(diff, "Hello") || !strings.Contains(diff, `<span class="d-del">`) {
				t.Errorf("diff: %d\n%s", code, diff)
			}
			// Replaying recent messages: a text v2 (active) answered with
			// its else branch would get v1's menu.
			if code, body := e.api("POST", "/v1/messages", map[string]string{"sid": "SM1", "from": "+15557654321", "to": "+15550900", "body": "hi"}); code != http.StatusOK {
				t.Fatalf("message: %d %s", code, body)
			}
			if _, diff := b.get("/ui/flows/gaps/diff?a=" + v2 + "&b=" + v1); !strings.Contains(diff, `name="replay"`) {
				t.Errorf("the diff from the active version offers no replay:\n%s", diff)
			}
			code, replay := b.get("/ui/flows/gaps/diff?a=" + v2 + "&b=" + v1 + "&replay=7")
			for _, want := range []string{"1 first message(s) of the last 7 day(s) replayed", "1 routed differently", `reply &#34;Hello&#34;, inbox team:sales`, `reply &#34;Reply 1 for sales, 2 for news&#34;`} {
				if code != http.StatusOK || !strings.Contains(replay, want) {
					t.Errorf("replay: %d, lacks %s\n%s", code, want, replay)
				}
			}
			if code, _ := b.get("/ui/flows/gaps/diff?a=" + v2 + "&b=" + v1 + "&replay=91"); code != http.StatusBadRequest {
				t.Errorf("replay=91: %d, want 400", code)
			}
			if code, _ := b.get("/ui/flows/nope"); code != http.StatusNotFound {
				t.Errorf("unknown flow: %d", code)
			}
			if code, _ := b.get("/ui/flows/gaps?version=zzzzzzzzzz"); code != http.StatusNotFound {
				t.Errorf("unknown version: %d", code)
			}
		})
	}
}
