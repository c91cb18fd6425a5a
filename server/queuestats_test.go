package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// statsFlow queues every text to support (bob, then carol, by
// round-robin): two may wait, a minute to accept an offer, 5 minutes
// for a transfer, 10 minutes at most in the queue, a 2-minute service
// level.
const statsFlow = `flow support-stats
numbers "+15550900"
timezone "UTC"

queue team:support round-robin max 2 wait 10m service-level 2m reserve 1m transfer 5m <
  on full    -> reply "All our agents are busy." then end
  on timeout -> reply "Sorry, nobody is free." then end
>
`

const statsNumber = "+15550900"

// queueScenario drives a queue through the server's Go API and the fake
// clock. t0 is the scenario's start.
type queueScenario struct {
	*harness
	t0 time.Time
}

func (q *queueScenario) at(d time.Duration) {
	q.t.Helper()
	q.clock.Set(q.t0.Add(d))
	if _, err := q.srv.FireTimers(context.Background()); err != nil {
		q.t.Fatal(err)
	}
}

// ticket is contact's queued conversation as the store indexes it.
func (q *queueScenario) ticket(contact string) *store.QueueTicket {
	q.t.Helper()
	tk, err := q.store.(store.QueueReader).QueueTicket(context.Background(), contact, statsNumber)
	if err != nil {
		q.t.Fatalf("ticket of %s: %v", contact, err)
	}
	return tk
}

// act is user's kind of action on contact's conversation; user "" is
// whoever it is offered to now.
func (q *queueScenario) act(contact, kind, user, to string) {
	q.t.Helper()
	tk := q.ticket(contact)
	if user == "" {
		if len(tk.Offered) != 1 {
			q.t.Fatalf("%s is offered to %v, want one member", contact, tk.Offered)
		}
		user = tk.Offered[0]
	}
	id := server.ConversationID(contact, statsNumber, tk.Started)
	if _, err := q.srv.Act(context.Background(), id, inbound.AgentEvent{Kind: kind, User: user, To: to}); err != nil {
		q.t.Fatalf("%s %s %s: %v", user, kind, contact, err)
	}
}

// support is GET /v1/admin/queues' support entry.
func (q *queueScenario) support() server.QueueStats {
	q.t.Helper()
	code, body := q.admin("GET", "/v1/admin/queues", adminToken, nil)
	var out server.QueuesResponse
	if code != http.StatusOK || json.Unmarshal(body, &out) != nil {
		q.t.Fatalf("GET /v1/admin/queues: %d %s", code, body)
	}
	for _, s := range out.Queues {
		if s.Team == "support" {
			return s
		}
	}
	q.t.Fatalf("GET /v1/admin/queues has no support queue: %s", body)
	return server.QueueStats{}
}

