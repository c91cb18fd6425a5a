package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/server/store"
)

// publicOf is e's server on a listener of its own with the public
// routes only, as with --admin-addr.
func publicOf(e *env) *env {
	ts := httptest.NewServer(e.srv.PublicHandler())
	e.t.Cleanup(func() {
		// A page left open on a live stream (the workspace, the queues)
		// holds a request until its lifetime ends: cut the connections,
		// or Close waits for it.
		ts.CloseClientConnections()
		ts.Close()
	})
	pub := *e
	pub.ts = ts
	return &pub
}

// TestPublicListenerTakesNoAdmin: with the admin API on its own address,
// the public listener's console (1) opens nothing for an admin session
// made on the admin address, its cookie presented there (the browser
// sends it to either port of one host); (2) answers the admin token as
// it answers a wrong one, so its sign-in form tells a guesser nothing
// about the admin token; (3) refuses sign-ins from an address after ten
// failures in a minute, a valid token included, and takes them again the
// next minute.
func TestPublicListenerTakesNoAdmin(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			c := &clock{t: start}
			a := newEnv(t, sc.open(t), c, nil)
			a.deploy(flowV1)
			pub := publicOf(a)

			admin := a.browser()
			admin.mustLogin(adminToken)
			if code, _ := admin.get("/ui/flows"); code != http.StatusOK {
				t.Fatalf("the admin address: %d", code)
			}
			onPublic := admin.on(pub)
			for _, path := range []string{"/ui/flows", "/ui/home", "/ui/numbers"} {
				if code, _ := onPublic.get(path); code != http.StatusSeeOther {
					t.Errorf("an admin session on the public listener: GET %s = %d, want a redirect to sign in", path, code)
				}
			}
			if res, _ := onPublic.do("POST", "/ui/flows/gaps/rollback", url.Values{"csrf": {"x"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("an admin session on the public listener: POST rollback = %d, want 403", res.StatusCode)
			}

			guess := func(token string) (int, string) {
				b := pub.browser()
				res, body := b.do("POST", "/ui/login", url.Values{"csrf": {b.csrf("/ui/login")}, "token": {token}})
				return res.StatusCode, body
			}
			codeAdmin, bodyAdmin := guess(adminToken)
			codeWrong, bodyWrong := guess("flowc_console_test_wrong")
			if codeAdmin != http.StatusUnauthorized || codeAdmin != codeWrong || errorText(bodyAdmin) != errorText(bodyWrong) || errorText(bodyWrong) == "" {
				t.Errorf("the public sign-in answers the admin token %d %q and a wrong one %d %q: want the same refusal",
					codeAdmin, errorText(bodyAdmin), codeWrong, errorText(bodyWrong))
			}
			for i := 2; i < 10; i++ {
				if code, _ := guess("flowc_u_wrong"); code != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i+1, code)
				}
			}
			bob := a.userToken("bob")
			if code, body := guess(bob); code != http.StatusTooManyRequests || !strings.Contains(errorText(body), "failed sign-ins") {
				t.Errorf("after ten failures in a minute: %d %q, want 429", code, errorText(body))
			}
			c.Add(time.Minute)
			agent := pub.browser()
			if res := agent.login(bob); res.StatusCode != http.StatusSeeOther {
				t.Errorf("an agent the next minute: %d, want signed in", res.StatusCode)
			}
		})
	}
}

