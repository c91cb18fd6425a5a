package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// agentToken makes (once per harness and user) a per-user token through
// the admin API.
func (h *harness) agentToken(user string) string {
	h.t.Helper()
	if tok, ok := h.tokens[user]; ok {
		return tok
	}
	code, body := h.admin("POST", "/v1/admin/users/"+user+"/tokens", adminToken, map[string]string{"label": "test"})
	var ans server.UserTokenAnswer
	if err := json.Unmarshal(body, &ans); err != nil || code != http.StatusCreated || ans.Token == "" {
		h.t.Fatalf("token for %s: %d %s", user, code, body)
	}
	if h.tokens == nil {
		h.tokens = map[string]string{}
	}
	h.tokens[user] = ans.Token
	return ans.Token
}

// agent calls the agent API as user.
func (h *harness) agent(user, method, path string, body any) (int, []byte) {
	h.t.Helper()
	return h.admin(method, "/v1/agent"+path, h.agentToken(user), body)
}

const agentFlow = `flow q
numbers "+15550940"
timezone "UTC"
queue team:support round-robin wait 1h <
  on timeout -> end
>
`

// TestAgentTokensOpenOnlyTheAgentAPI: a user's token opens /v1/agent as
// that user and is refused by every admin route; the admin token is
// refused by the agent API; a revoked token, a made-up one and the token
// of a user removed from the directory are refused; the store keeps no
// token in the clear. Both stores.
func TestAgentTokensOpenOnlyTheAgentAPI(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startFlowAt(t, sc.open(t), "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
			bob := h.agentToken("bob")
			if !strings.HasPrefix(bob, "flowc_u_") {
				t.Errorf("token %q lacks its prefix", bob)
			}
			code, body := h.agent("bob", "GET", "/me", nil)
			var me server.AgentMe
			if json.Unmarshal(body, &me); code != http.StatusOK || me.User != "bob" || !strings.Contains(strings.Join(me.Teams, ","), "support") {
				t.Fatalf("GET /v1/agent/me as bob: %d %s", code, body)
			}
			for _, rt := range adminRoutes(t, h.srv) {
				path := strings.NewReplacer("{flow}", "q", "{number}", "+15550940", "{user}", "bob", "{phone}", "+15550001111",
					"{kind}", "team", "{name}", "support", "{id}", "1", "{sid}", "SM1", "{entry}", "x", "{team}", "support").Replace(rt[1])
				if code, body := h.admin(rt[0], path, bob, map[string]any{}); code != http.StatusUnauthorized {
					t.Errorf("%s %s with an agent's token: %d %s, want 401", rt[0], path, code, body)
				}
			}
			if code, _ := h.admin("GET", "/v1/agent/me", adminToken, nil); code != http.StatusUnauthorized {
				t.Errorf("GET /v1/agent/me with the admin token: %d, want 401", code)
			}
			if code, _ := h.admin("GET", "/v1/agent/me", "flowc_u_madeup", nil); code != http.StatusUnauthorized {
				t.Errorf("a made-up token: %d, want 401", code)
			}
			// Revoked: refused from then on.
			var list []store.UserToken
			_, body = h.admin("GET", "/v1/admin/users/bob/tokens", adminToken, nil)
			if json.Unmarshal(body, &list); len(list) != 1 || strings.Contains(string(body), bob) {
				t.Fatalf("bob's tokens: %s", body)
			}
			if code, body := h.admin("DELETE", "/v1/admin/users/bob/tokens/"+itoa(list[0].ID), adminToken, nil); code != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", code, body)
			}
			if code, _ := h.admin("GET", "/v1/agent/me", bob, nil); code != http.StatusUnauthorized {
				t.Errorf("a revoked token: %d, want 401", code)
			}
			// A user gone from the directory.
			carol := h.agentToken("carol")
			var d server.Directory
			_, body = h.admin("GET", "/v1/admin/directory", adminToken, nil)
			json.Unmarshal(body, &d)
			for i, u := range d.Users {
				if u.Name == "carol" {
					d.Users = append(d.Users[:i], d.Users[i+1:]...)
					break
				}
			}
			for i := range d.Teams {
				d.Teams[i].Members = removeName(d.Teams[i].Members, "carol")
			}
			if code, body := h.admin("PUT", "/v1/admin/directory", adminToken, d); code != http.StatusOK {
				t.Fatalf("PUT directory without carol: %d %s", code, body)
			}
			if code, _ := h.admin("GET", "/v1/agent/me", carol, nil); code != http.StatusUnauthorized {
				t.Errorf("the token of a user removed from the directory: %d, want 401", code)
			}
			if code, _ := h.admin("POST", "/v1/admin/users/nobody/tokens", adminToken, nil); code != http.StatusNotFound {
				t.Errorf("a token for a user not in the directory: %d, want 404", code)
			}
		})
	}
}

