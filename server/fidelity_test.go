package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/sim"
)

// fidelityFlow exercises every part of the inbound stage: a menu (STOP
// and HELP arrive where the flow would re-prompt), a help text, a tag the
// next conversation reads, the directory's contact name, a timeout, and
// MMS media forwarded to a webhook.
const fidelityFlow = `flow fidelity
numbers "+15550700"
timezone "UTC"
help "Fidelity line. Reply STOP to opt out."

when (len(media) > 0) <
  reply "Got your {{len(media)}} picture(s)" then forward webhook:"https://hooks.example.com/mms" then inbox team:support
> else <
  when ("returning" in contact.tags) <
    reply "Welcome back {{contact.name ?? 'there'}}" then inbox team:sales by round-robin
  > else <
    menu "Reply 1 to sign up, 2 for support" <
      1           -> tag "returning" then reply "Thanks {{contact.name ?? 'there'}}!"
      2           -> reply "Support will text you" then inbox team:support
      timeout 10m -> reply "No answer; a person will text you" then inbox user:owner
      else        -> reply "Please reply 1 or 2." then retry 1 then inbox team:sales
    >
  >
>
`

// fidelityStep is one line of a script: a message (with media), or a
// wait that fires the timers falling inside it.
type fidelityStep struct {
	from, body string
	media      []string
	wait       time.Duration
	finish     string // a user who finishes the conversation its inbox gave them
}

// observed is everything a user could notice of one step, and the state
// after it.
type observed struct {
	Replies    []string // answered, or (a timer) sent by SMS
	Deliveries []string // inbox targets, in order
	Forwards   []string // kind:to body
	Waiting    string   // the stored conversation (vm.State JSON), "" when none
	OptedOut   bool
	Tags       []string // the tags flows added to the contact
}

