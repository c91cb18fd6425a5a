package inbound

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Bounds on a message's media, as the server's webhook enforces them
// (server/inbound.go uses these and MediaURLProblem, so a .flowtest and a
// webhook accept the same media).
const (
	// MaxMedia bounds the media URLs of a message (Twilio's own limit).
	MaxMedia = 10
	// MaxMediaURLBytes bounds one media URL.
	MaxMediaURLBytes = 2048
)

// MediaURLProblem says what is wrong with u as a media URL, as a phrase
// to follow the URL's name ("is not an http(s) URL …"), or "" when it is
// one the server accepts: an absolute http(s) URL with a host, valid
// UTF-8 without control characters, at most MaxMediaURLBytes long.
func MediaURLProblem(u string) string {
	if len(u) > MaxMediaURLBytes {
		return fmt.Sprintf("is longer than %d bytes", MaxMediaURLBytes)
	}
	if !utf8.ValidString(u) {
		return "is not an http(s) URL (it is not valid UTF-8)"
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return "is not an http(s) URL (it contains a control character)"
		}
	}
	p, err := url.Parse(u)
	if err != nil || !(strings.EqualFold(p.Scheme, "http") || strings.EqualFold(p.Scheme, "https")) || p.Host == "" {
		return "is not an absolute http(s) URL"
	}
	return ""
}

// CheckMediaURL is MediaURLProblem as an error naming the URL.
func CheckMediaURL(u string) error {
	if p := MediaURLProblem(u); p != "" {
		if len(u) > MaxMediaURLBytes {
			return fmt.Errorf("media URL %s", p)
		}
		return fmt.Errorf("media %q %s", u, p)
	}
	return nil
}