func removeName(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// TestAgentsActOnlyOnTheirConversations: every agent route on a
// conversation offered to someone else is 403 and changes nothing; the
// one it is offered to may act.
func TestAgentsActOnlyOnTheirConversations(t *testing.T) {
	h := startFlowAt(t, nil, "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	h.text(ann, "+15550940", "hi")
	tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), ann, "+15550940")
	if err != nil || len(tk.Offered) != 1 || tk.Offered[0] != "bob" {
		t.Fatalf("ticket %+v %v: want it offered to bob", tk, err)
	}
	id := server.ConversationID(ann, "+15550940", tk.Started)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/conversations/" + id, nil},
		{"POST", "/conversations/" + id + "/accept", nil},
		{"POST", "/conversations/" + id + "/reply", server.AgentAction{Text: "hello"}},
		{"POST", "/conversations/" + id + "/transfer", server.AgentAction{To: "user:carol"}},
		{"POST", "/conversations/" + id + "/finish", nil},
		{"POST", "/conversations/" + id + "/notes", server.AgentAction{Text: "mine now"}},
	} {
		if code, body := h.agent("carol", c.method, c.path, c.body); code != http.StatusForbidden {
			t.Errorf("carol %s %s: %d %s, want 403", c.method, c.path, code, body)
		}
	}
	if code, body := h.agent("carol", "GET", "/conversations", nil); code != http.StatusOK || strings.Contains(string(body), id) {
		t.Errorf("carol's list: %d %s, want it without bob's offer", code, body)
	}
	if code, body := h.agent("bob", "POST", "/conversations/"+id+"/accept", nil); code != http.StatusOK {
		t.Fatalf("bob accepts: %d %s", code, body)
	}
	if code, body := h.agent("bob", "POST", "/conversations/"+id+"/notes", server.AgentAction{Text: "called back"}); code != http.StatusCreated {
		t.Fatalf("bob's note: %d %s", code, body)
	}
	code, body := h.agent("bob", "GET", "/conversations/"+id, nil)
	var th server.AgentThread
	if json.Unmarshal(body, &th); code != http.StatusOK || th.Assignee != "bob" || len(th.Messages) != 1 || th.Messages[0].Body != "hi" ||
		len(th.Notes) != 1 || th.Notes[0].Body != "called back" {
		t.Errorf("bob's thread: %d %s", code, body)
	}
	if code, _ := h.agent("bob", "GET", "/conversations/cv_bogus", nil); code != http.StatusNotFound {
		t.Errorf("a bogus id: %d, want 404", code)
	}
}