// TestSimulatorIsTheServer drives the same conversations through the
// simulator `flowc run` and `flowc test` use (vm/sim) and through the HTTP
// server (Twilio webhooks, timers fired by the server's timer path on a
// fake clock), and compares every reply, delivery, forward and the state
// after each step.
func TestSimulatorIsTheServer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fidelity.flow"), []byte(fidelityFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, authToken, dir)
	d, err := directory.Load("../examples/directory.json") // the harness's directory
	if err != nil {
		t.Fatal(err)
	}
	prog := h.program(dir)

	const number, stranger = "+15550700", "+15550000009"
	env := &sim.Env{Clock: h.clock.Now(), Directory: d}
	convs := map[string]*sim.Conversation{}
	script := []fidelityStep{
		{from: ann, body: "hi"},
		{from: ann, body: "help"},  // at the menu: the flow's help, the menu stays
		{from: ann, body: "Stop."}, // at the menu: opted out, the conversation ends
		{from: ann, body: "hi"},    // opted out: nothing
		{from: ann, body: "STOP"},  // confirmed once only
		{from: ann, body: "start"},
		{from: ann, body: "hi"},
		{from: ann, body: "1"},  // tag "returning", "Thanks Ann!" from the directory
		{from: ann, body: "hi"}, // the next conversation sees the tag
		{from: ann, finish: "alice"},
		{from: ann, body: "look", media: []string{"https://media.example.com/a.jpg", "https://media.example.com/b.png"}},
		{from: stranger, body: "hi"},
		{from: stranger, wait: 9 * time.Minute}, // nothing due
		{from: stranger, wait: 6 * time.Minute}, // the timeout fires
		{from: stranger, body: "held"},          // the owner's inbox holds it: the text joins
		{from: stranger, finish: "owner"},
		{from: stranger, body: "hi"},
		{from: stranger, body: "x"}, // a re-prompt; the deadline stays
		{from: stranger, body: "2"},
		{from: stranger, body: "START"}, // not opted out: an ordinary message
	}
	for i, s := range script {
		c := convs[s.from]
		if c == nil {
			c = &sim.Conversation{Prog: prog, Env: env, From: s.from, To: number}
			convs[s.from] = c
		}
		name := fmt.Sprintf("step %d (%s %q)", i, s.from, s.body)
		if s.wait > 0 {
			name = fmt.Sprintf("step %d (%s waits %s)", i, s.from, s.wait)
		}
		if s.finish != "" {
			if _, err := c.Agent(context.Background(), inbound.AgentEvent{Kind: inbound.AgentFinish, User: s.finish}); err != nil {
				t.Fatalf("step %d: simulator: %s finishes: %v", i, s.finish, err)
			}
			h.finish(s.from, number, s.finish)
			if c.State != nil {
				t.Errorf("step %d: the simulator's conversation is still held after %s finished it", i, s.finish)
			}
			if w, _, _ := h.storedState(s.from, number); w != "" {
				t.Errorf("step %d: the server's conversation is still there after %s finished it: %s", i, s.finish, w)
			}
			continue
		}
		inboxBefore, outboxBefore := h.allInbox(d), h.outbox("")
		var want observed
		var got observed
		if s.wait == 0 {
			sid := fmt.Sprintf("SM%032d", i)
			m := vm.Message{ID: sid, Body: s.body, Media: s.media, AccountSID: "AC0123"}
			if len(s.media) > 0 {
				m.MediaTypes = []string{"image/jpeg", "image/png"}
			}
			if _, err := c.SendMessage(context.Background(), m); err != nil {
				t.Fatalf("%s: simulator: %v", name, err)
			}
			want = h.simObserved(c, c.Last, false)
			h.clock.Set(env.Clock)
			f := h.form(sid, s.from, number, s.body)
			if len(s.media) > 0 {
				f.Set("NumMedia", fmt.Sprint(len(s.media)))
				for j, u := range s.media {
					f.Set(fmt.Sprintf("MediaUrl%d", j), u)
					f.Set(fmt.Sprintf("MediaContentType%d", j), m.MediaTypes[j])
				}
			}
			code, twiml := h.post(f, h.sign("/webhooks/twilio/sms", f))
			if code != http.StatusOK {
				t.Fatalf("%s: server: %d %s", name, code, twiml)
			}
			if twiml != server.TwiML(want.Replies) {
				t.Errorf("%s: the server answered %s, the simulator %q", name, twiml, want.Replies)
			}
			got.Replies = want.Replies // compared as TwiML just above
		} else {
			fired, err := c.Wait(context.Background(), s.wait)
			if err != nil {
				t.Fatalf("%s: simulator: %v", name, err)
			}
			if len(fired) > 0 {
				want = h.simObserved(c, c.Last, true)
			} else {
				want = h.simObserved(c, nil, true)
			}
			if n := h.fireUntil(s.from, number, env.Clock); n != len(fired) {
				t.Errorf("%s: the server fired %d timers, the simulator %d", name, n, len(fired))
			}
			for _, o := range newOutbox(outboxBefore, h.outbox("")) {
				if o.Kind == "sms" {
					got.Replies = append(got.Replies, o.Body)
				}
			}
		}
		for _, it := range newInbox(inboxBefore, h.allInbox(d)) {
			got.Deliveries = append(got.Deliveries, it.TargetKind+":"+it.TargetName)
		}
		for _, o := range newOutbox(outboxBefore, h.outbox("")) {
			if o.Kind != "sms" {
				got.Forwards = append(got.Forwards, o.Kind+":"+o.To+" "+o.Body)
			}
		}
		got.Waiting, got.OptedOut, got.Tags = h.storedState(s.from, number)
		t.Logf("%s: %+v", name, got)
		if w, g := fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got); w != g {
			t.Errorf("%s:\n simulator %s\n server    %s", name, w, g)
		}
	}
	// The script reached what it set out to: the last words of each part.
	if c := convs[ann]; !slices.Equal(env.AddedTags(ann), []string{"returning"}) || c.OptedOut || c.Last.Outcome != inbound.OutcomeRouted {
		t.Errorf("ann: tags %v, opted out %v, last outcome %s", env.AddedTags(ann), c.OptedOut, c.Last.Outcome)
	}
}