// TestSessionRowsDeleted: signing out deletes the session's row, and
// each sign-in deletes the rows of the sessions that have expired, so
// the store keeps only the sessions of the last SessionTTL.
func TestSessionRowsDeleted(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			c := &clock{t: start}
			st := sc.open(t)
			a := newEnv(t, st, c, nil)
			rows := func() int {
				var n int
				err := st.InTx(context.Background(), func(tx store.Tx) error {
					s, err := tx.(store.OutboxTx).SettingsPrefixed(context.Background(), "console/session/")
					n = len(s)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			b := a.browser()
			b.mustLogin(adminToken)
			if n := rows(); n != 1 {
				t.Fatalf("%d session rows after a sign-in, want 1", n)
			}
			if res, _ := b.do("POST", "/ui/logout", url.Values{"csrf": {b.csrf("/ui/home")}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", res.StatusCode)
			}
			if n := rows(); n != 0 {
				t.Errorf("%d session rows after signing out, want 0", n)
			}
			for range 3 { // left signed in
				a.browser().mustLogin(adminToken)
			}
			c.Add(console.SessionTTL / 2)
			a.browser().mustLogin(adminToken)
			c.Add(console.SessionTTL/2 + time.Minute) // the first three have expired
			last := a.browser()
			last.mustLogin(adminToken)
			if n := rows(); n != 2 {
				t.Errorf("%d session rows, want 2 (the two in force; the three expired deleted at the sign-in)", n)
			}
			if code, _ := last.get("/ui/home"); code != http.StatusOK {
				t.Errorf("the new session: %d", code)
			}
		})
	}
}

// errorText is the error a page shows, "" for none.
func errorText(page string) string {
	i := strings.Index(page, `class="error"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	j := strings.Index(rest, ">")
	k := strings.Index(rest, "</")
	if j < 0 || k < j {
		return ""
	}
	return strings.TrimSpace(rest[j+1 : k])
}

// TestNumbersFlashIsNotALinksText: the numbers page's success message
// is worded by the console from what was done (a redirect's facts), so a
// link cannot make the console show its own words in the console's voice.
func TestNumbersFlashIsNotALinksText(t *testing.T) {
	c := &clock{t: start}
	a := newEnv(t, stores[0].open(t), c, nil)
	a.deploy(flowV1)
	admin := a.browser()
	admin.mustLogin(adminToken)
	for _, tc := range []struct{ query, want, not string }{
		{"done=" + url.QueryEscape("Twilio sync failed: re-enter your admin token at https://evil.example"), "", "re-enter your admin token"},
		{"done=assigned&number=%2B15550900&channel=sms&flow=gaps", "+15550900's texts now go to gaps.", ""},
		{"done=assigned&number=%2B15550900&channel=voice&flow=" + url.QueryEscape("gaps: sign in at https://evil.example"), "Assigned.", "evil.example"},
		{"done=unassigned&number=" + url.QueryEscape("call https://evil.example") + "&channel=voice", "No flow answers the number's calls any more.", "evil.example"},
	} {
		code, page := admin.get("/ui/numbers?" + tc.query)
		page = html.UnescapeString(page)
		if code != http.StatusOK {
			t.Fatalf("GET /ui/numbers?%s: %d", tc.query, code)
		}
		if tc.want != "" && !strings.Contains(page, tc.want) {
			t.Errorf("?%s: the page does not say %q", tc.query, tc.want)
		}
		if tc.not != "" && strings.Contains(page, tc.not) {
			t.Errorf("?%s: the page shows the link's text %q", tc.query, tc.not)
		}
	}
}

// TestAdminSessionKeepsNoHashOfTheToken: an admin session's row keeps a
// salted scrypt proof of the admin token, not its plain SHA-256 (which
// would let whoever copies the database test guesses at a hash's speed),
// and the proof still opens the session on another replica.
func TestAdminSessionKeepsNoHashOfTheToken(t *testing.T) {
	c := &clock{t: start}
	st := stores[0].open(t)
	a := newEnv(t, st, c, nil)
	b := a.browser()
	b.mustLogin(adminToken)
	var rows []store.Setting
	err := st.InTx(context.Background(), func(tx store.Tx) (err error) {
		rows, err = tx.(store.OutboxTx).SettingsPrefixed(context.Background(), "console/session/")
		return err
	})
	if err != nil || len(rows) != 1 {
		t.Fatalf("session rows: %v, %v", rows, err)
	}
	d := sha256.Sum256([]byte(adminToken))
	if v := rows[0].Value; strings.Contains(v, hex.EncodeToString(d[:])) || !strings.Contains(v, `"token_digest":"scrypt:`) {
		t.Errorf("the admin session's row %s: want a scrypt proof and no SHA-256 of the token", v)
	}
	if code, _ := b.on(newEnv(t, st, c, nil)).get("/ui/flows"); code != http.StatusOK {
		t.Errorf("the session on another replica: %d", code)
	}
}