// TestAvailabilityChangesOnTwoReplicasKeepBoth: two replicas (each with
// its own copy of the directory) change users' availability and a
// contact one after the other; the stored directory keeps every change
// (each reads the stored directory under its lock, not the replica's
// copy).
func TestAvailabilityChangesOnTwoReplicasKeepBoth(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			a := startFlowAt(t, sc.open(t), "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
			d, err := server.LoadDirectory("../examples/directory.json")
			if err != nil {
				t.Fatal(err)
			}
			srv := server.New(server.Config{TwilioAuthToken: authToken, AdminToken: adminToken, Directory: d, Now: a.clock.Now, Logger: quiet}, a.store)
			if _, _, err := srv.EnsureAdminToken(context.Background()); err != nil {
				t.Fatal(err)
			}
			srv.SetReady(true)
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			b := &harness{t: t, srv: srv, http: hs, store: a.store, clock: a.clock}
			if code, body := a.agent("bob", "PUT", "/me/availability", map[string]bool{"available": false}); code != http.StatusOK {
				t.Fatalf("bob away through A: %d %s", code, body)
			}
			if code, body := b.admin("PATCH", "/v1/admin/directory/users/carol", adminToken, map[string]any{"available": false, "weight": 3}); code != http.StatusOK {
				t.Fatalf("carol away through B: %d %s", code, body)
			}
			if code, body := a.admin("PATCH", "/v1/admin/contacts/+15551239999", adminToken, map[string]any{"name": "Zoe"}); code != http.StatusOK {
				t.Fatalf("a contact through A: %d %s", code, body)
			}
			if code, body := b.admin("PATCH", "/v1/admin/directory/users/alice", adminToken, map[string]any{"available": false}); code != http.StatusOK {
				t.Fatalf("alice away through B: %d %s", code, body)
			}
			_, body := b.admin("GET", "/v1/admin/directory", adminToken, nil)
			var got server.Directory
			json.Unmarshal(body, &got)
			away := map[string]bool{}
			for _, u := range got.Users {
				if u.Available != nil && !*u.Available {
					away[u.Name] = true
				}
				if u.Name == "carol" && u.Weight != 3 {
					t.Errorf("carol's weight %d, want 3", u.Weight)
				}
			}
			if !away["bob"] || !away["carol"] || !away["alice"] {
				t.Errorf("users away in the stored directory: %v, want alice, bob and carol", away)
			}
			if !strings.Contains(string(body), "Zoe") {
				t.Error("the contact patched through A was lost by B's change")
			}
		})
	}
}

// finish has user finish the conversation contact/number holds (a
// queue's or an inbox's: vm/inbound's holds), through Server.Act, so that
// the contact's next text starts the flow again.
func (h *harness) finish(contact, number, user string) {
	h.t.Helper()
	tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), contact, number)
	if err != nil {
		h.t.Fatalf("the conversation %s/%s is held by nobody: %v", contact, number, err)
	}
	if _, err := h.srv.Act(context.Background(), server.ConversationID(contact, number, tk.Started), inbound.AgentEvent{Kind: inbound.AgentFinish, User: user}); err != nil {
		h.t.Fatalf("%s finishes %s/%s: %v", user, contact, number, err)
	}
}

