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
	"net/http"
	"net/url"
	"strings"
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
// SessionTTL; one row is written per sign-in and blanked at sign-out.

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

func settingKey(id string) string {
	d := sha256.Sum256([]byte(id))
	return "console/session/" + hex.EncodeToString(d[:])
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
	if !c.b.Now().Before(s.Expires) {
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
	p, refusal, err := c.b.Authenticate(r.Context(), token)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	if refusal == "" && p.Role == RoleAdmin && !c.opt.AdminLogin {
		refusal = "admins sign in on the admin address (--admin-addr)"
	}
	if refusal != "" {
		c.log.Info("console: sign-in refused", "reason", refusal)
		c.showLogin(w, r, http.StatusUnauthorized, "Not signed in: "+refusal+".")
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
		if err := c.b.SetSetting(r.Context(), settingKey(ck.Value), ""); err != nil {
			c.storeFail(w, r, err)
			return
		}
	}
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, Base+"/login", http.StatusSeeOther)
}
