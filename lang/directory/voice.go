package directory

import (
	"fmt"
	"regexp"
	"strings"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// E164 reports whether n is an E.164 phone number (+ then up to 15
// digits): one that can be texted.
func E164(n string) bool { return e164.MatchString(n) }

// clientIdentity is a Twilio Client identity: letters, digits and _-.@
// (Twilio's own rule for identities, without spaces).
var clientIdentity = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,121}$`)

// validateRing checks how a call rings the user: an E.164 phone, and a
// client:IDENTITY or sip:USER@HOST.
func (u User) validateRing() error {
	if u.Phone != "" && !e164.MatchString(u.Phone) {
		return fmt.Errorf("phone %q is not an E.164 number (+ then country code and number, digits only)", u.Phone)
	}
	switch c := u.Client; {
	case c == "":
	case strings.HasPrefix(c, "client:"):
		if !clientIdentity.MatchString(strings.TrimPrefix(c, "client:")) {
			return fmt.Errorf("client %q: an identity is letters, digits and _ - . @", c)
		}
	case strings.HasPrefix(c, "sip:"):
		if at := strings.IndexByte(c, '@'); at < len("sip:")+1 || at == len(c)-1 || len(c) > 255 ||
			strings.ContainsAny(c, " <>\"") || strings.IndexFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
			return fmt.Errorf("client %q: a SIP address is sip:USER@HOST", c)
		}
	default:
		return fmt.Errorf("client %q: write client:IDENTITY (Twilio Client) or sip:USER@HOST", c)
	}
	return nil
}

// Ringable reports whether a call can ring the user: it has a phone or
// a client.
func (u User) Ringable() bool { return u.Phone != "" || u.Client != "" }
