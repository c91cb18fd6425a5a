package server_test

// Found in review: what a user or operator expects of holds, offers,
// transfers, tokens and the directory.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// An inbox item marked done through the admin API (how an operator
// without agent tokens works the inbox) ends the hold its delivery left:
// the contact's next text runs the flow again.
func TestInboxItemDoneReleasesTheHold(t *testing.T) {
	const flow = `flow desk
numbers "+15550970"
timezone "UTC"
reply "Thanks, Bob will text you."
inbox user:bob
`
	h := startFlowAt(t, nil, "desk.flow", flow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	if got := h.text(ann, "+15550970", "my order is late"); got != twiml("Thanks, Bob will text you.") {
		t.Fatalf("first text: %s", got)
	}
	_, body := h.admin("GET", "/v1/admin/inbox/user/bob", adminToken, nil)
	var items []struct{ ID int64 }
	if err := json.Unmarshal(body, &items); err != nil || len(items) != 1 {
		t.Fatalf("bob's inbox: %s", body)
	}
	if code, body := h.admin("POST", fmt.Sprintf("/v1/admin/inbox/items/%d/done", items[0].ID), adminToken, nil); code != http.StatusOK {
		t.Fatalf("mark done: %d %s", code, body)
	}
	if got := h.text(ann, "+15550970", "hello again"); got != twiml("Thanks, Bob will text you.") {
		t.Fatalf("after bob's item is done the contact's next text is swallowed: %s; want the flow again", got)
	}
}

// A transfer to a team none of whose members is available would sit with
// nobody: it is refused (409) and the conversation stays open with the
// person, who may transfer it elsewhere.
func TestTransferToATeamNobodyCanTakeIsRefused(t *testing.T) {
	const c = "+15551009001"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			h.mustAct(c, qNumber, accept("bob"))
			_, err := h.act(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "team:night"})
			if code := server.HTTPStatus(err); code != http.StatusConflict {
				t.Fatalf("a transfer to team:night, dave away: %v (%d), want 409", err, code)
			}
			if tk := h.ticket(c, qNumber); tk == nil || tk.Status != queue.Open || tk.Assignee != "bob" {
				t.Fatalf("after the refused transfer: %+v, want it still open with bob", tk)
			}
			if _, err := h.act(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "user:carol"}); err != nil {
				t.Errorf("bob transfers to carol instead: %v", err)
			}
		})
	}
}

// Removing a user from the directory revokes their tokens: a new user
// given the same name later does not inherit the old person's token.
func TestRemovedUsersTokenStaysDead(t *testing.T) {
	h := startFlowAt(t, nil, "q.flow", agentFlow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	carol := h.agentToken("carol")
	var d server.Directory
	_, body := h.admin("GET", "/v1/admin/directory", adminToken, nil)
	json.Unmarshal(body, &d)
	orig := body
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
		t.Fatalf("PUT without carol: %d %s", code, body)
	}
	if code, _ := h.admin("GET", "/v1/agent/me", carol, nil); code != http.StatusUnauthorized {
		t.Fatalf("removed carol: %d", code)
	}
	var back server.Directory
	json.Unmarshal(orig, &back)
	if code, body := h.admin("PUT", "/v1/admin/directory", adminToken, back); code != http.StatusOK {
		t.Fatalf("PUT with a carol again: %d %s", code, body)
	}
	if code, _ := h.admin("GET", "/v1/agent/me", carol, nil); code != http.StatusUnauthorized {
		t.Errorf("the old carol's token opens the new carol's account: %d, want 401", code)
	}
}

// A user removed from the directory through one replica is refused by
// another replica's agent API at once (requireAgent reads the stored
// directory), not only after that replica's next step.
func TestRemovedUserRefusedOnEveryReplica(t *testing.T) {
	const c = "+15551009002"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 2)
			a, b := hs[0], hs[1]
			a.text(c, qNumber, "hi")
			a.mustAct(c, qNumber, accept("bob"))
			tk := a.ticket(c, qNumber)
			id := server.ConversationID(c, qNumber, tk.Started)
			bob := b.agentToken("bob")
			var d server.Directory
			_, body := a.admin("GET", "/v1/admin/directory", adminToken, nil)
			json.Unmarshal(body, &d)
			for i, u := range d.Users {
				if u.Name == "bob" {
					d.Users = append(d.Users[:i], d.Users[i+1:]...)
					break
				}
			}
			for i := range d.Teams {
				d.Teams[i].Members = removeName(d.Teams[i].Members, "bob")
			}
			if code, body := a.admin("PUT", "/v1/admin/directory", adminToken, d); code != http.StatusOK {
				t.Fatalf("PUT without bob: %d %s", code, body)
			}
			if code, body := b.admin("GET", "/v1/agent/conversations/"+id, bob, nil); code != http.StatusUnauthorized {
				t.Errorf("removed bob reads the thread on the other replica: %d %.80s", code, body)
			}
			if code, body := b.admin("POST", "/v1/agent/conversations/"+id+"/reply", bob, server.AgentAction{Text: "still here"}); code != http.StatusUnauthorized {
				t.Errorf("removed bob replies on the other replica: %d %.80s", code, body)
			}
		})
	}
}

