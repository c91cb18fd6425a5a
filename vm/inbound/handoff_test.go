package inbound_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
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

// TestHandoffTicketAndVariables: a run that ends with an inbox delivery
// keeps the conversation held by the team, its ticket read from the
// saved state as TicketOf reads it, with the variables of the state the
// step resumed (decoded once) and the run's sets over them; a timer's
// run that hands off to a webhook forwards them too.
func TestHandoffTicketAndVariables(t *testing.T) {
	p := compileFlow(t, `flow f
numbers "+15550100"
timezone "UTC"
set a = "one"
set c = "three"
ask "Name?" as name <
  timeout 10m -> forward webhook:"https://agents.example.com/in"
>
set a = "two"
inbox team:sales
`)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	step := func(in inbound.Input, state []byte) *inbound.Plan {
		t.Helper()
		in.Now, in.Msg.From, in.Msg.To = now, "+15557654321", "+15550100"
		in.Route = &inbound.Route{Flow: "f", Version: p.Version, Program: p}
		if state != nil {
			in.Conv = &inbound.Conversation{Flow: "f", Version: p.Version, Program: p, State: state}
		}
		pl, err := inbound.Step(context.Background(), &in, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Save == nil {
			t.Fatalf("step %+v saved nothing: %+v", in.Msg, pl)
		}
		checkSavedTicket(t, p, pl.Save)
		return pl
	}
	vars := func(what string, state []byte, want map[string]any) {
		t.Helper()
		var st vm.State
		if err := json.Unmarshal(state, &st); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if st.Vars[k] != v {
				t.Errorf("%s: variables %v, want %s=%v", what, st.Vars, k, v)
			}
		}
	}
	asked := step(inbound.Input{Msg: vm.Message{ID: "SM1", Body: "hi"}}, nil)
	held := step(inbound.Input{Msg: vm.Message{ID: "SM2", Body: "Ann"}}, asked.Save.State)
	if tk, _ := held.Save.TicketOf(p, held.Save.State); tk == nil || tk.Assignee != "team:sales" || tk.Status != queue.Open {
		t.Fatalf("after the inbox delivery: ticket %+v, want open, held by team:sales", tk)
	}
	vars("held after the inbox delivery", held.Save.State, map[string]any{"a": "two", "c": "three", "name": "Ann"})
	// The timer's run forwards to the webhook, then delivers to the
	// inbox: the webhook holds it (the last forward wins), and the
	// forward carries c (the state's) and a (the run's set).
	now = now.Add(11 * time.Minute)
	fired := step(inbound.Input{Timer: true, Msg: vm.Message{ID: inbound.TimerID("+15557654321", "+15550100", asked.Save.Deadline)}}, asked.Save.State)
	if len(fired.Forwards) != 1 {
		t.Fatalf("timer: forwards %+v, want one webhook", fired.Forwards)
	}
	var body struct {
		Variables map[string]any `json:"variables"`
	}
	if err := json.Unmarshal([]byte(fired.Forwards[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Variables["a"] != "two" || body.Variables["c"] != "three" {
		t.Errorf("timer's webhook forward variables %v, want a=two (the run's) and c=three (the state's)", body.Variables)
	}
	if tk, _ := fired.Save.TicketOf(p, fired.Save.State); tk == nil || tk.Assignee != "webhook:https://agents.example.com/in" {
		t.Errorf("after the webhook handoff: ticket %+v, want held by the webhook", tk)
	}
	vars("held by the webhook", fired.Save.State, map[string]any{"a": "two", "c": "three"})
}
