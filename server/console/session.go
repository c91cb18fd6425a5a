package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Sessions are stored, not signed: the cookie holds a random id, and the
// store (the settings table every replica shares) keeps, under the id's
// SHA-256, who signed in, with which token (its digest), the session's
// CSRF token and its expiry. So a session works on every replica and
// across restarts; signing out ends it everywhere at once; and, like the
// admin token, which the store keeps only hashed, a copy of the database
// opens no session (a signing key kept in the store would let whoever
// reads it forge an admin cookie). Each request also checks that the
// token signed in with is still in force, so revoking an agent's token or
// changing the admin token ends their sessions. A session lasts
// SessionTTL; one row is written per sign-in, deleted at sign-out, and
// the expired ones are deleted at each sign-in (pruneSessions), so the
// rows are at most the sessions begun in the last SessionTTL.
//
// Admins sign in, and their sessions count, only on the listener that
// serves the admin API (Options.AdminLogin): an admin's cookie presented
// on the public listener opens nothing there. On the public listener
// the admin token is not even checked: it and a wrong token get the same
// answer, so the sign-in form is no oracle for it, and each address may
// fail to sign in at most loginFailures times a minute (loginLimiter).

// SessionTTL is how long a session lasts from sign-in.
const SessionTTL = 12 * time.Hour

const (
	sessionCookie = "flowc_session"
	loginCookie   = "flowc_login" // the login form's CSRF token (double submit)
	csrfField     = "csrf"
	maxFormBytes  = 64 << 10
)

// Session is a signed-in person.
type Session struct {
	Principal Principal `json:"principal"`
	CSRF      string    `json:"csrf"`
	Expires   time.Time `json:"expires"`
}

type sessionKey struct{}

// session is the request's session (nil before requireSession).
func session(r *http.Request) *Session {
	s, _ := r.Context().Value(sessionKey{}).(*Session)
	return s
}

// Setting is a stored setting: a session row.
type Setting = store.Setting

const sessionPrefix = "console/session/"

func settingKey(id string) string {
	d := sha256.Sum256([]byte(id))
	return sessionPrefix + hex.EncodeToString(d[:])
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Console) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Base, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.opt.Secure}
}

// loadSession is the stored session of the request's cookie; nil when
// there is none in force.
func (c *Console) loadSession(ctx context.Context, r *http.Request) (*Session, string, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, "", nil
	}
	v, err := c.b.Setting(ctx, settingKey(ck.Value))
	if errors.Is(err, store.ErrNotFound) || (err == nil && v == "") {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var s Session
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, "", nil
	}
	if !c.b.Now().Before(s.Expires) || (s.Principal.Role == RoleAdmin && !c.opt.AdminLogin) {
		return nil, "", nil
	}
	return &s, ck.Value, nil
}

// requireSession admits a request with a session in force: a GET
// without one goes to the login form, anything else is 403. A POST must
// carry the session's CSRF token as the form field csrf (403 without).
func (c *Console) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _, err := c.loadSession(r.Context(), r)
		if err != nil {
			c.storeFail(w, r, err)
			return
		}
		if s != nil {
			refusal, err := c.b.StillValid(r.Context(), s.Principal)
			if err != nil {
				c.storeFail(w, r, err)
				return
			}
			if refusal != "" {
				s = nil
			}
		}
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Base+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusForbidden, "You are not signed in (or your session ended): sign in again.")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			var tooBig *http.MaxBytesError
			if err := r.ParseForm(); errors.As(err, &tooBig) {
				c.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d KiB, the most a console form takes; nothing was done.", maxFormBytes>>10))
				return
			}
			if got := r.PostFormValue(csrfField); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				c.fail(w, r, http.StatusForbidden, "This form has no valid CSRF token: reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type loginView struct {
	CSRF  string
	Next  string
	Error string
}

// loginForm shows the form, with a fresh CSRF token in a cookie and in
// the form (the login form has no session yet: the two must match).
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, "")
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	tok := randomToken()
	http.SetCookie(w, c.cookie(loginCookie, tok, 3600))
	c.render(w, r, code, "login.html", "Sign in", loginView{CSRF: tok, Next: safeNext(r.FormValue("next")), Error: msg})
}

// safeNext keeps a redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Base+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Base + "/home"
	}
	return next
}

