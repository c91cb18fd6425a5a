package server

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"sort"
	"strings"
)

// TwilioSignature computes X-Twilio-Signature for a request: HMAC-SHA1,
// keyed with the auth token, over the full public URL followed by every
// POST parameter's name and value, sorted by name; base64-encoded.
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vals := params[k]
		sorted := append([]string(nil), vals...)
		sort.Strings(sorted)
		for _, v := range sorted {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// validTwilioSignature compares in constant time.
func validTwilioSignature(authToken, fullURL string, params url.Values, got string) bool {
	want := TwilioSignature(authToken, fullURL, params)
	return hmac.Equal([]byte(want), []byte(got))
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