// An offer to a member who then goes away passes on to the available
// members at once (a dispatch step), not only when its reservation runs
// out (or never, without reserve).
func TestGoingAwayPassesOffersOn(t *testing.T) {
	const c = "+15551009003"
	st, _ := queueStores[0].db(t)(t)
	h := startQueue(t, st, nil, 0)
	h.text(c, qNumber, "hi")
	tk := h.ticket(c, qNumber)
	if tk.Status != queue.Offered || len(tk.Offered) != 1 {
		t.Fatalf("offered: %+v", tk)
	}
	first := tk.Offered[0]
	if code, body := h.admin("PATCH", "/v1/admin/directory/users/"+first, adminToken, map[string]any{"available": false}); code != http.StatusOK {
		t.Fatalf("%s away: %d %s", first, code, body)
	}
	tk = h.ticket(c, qNumber)
	if fmt.Sprint(tk.Offered) == "["+first+"]" {
		t.Errorf("%s went away, the offer stays with them: %+v (with no `reserve`, forever)", first, tk)
	}
}

// Making a member available through PUT /v1/admin/directory (the whole
// directory) offers them the waiting conversations, oldest first, as a
// PATCH of one user does: first come, first served holds.
func TestDirectoryPutDispatchesWaiting(t *testing.T) {
	const first, second = "+15551009004", "+15551009005"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(first, qNightNumber, "hi")
			h.wantTicket(first, qNightNumber, queue.Waiting, "")
			var d server.Directory
			_, body := h.admin("GET", "/v1/admin/directory", adminToken, nil)
			json.Unmarshal(body, &d)
			yes := true
			for i := range d.Users {
				if d.Users[i].Name == "dave" {
					d.Users[i].Available = &yes
				}
			}
			if code, body := h.admin("PUT", "/v1/admin/directory", adminToken, d); code != http.StatusOK {
				t.Fatalf("PUT dave available: %d %s", code, body)
			}
			h.advance(time.Second)
			h.text(second, qNightNumber, "hi")
			h.wantTicket(second, qNightNumber, queue.Offered, "", "dave")
			h.wantTicket(first, qNightNumber, queue.Offered, "", "dave") // fails: still waiting, behind the newer one
		})
	}
}

// A text joining a conversation an inbox holds (inbox user:bob) reaches
// that inbox too, so an operator working the inbox (not the agent API)
// sees it.
func TestJoinedTextReachesTheInbox(t *testing.T) {
	const flow = `flow desk
numbers "+15550971"
timezone "UTC"
reply "Thanks, Bob will text you."
inbox user:bob
`
	h := startFlowAt(t, nil, "desk.flow", flow, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nil)
	h.text(ann, "+15550971", "my order is late")
	h.text(ann, "+15550971", "it is order #123")
	_, body := h.admin("GET", "/v1/admin/inbox/user/bob", adminToken, nil)
	if !json.Valid(body) || !contains(string(body), "order #123") {
		t.Fatalf("bob's inbox lacks the contact's second text: %s", body)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// A queue with no max does not make entries conflict at commit: two
// replicas' texts into it, nobody to offer either to, both commit (the
// waiting count decided nothing).
func TestUnlimitedQueueEntryDoesNotConflict(t *testing.T) {
	ctx := context.Background()
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 2)
			a, b := hs[0], hs[1]
			pa, err := server.PrepareStep(a.srv, ctx, server.Inbound{SID: "SMrvw1", From: "+15554100001", To: qNightNumber, Body: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			pb, err := server.PrepareStep(b.srv, ctx, server.Inbound{SID: "SMrvw2", From: "+15554100002", To: qNightNumber, Body: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			server.CommitTogether(a.srv, pa)
			if _, err := pa.Wait(); err != nil {
				t.Fatal(err)
			}
			server.CommitTogether(b.srv, pb)
			if _, err := pb.Wait(); err != nil {
				t.Errorf("B's entry into a queue without max, offered to nobody: %v; want committed", err)
			}
		})
	}
}

// TestWaitingConversationsAreOfferedAtStart: a conversation waiting with
// nobody available, and a server started again with a directory where a
// member is back (directory.json edited while it was down): the start's
// DispatchWaiting offers it at once, not at its next limit.
func TestWaitingConversationsAreOfferedAtStart(t *testing.T) {
	const c = "+15551009011"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNightNumber, "hi")
			h.wantTicket(c, qNightNumber, queue.Waiting, "")
			path := filepath.Join(t.TempDir(), "directory.json")
			back := strings.Replace(queueDirectory, `"email": "dave@example.com", "available": false}`, `"email": "dave@example.com"}`, 1)
			if back == queueDirectory {
				t.Fatal("the test's directory no longer has dave away")
			}
			if err := os.WriteFile(path, []byte(back), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := server.LoadDirectory(path)
			if err != nil {
				t.Fatal(err)
			}
			srv := server.New(server.Config{TwilioAuthToken: authToken, Directory: d, Now: h.clock.Now, Logger: quiet}, st)
			if err := srv.Deploy(context.Background(), queuePrograms(t, "")); err != nil {
				t.Fatal(err)
			}
			srv.DispatchWaiting(context.Background())
			h.wantTicket(c, qNightNumber, queue.Offered, "", "dave")
		})
	}
}