// simObserved is what the simulator's last plan shows, and its state.
func (h *harness) simObserved(c *sim.Conversation, p *inbound.Plan, timer bool) observed {
	o := observed{OptedOut: c.OptedOut, Tags: c.Env.AddedTags(c.From)}
	if c.State != nil {
		b, _ := json.Marshal(c.State)
		o.Waiting = string(b)
	}
	if p == nil {
		return o
	}
	o.Replies = p.Replies
	if timer && len(o.Replies) == 0 {
		o.Replies = nil
	}
	for _, t := range p.Deliver {
		o.Deliveries = append(o.Deliveries, t.String())
	}
	for _, f := range p.Forwards {
		o.Forwards = append(o.Forwards, f.Kind+":"+f.To+" "+f.Body)
	}
	return o
}

// program compiles the flow as the server did (the same version).
func (h *harness) program(dir string) *vm.Program {
	h.t.Helper()
	res, err := lang.Load([]string{dir})
	if err != nil {
		h.t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if len(progs) != 1 || cd.HasErrors() {
		h.t.Fatalf("compile: %v", cd.Err())
	}
	return progs[0]
}

// fireUntil fires the conversation's timers as the server's scheduler
// would with a tick at each deadline up to end, then sets the clock to end.
func (h *harness) fireUntil(contact, number string, end time.Time) int {
	h.t.Helper()
	fired := 0
	for {
		c := h.conversation(contact, number)
		if c == nil || c.Deadline.IsZero() || c.Deadline.After(end) {
			break
		}
		if c.Deadline.After(h.clock.Now()) {
			h.clock.Set(c.Deadline)
		}
		n, err := h.srv.FireTimers(context.Background())
		if err != nil || n == 0 {
			h.t.Fatalf("FireTimers at %s: %d, %v", h.clock.Now(), n, err)
		}
		fired += n
	}
	h.clock.Set(end)
	return fired
}

func (h *harness) conversation(contact, number string) *store.Conversation {
	h.t.Helper()
	var c *store.Conversation
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.Conversation(context.Background(), contact, number)
		if err == store.ErrNotFound {
			c, err = nil, nil
		}
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// storedState is what the store keeps of (contact, number) and contact.
func (h *harness) storedState(contact, number string) (waiting string, optedOut bool, tags []string) {
	h.t.Helper()
	if c := h.conversation(contact, number); c != nil {
		var st vm.State
		if err := json.Unmarshal(c.State, &st); err != nil {
			h.t.Fatal(err)
		}
		b, _ := json.Marshal(&st)
		waiting = string(b)
	}
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		if optedOut, err = tx.OptedOut(context.Background(), contact, number); err != nil {
			return err
		}
		tags, err = tx.ContactTags(context.Background(), contact)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return waiting, optedOut, tags
}

// allInbox is every inbox item of the directory's users and teams, by id.
func (h *harness) allInbox(d *directory.Directory) []store.InboxItem {
	var all []store.InboxItem
	for _, u := range d.Users {
		all = append(all, h.inbox("user", u.Name)...)
	}
	for _, t := range d.Teams {
		all = append(all, h.inbox("team", t.Name)...)
	}
	slices.SortFunc(all, func(a, b store.InboxItem) int { return int(a.ID - b.ID) })
	return all
}

func newInbox(before, after []store.InboxItem) []store.InboxItem {
	seen := map[int64]bool{}
	for _, it := range before {
		seen[it.ID] = true
	}
	var out []store.InboxItem
	for _, it := range after {
		if !seen[it.ID] {
			out = append(out, it)
		}
	}
	return out
}

func newOutbox(before, after []store.OutboxItem) []store.OutboxItem {
	seen := map[int64]bool{}
	for _, it := range before {
		seen[it.ID] = true
	}
	var out []store.OutboxItem
	for _, it := range after {
		if !seen[it.ID] {
			out = append(out, it)
		}
	}
	return out
}
