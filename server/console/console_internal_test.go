package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// fakeBackend takes "admin" as the admin token and "flowc_u_bob" as bob's.
type fakeBackend struct {
	Workspace    // unused here (nil)
	AdminBackend // the admin pages are not tested here
	settings     map[string]string
}

func (f *fakeBackend) Now() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }
func (f *fakeBackend) Authenticate(_ context.Context, tok string, _ bool) (Principal, string, error) {
	switch tok {
	case "admin":
		return Principal{Role: RoleAdmin, User: "admin", TokenDigest: "a"}, "", nil
	case "flowc_u_bob":
		return Principal{Role: RoleAgent, User: "bob", TokenDigest: "b"}, "", nil
	}
	return Principal{}, WrongToken, nil
}
func (f *fakeBackend) StillValid(context.Context, Principal) (string, error) { return "", nil }
func (f *fakeBackend) Setting(_ context.Context, k string) (string, error) {
	v, ok := f.settings[k]
	if !ok {
		return "", store.ErrNotFound
	}
	return v, nil
}
func (f *fakeBackend) SetSetting(_ context.Context, k, v string) error { f.settings[k] = v; return nil }
func (f *fakeBackend) DeleteSetting(_ context.Context, k string) error {
	delete(f.settings, k)
	return nil
}
func (f *fakeBackend) SettingsPrefixed(_ context.Context, prefix string) (out []Setting, _ error) {
	for k, v := range f.settings {
		if strings.HasPrefix(k, prefix) {
			out = append(out, Setting{Key: k, Value: v})
		}
	}
	return out, nil
}
func (f *fakeBackend) Flows(context.Context) ([]Flow, error) { return nil, nil }
func (f *fakeBackend) Versions(context.Context, string) ([]Version, error) {
	return nil, nil
}
func (f *fakeBackend) Program(context.Context, string) (*vm.Program, error) {
	return nil, store.ErrNotFound
}
func (f *fakeBackend) Rollback(context.Context, string, string) error { return nil }
func (f *fakeBackend) Diagnostics(*vm.Program) diag.List              { return nil }
func (f *fakeBackend) Replay(context.Context, string, int) (*Replay, error) {
	return nil, store.ErrNotFound
}

// TestAdminSignsInOnlyWhereTheAdminAPIIs: on a listener without the
// admin API (AdminLogin false: the public one, with --admin-addr), the
// admin token signs no one in; an agent's does. The store keeps the
// session under the id's hash, never the id.
func TestAdminSignsInOnlyWhereTheAdminAPIIs(t *testing.T) {
	for _, adminLogin := range []bool{false, true} {
		f := &fakeBackend{settings: map[string]string{}}
		ts := httptest.NewServer(http.StripPrefix("", mount(New(f, Options{AdminLogin: adminLogin}))))
		for tok, want := range map[string]bool{"admin": adminLogin, "flowc_u_bob": true} {
			c := ts.Client()
			res, err := c.Get(ts.URL + "/ui/login")
			if err != nil {
				t.Fatal(err)
			}
			var csrf string
			for _, ck := range res.Cookies() {
				if ck.Name == loginCookie {
					csrf = ck.Value
				}
			}
			res.Body.Close()
			req, _ := http.NewRequest("POST", ts.URL+"/ui/login", strings.NewReader(url.Values{"csrf": {csrf}, "token": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: csrf})
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			var sid string
			for _, ck := range res.Cookies() {
				if ck.Name == sessionCookie {
					sid = ck.Value
				}
			}
			if got := res.StatusCode == http.StatusSeeOther && sid != ""; got != want {
				t.Errorf("AdminLogin=%v, token %s: %d (session %v), want signed in %v", adminLogin, tok, res.StatusCode, sid != "", want)
			}
			for k, v := range f.settings {
				if sid != "" && (strings.Contains(k, sid) || strings.Contains(v, sid)) {
					t.Errorf("the store keeps the session id in the clear: %s=%s", k, v)
				}
			}
		}
		ts.Close()
	}
}

// mount serves c at Base, as the server's router does.
func mount(c *Console) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(Base+"/", c)
	return mux
}
