package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
)

// inboxStores opens, per store, two handles on one new database: the
// second reads what the first wrote, as a restarted server would.
var inboxStores = []struct {
	name string
	two  func(t *testing.T) (store.Store, store.Store)
}{
	{"sqlite", func(t *testing.T) (store.Store, store.Store) {
		path := t.TempDir() + "/flowc.db"
		return openSQLite(t, path), openSQLite(t, path)
	}},
	{"postgres", func(t *testing.T) (store.Store, store.Store) {
		u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
		return openPostgres(t, u), openPostgres(t, u)
	}},
}

// mms sends a signed message with one media URL.
func (h *harness) mms(sid, from, to, body, mediaURL string) string {
	h.t.Helper()
	f := h.form(sid, from, to, body)
	f.Set("NumMedia", "1")
	f.Set("MediaUrl0", mediaURL)
	f.Set("MediaContentType0", "image/jpeg")
	code, out := h.post(f, h.sign("/webhooks/twilio/sms", f))
	if code != http.StatusOK {
		h.t.Fatalf("POST %q: %d %s", body, code, out)
	}
	return out
}

type wantMessage struct {
	body  string
	media []string
	at    time.Time
}

func checkMessages(t *testing.T, what string, it store.InboxItem, omitted int, want ...wantMessage) {
	t.Helper()
	if it.MessagesOmitted != omitted || len(it.Messages) != len(want) {
		t.Fatalf("%s: %d messages (%d omitted), want %d (%d omitted): %+v", what, len(it.Messages), it.MessagesOmitted, len(want), omitted, it.Messages)
	}
	for i, w := range want {
		m := it.Messages[i]
		if m.Body != w.body || fmt.Sprint(m.Media) != fmt.Sprint(w.media) || !m.Received.Equal(w.at) || m.SID == "" {
			t.Errorf("%s: message %d = %+v, want %q with media %q at %s", what, i, m, w.body, w.media, w.at)
		}
	}
}

// After a menu reply, the item shows the whole conversation (not only
// "2"), with the MMS photo; after a menu timeout, what the contact asked
// (not nothing). An earlier conversation of the same contact is not
// part of it. Another server on the same database lists the same.
func TestInboxItemsCarryTheContactsMessages(t *testing.T) {
	for _, o := range inboxStores {
		t.Run(o.name, func(t *testing.T) {
			stA, stB := o.two(t)
			h := startWith(t, setup{token: authToken, store: stA}, "../examples")
			const num, bob = "+15550100", "+15550002222"
			at := func(min int) time.Time { return time.Date(2026, 11, 23, 10, min, 0, 0, ny) }

			// An earlier conversation, ended by its menu reply and finished by
			// the member its inbox gave it to.
			h.clock.Set(at(0))
			h.text(ann, num, "hi")
			h.clock.Set(at(1))
			h.text(ann, num, "1")
			h.finish(ann, num, "alice") // the sales inbox held it until then

			h.clock.Set(at(10))
			if got := h.mms("SMphoto", ann, num, "My order #123 arrived broken", "https://api.twilio.com/m/photo"); got != twiml("Reply 1 for sales, 2 for support") {
				t.Fatalf("first message: %s", got)
			}
			h.clock.Set(at(11))
			h.text(ann, num, "what?")
			h.clock.Set(at(12))
			if got := h.text(ann, num, "2"); got != twiml("Thanks Ann! Support will text you shortly.") {
				t.Fatalf("key 2: %s", got)
			}

			// Bob asks and never picks: the timeout's item.
			h.clock.Set(at(20))
			h.text(bob, num, "Do you ship to Canada?")
			h.clock.Set(at(31))
			if n, err := h.srv.FireTimers(context.Background()); err != nil || n != 1 {
				t.Fatalf("FireTimers: %d, %v", n, err)
			}

			sales := h.inbox("team", "sales")
			if len(sales) != 2 {
				t.Fatalf("sales inbox: %+v", sales)
			}
			checkMessages(t, "the earlier conversation's item", sales[0], 0,
				wantMessage{"hi", nil, at(0)}, wantMessage{"1", nil, at(1)})
			if sales[1].Body != "" || sales[1].Contact != bob {
				t.Errorf("timeout item: %+v", sales[1])
			}
			checkMessages(t, "the timeout's item", sales[1], 0, wantMessage{"Do you ship to Canada?", nil, at(20)})

			support := h.inbox("team", "support")
			if len(support) != 1 || support[0].Body != "2" {
				t.Fatalf("support inbox: %+v", support)
			}
			checkMessages(t, "the menu reply's item", support[0], 0,
				wantMessage{"My order #123 arrived broken", []string{"https://api.twilio.com/m/photo"}, at(10)},
				wantMessage{"what?", nil, at(11)}, wantMessage{"2", nil, at(12)})

			// The admin API of another server on the same database.
			h2 := startWith(t, setup{token: authToken, store: stB}, "../examples")
			tok, _, err := h2.srv.EnsureAdminToken(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			code, body := h2.admin("GET", "/v1/admin/inbox/team/support", tok, nil)
			var listed []struct {
				Body            string
				MessagesOmitted int
				Messages        []struct {
					SID, Body string
					Media     []string
					Received  time.Time
				}
			}
			if err := json.Unmarshal(body, &listed); code != http.StatusOK || err != nil || len(listed) != 1 {
				t.Fatalf("GET inbox: %d %v %s", code, err, body)
			}
			if ms := listed[0].Messages; len(ms) != 3 || ms[0].Body != "My order #123 arrived broken" || ms[0].SID != "SMphoto" ||
				len(ms[0].Media) != 1 || ms[2].Body != "2" || !ms[1].Received.Equal(at(11)) || !strings.Contains(string(body), `"Media": []`) {
				t.Errorf("GET inbox: %s", body)
			}
		})
	}
}

// A long conversation keeps the newest 20 messages and counts the rest.
// The HELP messages the opt-out stage answered in between are part of it:
// the contact wrote them.
func TestInboxItemKeepsTheNewestMessages(t *testing.T) {
	h := start(t, authToken, "../examples")
	const num = "+15550100"
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	h.clock.Set(start)
	h.text(ann, num, "first")
	const helps = 24 // answered with the help text; the menu waits
	for i := range helps {
		h.clock.Set(start.Add(time.Duration(i+1) * time.Second))
		if got := h.text(ann, num, "help"); !strings.Contains(got, "Sales line of Example Co.") {
			t.Fatalf("help: %s", got)
		}
	}
	h.clock.Set(start.Add(time.Minute))
	h.text(ann, num, "2")
	items := h.inbox("team", "support")
	if len(items) != 1 {
		t.Fatalf("support inbox: %+v", items)
	}
	ms, total := items[0].Messages, 1+helps+1
	if len(ms) != server.MaxInboxMessages || items[0].MessagesOmitted != total-server.MaxInboxMessages || ms[len(ms)-1].Body != "2" {
		t.Fatalf("%d messages, %d omitted: %+v", len(ms), items[0].MessagesOmitted, ms)
	}
	for i, m := range ms { // h.text numbers its messages SM…1, SM…2, …
		if want := fmt.Sprintf("SM%032d", total-server.MaxInboxMessages+1+i); m.SID != want {
			t.Errorf("message %d is %s, want %s (the newest, oldest first)", i, m.SID, want)
		}
	}
}
