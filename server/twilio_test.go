package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// signedServer is a server with no flows (every valid message is stored
// as "no-flow" and answered 200) behind cfg's signature settings.
func signedServer(t *testing.T, cfg server.Config) http.Handler {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/flowc.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Logger = quiet
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return server.New(cfg, st).Handler()
}

// postSigned posts body to target with a content type and signature.
func postSigned(h http.Handler, target, contentType, body, sig string) int {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// signingURLs are the URLs a request to public+target may have been
// signed over: the same, with and without the scheme's default port (Twilio
// signs some webhooks one way and some the other), another port, another
// host, another scheme, another path.
func signingURLs(public, target string) []string {
	u, _ := url.Parse(public + target)
	host, port := u.Hostname(), u.Port()
	with := func(scheme, hostport string) string {
		c := *u
		c.Scheme, c.Host = scheme, hostport
		return c.String()
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	other := map[string]string{"https": "http", "http": "https"}[u.Scheme]
	urls := []string{public + target, with(u.Scheme, host), with(u.Scheme, host+":"+def), with(u.Scheme, host+":8443"),
		with(u.Scheme, "other.example.com"), with(other, host), strings.Replace(public+target, "/webhooks/", "/hooks/", 1)}
	if port != "" {
		urls = append(urls, with(u.Scheme, host+":"+port))
	}
	return urls
}

var (
	publicURLs = []string{"https://sms.example.com", "https://sms.example.com:443", "http://sms.example.com",
		"http://sms.example.com:80", "https://sms.example.com:8443", "https://sms.example.com/tenant-a"}
	queries = []string{"", "?a=1", "?tenant=b&x=%20y", "?empty="}
	// paramValues include what form encoding must round-trip: spaces,
	// '&', '=', '+', '%', non-ASCII.
	paramValues = []string{"", "hi", "Hello there", "a&b=c", "1+1=2", "100%", "café ☕", "+15550001111", "line\nbreak"}
	paramNames  = []string{"AccountSid", "ApiVersion", "Body", "FromCity", "NumSegments", "SmsStatus", "X-Extra", "zeta", "Ω"}
)

// randomMessage is a valid inbound message with some random extra
// parameters.
func randomMessage(r *rand.Rand, i int) url.Values {
	f := url.Values{"MessageSid": {fmt.Sprintf("SMprop%05d", i)}, "From": {"+15550001111"}, "To": {"+15550100"}}
	for n := r.IntN(5); n > 0; n-- {
		name := paramNames[r.IntN(len(paramNames))]
		if name == "NumSegments" || name == "AccountSid" {
			continue // validated: a random value would be a 400, not a signature question
		}
		f.Set(name, paramValues[r.IntN(len(paramValues))])
	}
	return f
}

// TestSignatureAcceptedExactlyWhenTwilioGoAccepts: over generated public
// URLs (with and without ports, with a path prefix), query strings,
// parameters and the URL the signature was made for, a form webhook is
// taken exactly when twilio-go's RequestValidator accepts it for the
// configured public URL. A signature over https://host:443/… for a
// server configured as https://host (and the reverse) is among those
// accepted: it used to be refused.
func TestSignatureAcceptedExactlyWhenTwilioGoAccepts(t *testing.T) {
	const token = "primary-token-0123456789abcdef"
	r := rand.New(rand.NewPCG(1, 2))
	accepted, refused, portVariants := 0, 0, 0
	handlers := map[string]http.Handler{}
	for _, pub := range publicURLs {
		handlers[pub] = signedServer(t, server.Config{TwilioAuthToken: token, PublicURL: pub})
	}
	for i := 0; i < 400; i++ {
		pub := publicURLs[r.IntN(len(publicURLs))]
		target := "/webhooks/twilio/sms" + queries[r.IntN(len(queries))]
		urls := signingURLs(pub, target)
		signedFor := urls[r.IntN(len(urls))]
		form := randomMessage(r, i)
		tok := token
		if r.IntN(8) == 0 {
			tok = "another-token"
		}
		sig := server.TwilioSignature(tok, signedFor, form)
		body := form.Encode()
		validator := twilioclient.NewRequestValidator(token)
		want := validator.ValidateBody(pub+target, []byte(body), sig)
		code := postSigned(handlers[pub], target, "application/x-www-form-urlencoded", body, sig)
		if got := code == http.StatusOK; got != want || (code != http.StatusOK && code != http.StatusForbidden) {
			t.Fatalf("public %s, signed for %s: answered %d, twilio-go accepts: %v", pub, signedFor, code, want)
		}
		if want {
			accepted++
			if signedFor != pub+target {
				portVariants++
			}
		} else {
			refused++
		}
	}
	if accepted < 50 || refused < 50 || portVariants < 20 {
		t.Fatalf("the generated cases do not cover both outcomes: %d accepted (%d over another form of the URL), %d refused",
			accepted, portVariants, refused)
	}
}

// TestJSONBodySHA256Webhook: the JSON variant (Twilio signs the URL,
// which carries ?bodySHA256=HEX of the body) is taken exactly when
// twilio-go accepts it: the URL's signature must verify and the body's
// SHA-256 must match, so a body changed in transit is refused.
func TestJSONBodySHA256Webhook(t *testing.T) {
	const token = "primary-token-0123456789abcdef"
	const pub = "https://sms.example.com"
	h := signedServer(t, server.Config{TwilioAuthToken: token, PublicURL: pub})
	validator := twilioclient.NewRequestValidator(token)
	r := rand.New(rand.NewPCG(3, 4))
	accepted, refused := 0, 0
	for i := 0; i < 200; i++ {
		msg := map[string]any{"MessageSid": fmt.Sprintf("SMjson%05d", i), "From": "+15550001111", "To": "+15550100",
			"Body": paramValues[r.IntN(len(paramValues))], "NumMedia": 0}
		body, _ := json.Marshal(msg)
		hashed := body
		switch r.IntN(4) {
		case 0: // the body was changed after it was hashed
			msg["Body"] = "changed"
			body, _ = json.Marshal(msg)
		case 1:
			hashed = []byte("{}")
		}
		sum := sha256.Sum256(hashed)
		target := "/webhooks/twilio/sms?bodySHA256=" + hex.EncodeToString(sum[:])
		urls := signingURLs(pub, target)
		signedFor := urls[r.IntN(len(urls))]
		var sig string
		if r.IntN(6) == 0 {
			sig = server.TwilioSignature(token, signedFor, url.Values{"Body": {"x"}}) // not the URL alone
		} else {
			sig = server.TwilioSignature(token, signedFor, nil)
		}
		want := validator.ValidateBody(pub+target, body, sig)
		code := postSigned(h, target, "application/json", string(body), sig)
		if got := code == http.StatusOK; got != want {
			t.Fatalf("case %d, signed for %s: answered %d, twilio-go accepts: %v", i, signedFor, code, want)
		}
		if want {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 30 || refused < 30 {
		t.Fatalf("the generated cases do not cover both outcomes: %d accepted, %d refused", accepted, refused)
	}
}

// TestSecondaryAuthToken: during a rotation a request signed with either
// FLOWC_TWILIO_AUTH_TOKEN or FLOWC_TWILIO_AUTH_TOKEN_SECONDARY is taken;
// one signed with any other token is not, nor one signed with the
// secondary when none is configured.
func TestSecondaryAuthToken(t *testing.T) {
	const pub = "https://sms.example.com"
	rotating := signedServer(t, server.Config{TwilioAuthToken: "new-token", TwilioAuthTokenSecondary: "old-token", PublicURL: pub})
	single := signedServer(t, server.Config{TwilioAuthToken: "new-token", PublicURL: pub})
	target := "/webhooks/twilio/sms"
	for i, c := range []struct {
		h     http.Handler
		token string
		want  int
	}{
		{rotating, "new-token", http.StatusOK},
		{rotating, "old-token", http.StatusOK},
		{rotating, "stolen-token", http.StatusForbidden},
		{single, "new-token", http.StatusOK},
		{single, "old-token", http.StatusForbidden},
	} {
		form := url.Values{"MessageSid": {fmt.Sprintf("SMrot%d", i)}, "From": {"+15550001111"}, "To": {"+15550100"}, "Body": {"hi"}}
		sig := server.TwilioSignature(c.token, pub+target, form)
		if code := postSigned(c.h, target, "application/x-www-form-urlencoded", form.Encode(), sig); code != c.want {
			t.Errorf("case %d (%s): %d, want %d", i, c.token, code, c.want)
		}
	}
}

// TestAccountSidMustMatch: with FLOWC_TWILIO_ACCOUNT_SID set, a signed
// request for another account (or none) is a 403; unset, any is taken.
func TestAccountSidMustMatch(t *testing.T) {
	const pub, token = "https://sms.example.com", "tok"
	pinned := signedServer(t, server.Config{TwilioAuthToken: token, TwilioAccountSID: "AC1", PublicURL: pub})
	open := signedServer(t, server.Config{TwilioAuthToken: token, PublicURL: pub})
	target := "/webhooks/twilio/sms"
	for i, c := range []struct {
		h       http.Handler
		account string
		want    int
	}{
		{pinned, "AC1", http.StatusOK},
		{pinned, "AC2", http.StatusForbidden},
		{pinned, "", http.StatusForbidden},
		{open, "AC2", http.StatusOK},
	} {
		form := url.Values{"MessageSid": {fmt.Sprintf("SMacct%d", i)}, "From": {"+15550001111"}, "To": {"+15550100"}}
		if c.account != "" {
			form.Set("AccountSid", c.account)
		}
		sig := server.TwilioSignature(token, pub+target, form)
		if code := postSigned(c.h, target, "application/x-www-form-urlencoded", form.Encode(), sig); code != c.want {
			t.Errorf("case %d (AccountSid %q): %d, want %d", i, c.account, code, c.want)
		}
	}
}
