package directory

import (
	"strings"
	"testing"
)

// TestUserRingIsValidated: a user's phone is E.164 and a client is
// client:IDENTITY or sip:USER@HOST; the error names the user.
func TestUserRingIsValidated(t *testing.T) {
	for _, c := range []struct {
		user User
		err  string
	}{
		{User{Name: "a", Phone: "+15550111", Client: "client:alice"}, ""},
		{User{Name: "a", Client: "sip:alice@example.sip.twilio.com"}, ""},
		{User{Name: "a", Phone: "555-0111"}, `users[0] (a): phone "555-0111" is not an E.164 number`},
		{User{Name: "a", Client: "alice"}, `write client:IDENTITY`},
		{User{Name: "a", Client: "client:al ice"}, `an identity is letters`},
		{User{Name: "a", Client: "sip:alice"}, `sip:USER@HOST`},
	} {
		err := (&Directory{Users: []User{c.user}}).Validate()
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%+v: %v", c.user, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%+v: got %v, want %q", c.user, err, c.err)
		}
	}
}
