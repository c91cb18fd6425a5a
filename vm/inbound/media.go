package inbound

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Bounds on a message's media, as the server's webhook enforces them
// (server/inbound.go keeps its own copy until it calls CheckMediaURL).
const (
	// MaxMedia bounds the media URLs of a message (Twilio's own limit).
	MaxMedia = 10
	// MaxMediaURLBytes bounds one media URL.
	MaxMediaURLBytes = 2048
)

// CheckMediaURL reports whether u is a media URL the server accepts: an
// absolute http(s) URL with a host, valid UTF-8 without control
// characters, at most MaxMediaURLBytes long.
func CheckMediaURL(u string) error {
	if len(u) > MaxMediaURLBytes {
		return fmt.Errorf("media URL is longer than %d bytes", MaxMediaURLBytes)
	}
	bad := func(why string) error { return fmt.Errorf("media %q is not an absolute http(s) URL%s", u, why) }
	if !utf8.ValidString(u) {
		return bad(" (it is not valid UTF-8)")
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return bad(" (it contains a control character)")
		}
	}
	p, err := url.Parse(u)
	if err != nil || !(strings.EqualFold(p.Scheme, "http") || strings.EqualFold(p.Scheme, "https")) || p.Host == "" {
		return bad("")
	}
	return nil
}
