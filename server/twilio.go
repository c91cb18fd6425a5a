package server

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
	twilioclient "github.com/twilio/twilio-go/client"
)

// TwilioSignature computes X-Twilio-Signature for a form-encoded request
// the way Twilio does and twilio-go checks it: HMAC-SHA1, keyed with the
// auth token, over the full URL followed by every parameter's name and
// (first) value, sorted by name; base64-encoded. For tests and tools
// that sign requests; the server checks with twilio-go (verifyTwilio).
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		if v := params[k]; len(v) > 0 {
			b.WriteString(v[0])
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verifyTwilio reports whether r is a request Twilio signed, and is to be
// taken: every Twilio endpoint (the inbound webhook, status callbacks)
// calls it before acting on a request. In dev mode (no auth token) every
// request is taken.
//
// body is the raw request body when the caller has it, which the JSON
// variant needs (Twilio then puts ?bodySHA256=HEX in the URL, signs the
// URL alone, and the body's SHA-256 must match); form is the request's
// parameters (the parsed body, or the JSON body's fields), used when body
// is nil and for the AccountSid check.
//
// The signature is checked with twilio-go's RequestValidator against the
// configured public URL (never the Host header), so what Twilio's own
// library accepts is accepted: among others a URL signed with or without
// its default port (Twilio does both). During a rotation of the auth
// token both FLOWC_TWILIO_AUTH_TOKEN and FLOWC_TWILIO_AUTH_TOKEN_SECONDARY
// are accepted. With FLOWC_TWILIO_ACCOUNT_SID set, a request for another
// account (its AccountSid parameter) is refused too, even if signed: the
// token may be shared by subaccounts.
func (s *Server) verifyTwilio(r *http.Request, form url.Values, body []byte) bool {
	if s.cfg.DevMode() {
		return true
	}
	refuse := func(why string) bool {
		s.log.Warn("twilio request refused", "request_id", middleware.GetReqID(r.Context()), "reason", why)
		return false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return refuse("no X-Twilio-Signature")
	}
	fullURL := s.publicURL(r)
	ok := false
	for _, token := range []string{s.cfg.TwilioAuthToken, s.cfg.TwilioAuthTokenSecondary} {
		if token == "" {
			continue
		}
		v := twilioclient.NewRequestValidator(token)
		switch {
		case body != nil:
			ok = v.ValidateBody(fullURL, body, sig)
		case r.URL.Query().Has("bodySHA256"):
			ok = false // the body's hash cannot be checked without the body
		default:
			ok = v.Validate(fullURL, firstValues(form), sig)
		}
		if ok {
			break
		}
	}
	if !ok {
		return refuse("bad X-Twilio-Signature")
	}
	if want := s.cfg.TwilioAccountSID; want != "" && form.Get("AccountSid") != want {
		return refuse("AccountSid is not FLOWC_TWILIO_ACCOUNT_SID")
	}
	return true
}

// firstValues is the parameters as twilio-go's validator reads a form:
// the first value of each.
func firstValues(form url.Values) map[string]string {
	m := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// TwiML renders replies as a Twilio messaging response; no replies give
// an empty <Response/>.
func TwiML(replies []string) string {
	if len(replies) == 0 {
		return xml.Header + "<Response/>"
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Response>")
	for _, r := range replies {
		b.WriteString("<Message>")
		xml.EscapeText(&b, []byte(r))
		b.WriteString("</Message>")
	}
	b.WriteString("</Response>")
	return b.String()
}
