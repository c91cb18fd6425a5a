package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	twilioclient "github.com/twilio/twilio-go/client"

	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// FuzzTwilioWebhook drives the webhook's decode and signature check
// (the whole handler, on a real store with no flows) with arbitrary
// form bodies, query strings and signatures. It must never panic (the
// router's recoverer would answer 500), an unsigned request is never
// taken, a request taken is one Twilio's own validator (twilio-go's
// RequestValidator) accepts for the configured public URL, and one it
// accepts is not refused as unsigned.
//
//	go test ./server/ -run '^$' -fuzz FuzzTwilioWebhook -fuzztime 60s
func FuzzTwilioWebhook(f *testing.F) {
	const token = "fuzz-auth-token-0123456789abcdef"
	const public = "https://sms.example.com"
	for _, seed := range []struct {
		body, query string
		sig         bool
	}{
		{"MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123&From=%2B15550001111&To=%2B15550100&Body=Hello+there&NumMedia=0&NumSegments=1&SmsStatus=received&ApiVersion=2010-04-01", "", true},
		{"SmsSid=SM1&From=%2B15550001111&To=%2B15550100&Body=STOP", "", true},
		{"MessageSid=SM2&From=%2B15550001111&To=%2B15550100&Body=pic&NumMedia=2&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm%2F1&MediaContentType0=image%2Fjpeg&MediaUrl1=x", "", true},
		{"MessageSid=SM3&From=%2B15550001111&To=%2B15550100&Body=caf%C3%A9+%E2%98%95", "tenant=a&x=1", true},
		{"MessageSid=SM4&From=a&From=b&To=%2B15550100&Body=dup", "", true},
		{"MessageSid=SM5&From=%2B1555%0D%0ABcc%3A+x&To=%2B15550100&Body=%00", "", true},
		{"MessageSid=SM6&NumMedia=99999999999999999999&From=1&To=2", "", false},
		{"%zz=1&;;&=&&a", "b=%", true},
		// The JSON variant's URL: the signature is over the URL alone and
		// the body's SHA-256 must match (here it does not).
		{"MessageSid=SM8&From=1&To=2", "bodySHA256=0123abcd", true},
		{"", "", false},
	} {
		f.Add(seed.body, seed.query, "", seed.sig)
	}
	f.Add("MessageSid=SM7&From=1&To=2&Body=x", "", "not-a-signature", false)

	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	s := New(Config{TwilioAuthToken: token, PublicURL: public, Logger: discard}, st)
	h := s.Handler()
	validator := twilioclient.NewRequestValidator(token)

	f.Fuzz(func(t *testing.T, body, query, sig string, sign bool) {
		target := "/webhooks/twilio/sms"
		if query != "" {
			if strings.ContainsAny(query, " #\x00\r\n\t") || len(query) > 1000 {
				return // not a request line a client can send
			}
			target += "?" + query
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			return
		}
		form, formErr := url.ParseQuery(body)
		signedURL := public + target
		if sign {
			q, _ := url.ParseQuery(query)
			if q.Get("bodySHA256") != "" {
				sig = TwilioSignature(token, signedURL, nil) // the JSON variant signs the URL alone
			} else {
				sig = TwilioSignature(token, signedURL, form)
			}
		}
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		code := rec.Code

		if code == http.StatusInternalServerError {
			t.Fatalf("500 (a panic?) for body %q: %s", body, rec.Body)
		}
		if sig == "" && code != http.StatusForbidden && code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
			t.Fatalf("unsigned request answered %d: %q", code, body)
		}
		// twilio-go's validator is the oracle: what it accepts is taken
		// (unless the message itself is bad), what it refuses is a 403.
		accepted := validator.ValidateBody(signedURL, []byte(body), sig)
		if code == http.StatusForbidden && accepted && formErr == nil && len(body) <= MaxRequestBytes {
			t.Fatalf("a request twilio-go accepts was refused: %q %q", body, sig)
		}
		if code == http.StatusOK && !accepted {
			t.Fatalf("taken with a signature twilio-go refuses: %q %q", body, sig)
		}
		if code == http.StatusOK && formErr != nil {
			t.Fatalf("a body that does not parse was taken: %q (%v)", body, formErr)
		}
	})
}

// TestSignatureIsOverThePublicURL: with FLOWC_PUBLIC_URL set, a
// signature made for another URL (the one the request's Host header
// names) is refused and one for the public URL is taken; the fuzz
// target's seeds therefore reach the accepting branch.
func TestSignatureIsOverThePublicURL(t *testing.T) {
	const token = "tok"
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := New(Config{TwilioAuthToken: token, PublicURL: "https://sms.example.com", Logger: discard}, st).Handler()
	body := "MessageSid=SM1&From=%2B15550001111&To=%2B15550100&Body=hi"
	form, _ := url.ParseQuery(body)
	for signed, want := range map[string]int{
		"https://sms.example.com/webhooks/twilio/sms":  http.StatusOK,
		"http://other-app.example/webhooks/twilio/sms": http.StatusForbidden,
	} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/twilio/sms", strings.NewReader(body))
		req.Host = "other-app.example"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", TwilioSignature(token, signed, form))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("signed for %s: %d, want %d", signed, rec.Code, want)
		}
	}
}
