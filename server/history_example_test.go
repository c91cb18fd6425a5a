package server_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestMostRecentExampleThroughTheServer serves examples/most-recent.flow
// (whose .flowtest runs the same cases offline, with `texted by` and
// `called by` lines) and makes each case's history the way production
// does: a person's text is a POST /v1/outbound, a dialer's call a POST
// /v1/interactions, a campaign a POST /v1/outbound with its reply
// address. Each contact's text must then land where the scenario says:
// an inbox item for the user, or an e-mail forward to the number's
// backup address (examples/directory.json).
func TestMostRecentExampleThroughTheServer(t *testing.T) {
	src, err := os.ReadFile("../examples/most-recent.flow")
	if err != nil {
		t.Fatal(err)
	}
	const number = "+15550800" // its backup e-mail is desk@example.com
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startHistoryFlow(t, sc.open(t), string(src), nil)
			call := func(contact, user string, ago time.Duration) {
				t.Helper()
				code, _, out := h.api("/v1/interactions", server.InteractionReport{Contact: contact, Number: number, User: user,
					Direction: "outbound", At: h.clock.Now().Add(-ago).Format(time.RFC3339)})
				if code != http.StatusCreated {
					t.Fatalf("POST /v1/interactions: %d %v", code, out)
				}
			}
			later := func() { h.clock.Set(h.clock.Now().Add(time.Minute)) }
			const texted, called, unknown, campaignUser, campaignEmail = "+15551110001", "+15551110002", "+15550001234", "+15551110004", "+15551110005"
			const ann = "+15557654321" // owned by alice, no history

			// 1. A reply to a text bob sent by hand (carol called before).
			call(texted, "carol", 24*time.Hour)
			h.sendSMS(server.OutboundRequest{From: number, To: texted, Body: "Does Thursday work?", User: "bob"})
			later()
			h.text(texted, number, "Yes, Thursday works")
			// 2. A contact who was only called: whoever called last.
			call(called, "carol", 72*time.Hour)
			call(called, "bob", 24*time.Hour)
			h.text(called, number, "You called me?")
			// 3. A contact with an owner and no history.
			h.text(ann, number, "Hello")
			// 4. An unknown sender: the number's backup e-mail.
			h.text(unknown, number, "Who is this?")
			// The campaign case: its reply user, or its reply e-mail.
			h.sendSMS(server.OutboundRequest{From: number, To: campaignUser, Body: "Spring sale!", Campaign: "spring-sale", ReplyUser: "carol"})
			h.sendSMS(server.OutboundRequest{From: number, To: campaignEmail, Body: "Webinar at 5", Campaign: "webinar", ReplyEmail: "events@example.com"})
			later()
			h.text(campaignUser, number, "Tell me more")
			h.text(campaignEmail, number, "Count me in")

			inboxOf := func(user string) []string {
				var from []string
				for _, it := range h.inbox("user", user) {
					from = append(from, it.Contact)
				}
				slices.Sort(from)
				return from
			}
			for user, want := range map[string][]string{"bob": {texted, called}, "alice": {ann}, "carol": {campaignUser}} {
				if got := inboxOf(user); !slices.Equal(got, want) {
					t.Errorf("user %s's inbox holds texts from %v, want %v", user, got, want)
				}
			}
			// Each forward is an e-mail whose JSON body names the sender.
			emails := map[string][]string{}
			for _, it := range h.outbox("") {
				if it.Kind == "email" {
					var fwd struct{ From string }
					if err := json.Unmarshal([]byte(it.Body), &fwd); err != nil {
						t.Fatalf("e-mail forward body %q: %v", it.Body, err)
					}
					emails[it.To] = append(emails[it.To], fwd.From)
				}
			}
			want := map[string][]string{"desk@example.com": {unknown}, "events@example.com": {campaignEmail}}
			if !maps.EqualFunc(emails, want, slices.Equal) {
				t.Errorf("e-mail forwards by address: %v, want %v", emails, want)
			}
		})
	}
}

// TestInboundTextReportsRefused: a contact's text is recorded by its
// webhook; a report of one is refused naming the field (made first with
// the text's MessageSid, it would have made the webhook's own record a
// duplicate), and the contact's texts route as before.
func TestInboundTextReportsRefused(t *testing.T) {
	h := startHistory(t, nil, nil)
	code, _, out := h.api("/v1/interactions", server.InteractionReport{Kind: "sms", Contact: "+15551110009", Number: histNumber,
		Direction: "inbound", SID: "SM9"})
	if code != http.StatusBadRequest || out["field"] != "direction" {
		t.Fatalf("an inbound text reported: %d %v, want 400 naming direction", code, out)
	}
	if got := h.text("+15551110009", histNumber, "hello"); got != twiml("backup") {
		t.Fatalf("a text after the refused report: %s", got)
	}
}
