package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/server/store"
)

// The byte bound keeps the newest messages that fit; a single message
// longer than the bound is cut to fit, at a character boundary, and
// marked.
func TestBoundInboxMessages(t *testing.T) {
	msg := func(sid string, n int) store.InboxMessage {
		return store.InboxMessage{SID: sid, Body: strings.Repeat("x", n), Media: []string{}}
	}
	got := boundInboxMessages([]store.InboxMessage{msg("a", 7000), msg("b", 7000), msg("c", 7000), msg("d", 4000)}, MaxInboxMessageBytes)
	if len(got) != 2 || got[0].SID != "c" || got[1].SID != "d" || got[0].Clipped || got[1].Clipped {
		t.Errorf("7000, 7000, 7000, 4000 bytes: kept %d, want c and d whole", len(got))
	}

	url := "https://api.twilio.com/m/" + strings.Repeat("p", 2000)
	long := store.InboxMessage{SID: "e", Body: strings.Repeat("é", 10_000), Media: []string{url}} // 20,000 bytes of body
	got = boundInboxMessages([]store.InboxMessage{msg("a", 10), long}, MaxInboxMessageBytes)
	if len(got) != 1 {
		t.Fatalf("a 22 KB newest message: kept %d messages, want it alone", len(got))
	}
	m := got[0]
	if !m.Clipped || m.SID != "e" || len(m.Media) != 1 || !utf8.ValidString(m.Body) || inboxMessageBytes(m) > MaxInboxMessageBytes ||
		inboxMessageBytes(m) < MaxInboxMessageBytes-1 || !strings.HasPrefix(long.Body, m.Body) {
		t.Errorf("clipped: %d bytes, clipped=%v, %d media, valid UTF-8 %v", inboxMessageBytes(m), m.Clipped, len(m.Media), utf8.ValidString(m.Body))
	}
	if boundInboxMessages(nil, MaxInboxMessageBytes) != nil {
		t.Error("no messages: want none")
	}
}