// TestInboxDeliveryHoldsTheConversation: a text delivered to a team's
// inbox leaves the conversation held by the team: each member sees it
// in their list and may reply; the contact's next texts join it (no
// answer, shown in the thread) until a member finishes it; then the flow
// runs again.
func TestInboxDeliveryHoldsTheConversation(t *testing.T) {
	const flow = `flow desk
numbers "+15550960"
timezone "UTC"
reply "Thanks, the desk will text you."
inbox team:support
`
	h := startFlowAt(t, nil, "desk.flow", flow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	if got := h.text(ann, "+15550960", "my order is late"); got != twiml("Thanks, the desk will text you.") {
		t.Fatalf("first text: %s", got)
	}
	if got := h.text(ann, "+15550960", "order #123"); got != twiml() {
		t.Fatalf("a text while the team holds it: %s, want no answer", got)
	}
	var ids []string
	for _, user := range []string{"bob", "carol"} {
		_, body := h.agent(user, "GET", "/conversations", nil)
		var list struct{ Conversations []server.AgentConversation }
		json.Unmarshal(body, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].Assignee != "team:support" {
			t.Fatalf("%s's list: %s", user, body)
		}
		ids = append(ids, list.Conversations[0].ID)
	}
	if code, body := h.agent("alice", "GET", "/conversations/"+ids[0], nil); code != http.StatusForbidden {
		t.Errorf("alice (not of support) reads it: %d %s", code, body)
	}
	_, body := h.agent("carol", "GET", "/conversations/"+ids[1], nil)
	var th server.AgentThread
	if json.Unmarshal(body, &th); len(th.Messages) != 2 || th.Messages[1].Body != "order #123" {
		t.Errorf("the thread: %s", body)
	}
	if code, body := h.agent("carol", "POST", "/conversations/"+ids[1]+"/reply", server.AgentAction{Text: "It ships today."}); code != http.StatusOK {
		t.Fatalf("carol replies: %d %s", code, body)
	}
	if code, body := h.agent("bob", "POST", "/conversations/"+ids[0]+"/finish", nil); code != http.StatusOK {
		t.Fatalf("bob finishes: %d %s", code, body)
	}
	if got := h.text(ann, "+15550960", "one more thing"); got != twiml("Thanks, the desk will text you.") {
		t.Fatalf("after the finish: %s, want the flow again", got)
	}
}

// TestConversationNotesAreBounded: a conversation keeps at most
// MaxConversationNotes notes; the next is refused (422) and the thread
// still reads.
func TestConversationNotesAreBounded(t *testing.T) {
	h := startFlowAt(t, nil, "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	h.text(ann, "+15550940", "hi")
	tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), ann, "+15550940")
	if err != nil {
		t.Fatal(err)
	}
	id := server.ConversationID(ann, "+15550940", tk.Started)
	for i := range server.MaxConversationNotes {
		if code, body := h.agent("bob", "POST", "/conversations/"+id+"/notes", server.AgentAction{Text: "note"}); code != http.StatusCreated {
			t.Fatalf("note %d: %d %s", i, code, body)
		}
	}
	if code, body := h.agent("bob", "POST", "/conversations/"+id+"/notes", server.AgentAction{Text: "one too many"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("the note past the bound: %d %s, want 422", code, body)
	}
	if code, _ := h.agent("bob", "GET", "/conversations/"+id, nil); code != http.StatusOK {
		t.Fatalf("the thread: %d", code)
	}
}

// TestAgentAPIRefusesBadRequests: an empty or over-long reply, an unknown
// field, malformed JSON and a transfer to nobody of the directory are
// 400s naming what is wrong, and none of them reaches the contact.
func TestAgentAPIRefusesBadRequests(t *testing.T) {
	h := startFlowAt(t, nil, "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	h.text(ann, "+15550940", "hi")
	tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), ann, "+15550940")
	if err != nil {
		t.Fatal(err)
	}
	id := server.ConversationID(ann, "+15550940", tk.Started)
	if code, body := h.agent("bob", "POST", "/conversations/"+id+"/accept", nil); code != http.StatusOK {
		t.Fatalf("accept: %d %s", code, body)
	}
	for _, c := range []struct {
		path string
		body any
		want string
	}{
		{"reply", server.AgentAction{Text: "   "}, "text is empty"},
		{"reply", server.AgentAction{Text: strings.Repeat("x", server.MaxOutboundBodyRunes+1)}, "at most"},
		{"reply", map[string]string{"txt": "hello"}, "unknown field"},
		{"notes", server.AgentAction{Text: "bad\x00byte"}, "NUL"},
		{"transfer", server.AgentAction{To: "user:nobody"}, "not user:NAME or team:NAME of the directory"},
		{"transfer", server.AgentAction{To: "bob"}, "not user:NAME or team:NAME"},
	} {
		code, body := h.agent("bob", "POST", "/conversations/"+id+"/"+c.path, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %+v: %d %s, want 400 saying %q", c.path, c.body, code, body, c.want)
		}
	}
	if n := len(h.outbox("")); n != 0 {
		t.Errorf("%d texts reached the outbox from refused requests", n)
	}
}