func (q *queueScenario) scrape() string {
	q.t.Helper()
	resp, err := http.Get(q.http.URL + "/metrics")
	if err != nil {
		q.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestQueueStatisticsMatchAScriptedScenario (the Queues issue: "Service
// level and queue statistics match a scripted scenario exactly"), on
// both stores: three conversations taken within the 2-minute service
// level, one taken after it, one abandoned after the 10-minute wait, one
// refused by the full queue, a transfer that returns, two finishes. The
// service level is 3 / (4 + 1) = 60 %, in the admin API and the metrics.
func TestQueueStatisticsMatchAScriptedScenario(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
			q := &queueScenario{startFlowAt(t, sc.open(t), "support.flow", statsFlow, t0, nil), t0}
			const c1, c2, c3, c4, c5 = "+15551230001", "+15551230002", "+15551230003", "+15551230004", "+15551230005"

			// 0:00 two conversations, offered at once (bob, carol); a
			// third finds the queue full (max 2).
			q.text(c1, statsNumber, "my order is late")
			q.text(c2, statsNumber, "my order is late")
			if got := q.text(c3, statsNumber, "my order is late"); got != twiml("All our agents are busy.") {
				t.Fatalf("the third text with two waiting: %s, want the full queue's reply", got)
			}
			if s := q.support(); s.Waiting != 2 || s.Entered != 2 || s.Offered != 2 || s.Full != 1 || s.ServiceLevelPercent != nil {
				t.Fatalf("after three texts: %+v, want 2 waiting, entered and offered, 1 full, no service level yet", s)
			}
			// 0:30 both taken within the service level; the third
			// contact texts again, and is taken at once.
			q.at(30 * time.Second)
			q.act(c1, inbound.AgentAccept, "", "")
			q.act(c2, inbound.AgentAccept, "", "")
			q.text(c3, statsNumber, "still late")
			q.act(c3, inbound.AgentAccept, "", "")
			// 0:40 bob transfers c1 to carol, who never takes it.
			q.at(40 * time.Second)
			q.act(c1, inbound.AgentTransfer, "bob", "user:carol")
			// 1:00 two more wait.
			q.at(time.Minute)
			q.text(c4, statsNumber, "hello")
			q.text(c5, statsNumber, "hello")
			// Each minute an offer not accepted passes to the next member.
			q.at(2 * time.Minute)
			q.at(3 * time.Minute)
			q.clock.Set(t0.Add(3*time.Minute + 30*time.Second))
			s := q.support()
			if s.Waiting != 2 || s.LongestWaitSeconds != 150 {
				t.Fatalf("at 3:30: %d waiting, longest %vs; want 2 and 150s", s.Waiting, s.LongestWaitSeconds)
			}
			q.checkWaitingList(c4, c5)
			// 3:30 c4 is taken after 2.5 minutes: after the service level.
			q.act(c4, inbound.AgentAccept, "", "")
			for _, d := range []time.Duration{4 * time.Minute, 5 * time.Minute, 5*time.Minute + 40*time.Second} {
				q.at(d) // 5:40 the transfer returns to bob
			}
			if tk := q.ticket(c1); tk.Assignee != "bob" || tk.Status != "open" {
				t.Fatalf("c1 after the transfer time: %+v, want back with bob", tk)
			}
			q.at(6 * time.Minute)
			q.act(c1, inbound.AgentFinish, "bob", "")
			q.act(c2, inbound.AgentFinish, "carol", "")
			// c5 is never taken: at 11:00 it has waited 10 minutes.
			for m := 7; m <= 11; m++ {
				q.at(time.Duration(m) * time.Minute)
			}

			want := server.QueueStats{Team: "support", Waiting: 0,
				Entered: 5, Full: 1,
				// c1-c3 once (c3 the second time); c4 at 1:00, 2:00, 3:00; c5 at 1:00 and
				// each minute to 10:00.
				Offered:  16,
				Accepted: 4, WithinSL: 3,
				Abandoned: 1, AbandonedAfterSL: 1,
				Transferred: 1, Returned: 1, Finished: 2}
			got := q.support()
			if got.ServiceLevelPercent == nil || *got.ServiceLevelPercent != 60 {
				t.Errorf("service level %v, want 60 %%", got.ServiceLevelPercent)
			}
			got.ServiceLevelPercent = nil
			if got != want {
				t.Errorf("support's statistics:\n got %+v\nwant %+v", got, want)
			}
			scrape := q.scrape()
			for _, line := range []string{
				`flowc_queue_waiting{team="support"} 0`,
				`flowc_queue_longest_wait_seconds{team="support"} 0`,
				`flowc_queue_conversations_total{event="entered",team="support"} 5`,
				`flowc_queue_conversations_total{event="offered",team="support"} 16`,
				`flowc_queue_conversations_total{event="accepted",team="support"} 4`,
				`flowc_queue_conversations_total{event="abandoned",team="support"} 1`,
				`flowc_queue_conversations_total{event="transferred",team="support"} 1`,
				`flowc_queue_conversations_total{event="returned",team="support"} 1`,
				`flowc_queue_conversations_total{event="finished",team="support"} 2`,
				`flowc_queue_conversations_total{event="full",team="support"} 1`,
				`flowc_queue_conversations_total{event="within_sl",team="support"} 3`,
				`flowc_queue_conversations_total{event="abandoned_after_sl",team="support"} 1`,
				`flowc_queue_service_level_ratio{team="support"} 0.6`,
				// A directory team with no conversation yet: zeros, and no
				// service level.
				`flowc_queue_waiting{team="sales"} 0`,
				`flowc_queue_conversations_total{event="entered",team="sales"} 0`,
			} {
				if !strings.Contains(scrape, "\n"+line+"\n") {
					t.Errorf("the scrape lacks %s:\n%s", line, grepPrefix(scrape, "flowc_queue_"))
				}
			}
			if strings.Contains(scrape, `flowc_queue_service_level_ratio{team="sales"}`) {
				t.Errorf("a service level for a team that took nothing:\n%s", grepPrefix(scrape, "flowc_queue_service_level"))
			}
		})
	}
}

// checkWaitingList: at 3:30, GET /v1/admin/queues/support lists first
// and second (who came at 1:00), oldest first, with their positions and
// whom they are offered to, a page at a time.
func (q *queueScenario) checkWaitingList(first, second string) {
	q.t.Helper()
	get := func(path string) (int, server.QueueResponse, string) {
		code, body := q.admin("GET", path, adminToken, nil)
		var out server.QueueResponse
		if code == http.StatusOK && json.Unmarshal(body, &out) != nil {
			q.t.Fatalf("GET %s: %s", path, body)
		}
		return code, out, string(body)
	}
	code, all, body := get("/v1/admin/queues/support")
	if code != http.StatusOK || all.Stats.Waiting != 2 || all.More || len(all.Waiting) != 2 {
		q.t.Fatalf("GET /v1/admin/queues/support: %d %s", code, body)
	}
	for i, c := range []string{first, second} {
		w, tk := all.Waiting[i], q.ticket(c)
		want := server.QueueWaitingTicket{Position: i + 1, Conversation: server.ConversationID(c, statsNumber, tk.Started),
			Contact: c, Number: statsNumber, Status: "offered", Offered: tk.Offered, Since: q.t0.Add(time.Minute),
			WaitSeconds: 150, Flow: "support-stats"}
		if len(w.Offered) != 1 || w.Position != want.Position || w.Conversation != want.Conversation || w.Contact != c ||
			w.Number != statsNumber || w.Status != want.Status || w.Offered[0] != tk.Offered[0] || !w.Since.Equal(want.Since) ||
			w.WaitSeconds != want.WaitSeconds || w.Flow != want.Flow {
			q.t.Errorf("waiting[%d] = %+v, want %+v", i, w, want)
		}
	}
	if code, page, body := get("/v1/admin/queues/support?limit=1"); code != http.StatusOK || !page.More || len(page.Waiting) != 1 || page.Waiting[0].Contact != first {
		q.t.Errorf("GET /v1/admin/queues/support?limit=1: %d %s, want %s and more", code, body, first)
	}
	if code, sales, body := get("/v1/admin/queues/sales"); code != http.StatusOK || sales.Stats.Team != "sales" || sales.Stats.Entered != 0 || len(sales.Waiting) != 0 || !strings.Contains(body, `"waiting": []`) {
		q.t.Errorf("GET /v1/admin/queues/sales (a directory team never queued to): %d %s", code, body)
	}
	for path, want := range map[string]int{"/v1/admin/queues/nobody": 404, "/v1/admin/queues/support?limit=0": 400, "/v1/admin/queues/support?limit=1001": 400} {
		if code, _, body := get(path); code != want {
			q.t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
}

func grepPrefix(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