// login exchanges a token for a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	ck, err := r.Cookie(loginCookie)
	got := r.PostFormValue(csrfField)
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ck.Value)) != 1 {
		c.fail(w, r, http.StatusForbidden, "The sign-in form had no valid CSRF token: reload it and try again.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		c.showLogin(w, r, http.StatusUnauthorized, "Give your token.")
		return
	}
	ip := remoteIP(r)
	if !c.logins.allowed(ip, c.b.Now()) {
		c.log.Info("console: sign-in refused", "reason", "too many failed sign-ins", "from", ip)
		c.showLogin(w, r, http.StatusTooManyRequests, fmt.Sprintf("Not signed in: %d failed sign-ins from your address in the last minute; wait a minute.", loginFailures))
		return
	}
	p, refusal, err := c.b.Authenticate(r.Context(), token, c.opt.AdminLogin)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	if !c.opt.AdminLogin && (refusal == WrongToken || refusal == "" && p.Role == RoleAdmin) {
		refusal = wrongAgentToken // (a backend that checked the admin token anyway)
	}
	if refusal != "" {
		c.logins.failed(ip, c.b.Now())
		c.log.Info("console: sign-in refused", "reason", refusal)
		c.showLogin(w, r, http.StatusUnauthorized, "Not signed in: "+refusal+".")
		return
	}
	if err := c.pruneSessions(r.Context()); err != nil {
		c.storeFail(w, r, err)
		return
	}
	id := randomToken()
	s := Session{Principal: p, CSRF: randomToken(), Expires: c.b.Now().Add(SessionTTL)}
	b, _ := json.Marshal(s)
	if err := c.b.SetSetting(r.Context(), settingKey(id), string(b)); err != nil {
		c.storeFail(w, r, err)
		return
	}
	http.SetCookie(w, c.cookie(loginCookie, "", -1))
	http.SetCookie(w, c.cookie(sessionCookie, id, int(SessionTTL/time.Second)))
	c.log.Info("console: signed in", "role", p.Role.String(), "user", p.User)
	next := safeNext(r.PostFormValue("next"))
	if p.Role != RoleAdmin && next != Base+"/home" && !strings.HasPrefix(next, Base+"/workspace") {
		next = Base + "/home"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session everywhere.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.b.DeleteSetting(r.Context(), settingKey(ck.Value)); err != nil {
			c.storeFail(w, r, err)
			return
		}
	}
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, Base+"/login", http.StatusSeeOther)
}

// WrongToken is Backend.Authenticate's refusal of a token that is no
// one's.
const WrongToken = "wrong token: give the admin token or your own (flowc_u_…) token"

// wrongAgentToken is the public listener's answer to a token that is not
// an agent's, the admin token included.
const wrongAgentToken = "wrong token: give your own (flowc_u_…) token (admins sign in on the admin address, --admin-addr)"

// pruneSessions deletes the stored sessions that have expired (or were
// blanked at sign-out before sign-outs deleted them).
func (c *Console) pruneSessions(ctx context.Context) error {
	rows, err := c.b.SettingsPrefixed(ctx, sessionPrefix)
	if err != nil {
		return err
	}
	now := c.b.Now()
	for _, row := range rows {
		var s Session
		if row.Value != "" && json.Unmarshal([]byte(row.Value), &s) == nil && now.Before(s.Expires) {
			continue
		}
		if err := c.b.DeleteSetting(ctx, row.Key); err != nil {
			return err
		}
	}
	return nil
}

// loginFailures is how many failed sign-ins an address may make in a
// minute.
const loginFailures = 10

// loginLimiter counts each address's failed sign-ins in the current
// minute (per replica: a guesser spread over replicas gets that many
// tries on each). It forgets every address when it holds too many, so a
// flood of addresses costs memory only up to that bound.
type loginLimiter struct {
	mu     sync.Mutex
	minute time.Time
	fails  map[string]int
}

const loginLimiterAddresses = 100_000

func (l *loginLimiter) allowed(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	return l.fails[ip] < loginFailures
}

func (l *loginLimiter) failed(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if len(l.fails) >= loginLimiterAddresses {
		l.fails = map[string]int{}
	}
	l.fails[ip]++
}

func (l *loginLimiter) roll(now time.Time) {
	if m := now.Truncate(time.Minute); !m.Equal(l.minute) || l.fails == nil {
		l.minute, l.fails = m, map[string]int{}
	}
}

// remoteIP is the request's peer address without its port.
func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
