package inbound_test

import (
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// TestConversationIDNamesOneConversation: an id reads back as its
// contact, number and start; the next conversation of the same contact
// and number has another; text that is not an id is refused.
func TestConversationIDNamesOneConversation(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)
	id := inbound.ConversationID("+15557654321", "+15550500", at)
	c, n, s, err := inbound.ParseConversationID(id)
	if err != nil || c != "+15557654321" || n != "+15550500" || !s.Equal(at) {
		t.Fatalf("ParseConversationID(%q) = %q %q %s %v", id, c, n, s, err)
	}
	if inbound.ConversationID("+15557654321", "+15550500", at.Add(time.Second)) == id {
		t.Error("two conversations of one contact and number share an id")
	}
	for _, bad := range []string{"", "cv_", "cv_!!", "conv_abc", "cv_" + "YQ"} {
		if _, _, _, err := inbound.ParseConversationID(bad); err == nil {
			t.Errorf("ParseConversationID(%q) accepted", bad)
		}
	}
}

// TestOnlyThePlatformActsOnAHandoff: a person may act on what is
// offered to them or theirs; a handed-off conversation only a directory
// user marked platform may act on.
func TestOnlyThePlatformActsOnAHandoff(t *testing.T) {
	d := &directory.Directory{Users: []directory.User{{Name: "bob"}, {Name: "flex", Webhooks: []string{"https://agents.example.com/"}},
		{Name: "desk", Webhooks: []string{"https://helpdesk.example.com/in"}}}}
	hook := "webhook:https://agents.example.com/in"
	for _, c := range []struct {
		assignee string
		offered  []string
		user     string
		want     bool
	}{
		{"bob", nil, "bob", true},
		{"", []string{"bob"}, "bob", true},
		{"", []string{"carol"}, "bob", false},
		{"carol", nil, "flex", false}, // a platform acts on handoffs only
		{hook, nil, "flex", true},
		{hook, nil, "bob", false},
		{hook, nil, "nobody", false},
		{hook, nil, "desk", false}, // another platform's handoff
		{"webhook:https://helpdesk.example.com/in", nil, "desk", true},
		{"webhook:https://helpdesk.example.com/in2", nil, "desk", false}, // an exact URL is no prefix
	} {
		if got := inbound.MayAct(d, c.assignee, c.offered, c.user); got != c.want {
			t.Errorf("MayAct(%q, %v, %q) = %v, want %v", c.assignee, c.offered, c.user, got, c.want)
		}
	}
}

// FuzzConversationID: the agent API's id parser takes any text without
// panicking, and what it accepts names the conversation it was made
// from.
func FuzzConversationID(f *testing.F) {
	f.Add("cv_" + "KzE1NTU3NjU0MzIxfCsxNTU1MDUwMHwxNzk0OTk1MjAwMDAwMDAw")
	f.Add(inbound.ConversationID("+15557654321", "+15550500", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)))
	f.Add("cv_")
	f.Add("not an id")
	f.Fuzz(func(t *testing.T, id string) {
		c, n, s, err := inbound.ParseConversationID(id)
		if err != nil {
			return
		}
		if again := inbound.ConversationID(c, n, s); again != id {
			if c2, n2, s2, err := inbound.ParseConversationID(again); err != nil || c2 != c || n2 != n || !s2.Equal(s) {
				t.Fatalf("%q parses as %q %q %s, which names %q", id, c, n, s, again)
			}
		}
	})
}
