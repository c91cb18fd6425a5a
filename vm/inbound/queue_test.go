package inbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

func compileFlow(t *testing.T, src string) *vm.Program {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.flow")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if all := append(append(diag.List{}, res.Diags...), cd...); all.HasErrors() || len(progs) != 1 {
		t.Fatalf("does not compile: %v", all.Err())
	}
	return progs[0]
}

// driver applies plans in memory, as the simulator and the server do.
type driver struct {
	t      *testing.T
	p      *vm.Program
	now    time.Time
	state  []byte
	timer  time.Time
	queues map[string]*inbound.QueueData
	seq    int
}

func (d *driver) step(in inbound.Input) *inbound.Plan {
	d.t.Helper()
	d.seq++
	in.Now, in.Queues = d.now, d.queues
	if in.Msg.ID == "" {
		in.Msg.ID = "SM" + string(rune('0'+d.seq))
	}
	in.Msg.From, in.Msg.To = "+15557654321", "+15550100"
	in.Route = &inbound.Route{Flow: "f", Version: d.p.Version, Program: d.p}
	if d.state != nil {
		in.Conv = &inbound.Conversation{Flow: "f", Version: d.p.Version, Program: d.p, State: d.state}
	}
	p, err := inbound.Step(context.Background(), &in, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	if p.Save != nil {
		checkSavedTicket(d.t, d.p, p.Save)
		d.state, d.timer = p.Save.State, p.Save.Deadline
	} else if p.End {
		d.state, d.timer = nil, time.Time{}
	}
	if q := p.Queue; q != nil && q.Memory != "" {
		d.queues[q.Team].Memory = q.Memory
	}
	return p
}

// checkSavedTicket: Saved.TicketOf (which reads the state the step
// saved, without decoding it) answers what TicketOf, decoding the saved
// JSON, answers.
func checkSavedTicket(t *testing.T, p *vm.Program, s *inbound.Saved) {
	t.Helper()
	type view struct {
		Ticket   *queue.Ticket
		Settings queue.Settings
	}
	memo, memoSettings := s.TicketOf(p, s.State)
	dec, decSettings := inbound.TicketOf(p, s.State)
	got, _ := json.Marshal(view{memo, memoSettings})
	want, _ := json.Marshal(view{dec, decSettings})
	if string(got) != string(want) {
		t.Errorf("Saved.TicketOf:\n%s\nTicketOf of the saved state:\n%s", got, want)
	}
}

func (d *driver) send(body string) *inbound.Plan {
	return d.step(inbound.Input{Msg: vm.Message{Body: body}})
}

func (d *driver) agent(kind, user, text, to string) *inbound.Plan {
	return d.step(inbound.Input{Agent: &inbound.AgentEvent{Kind: kind, User: user, Text: text, To: to}})
}

func (d *driver) fire() *inbound.Plan {
	d.t.Helper()
	if d.timer.IsZero() {
		d.t.Fatal("no timer")
	}
	d.now = d.timer
	return d.step(inbound.Input{Timer: true})
}

const flow = `flow f
numbers "+15550100"
timezone "UTC"
ask "What is it about?" as topic < timeout 1h -> end >
queue team:support round-robin max 2 wait 10m service-level 2m reserve 30s transfer 5m inactivity 1h <
  on full -> reply "busy"
  on timeout -> reply "sorry"
  on done -> ask "Rate us 1-5" as score < timeout 1h -> end >
>
reply "thanks"
`

func newDriver(t *testing.T) *driver {
	return &driver{t: t, p: compileFlow(t, flow), now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		queues: map[string]*inbound.QueueData{"support": {Members: []queue.Member{
			{Name: "alice", Available: true}, {Name: "bob", Available: true}, {Name: "carol", Available: false}}}}}
}

// TestQueuedConversationBelongsToItsAgent: the bot on start, then the
// queue offers it by round-robin; the contact's texts join it (never the
// flow); a reservation that passes moves the offer on; the agent
// accepts, replies, transfers (it returns when not taken in time),
// finishes, and `on done` runs the survey. Someone else cannot act on it.
func TestQueuedConversationBelongsToItsAgent(t *testing.T) {
	d := newDriver(t)
	d.send("hi")
	p := d.send("billing")
	if q := p.Queue; q == nil || q.Event != inbound.QueueEntered || !slices.Equal(q.Offer, []string{"alice"}) || q.Memory != "alice" {
		t.Fatalf("entering: %+v", p.Queue)
	}
	if !d.timer.Equal(d.now.Add(30 * time.Second)) {
		t.Fatalf("timer %v, want the reservation", d.timer)
	}
	p = d.send("hello? anyone?")
	if p.Outcome != inbound.OutcomeQueued || p.Queue.Event != inbound.QueueJoined || len(p.Replies) != 0 || p.Result != nil {
		t.Fatalf("a text while queued: %s %+v", p.Outcome, p.Queue)
	}
	p = d.fire() // alice does not accept in 30s
	if p.Queue.Event != inbound.QueueReoffered || !slices.Equal(p.Queue.Offer, []string{"bob"}) {
		t.Fatalf("reservation passed: %+v", p.Queue)
	}
	if p := d.agent(inbound.AgentAccept, "alice", "", ""); !errors.Is(p.Queue.Err, queue.ErrNotYours) {
		t.Fatalf("alice accepts bob's offer: %+v", p.Queue)
	}
	d.now = d.now.Add(time.Minute)
	p = d.agent(inbound.AgentAccept, "bob", "", "")
	if p.Queue.Event != inbound.QueueAccepted || p.Queue.Waited != 90*time.Second || !p.Queue.WithinServiceLevel {
		t.Fatalf("accept: %+v", p.Queue)
	}
	if p := d.send("are you there"); p.Queue.Notify != "bob" {
		t.Fatalf("joined, notify %q", p.Queue.Notify)
	}
	if p := d.agent(inbound.AgentReply, "bob", "Hi, Bob here", ""); !slices.Equal(p.Replies, []string{"Hi, Bob here"}) {
		t.Fatalf("reply: %v %+v", p.Replies, p.Queue)
	}
	d.agent(inbound.AgentTransfer, "bob", "", "user:carol")
	p = d.fire() // carol does not take it in 5m
	if p.Queue.Event != inbound.QueueReturned || p.Queue.Ticket.Assignee != "bob" {
		t.Fatalf("transfer passed: %+v", p.Queue)
	}
	p = d.agent(inbound.AgentFinish, "bob", "", "")
	if p.Queue.Event != inbound.QueueFinished || !slices.Equal(p.Replies, []string{"Rate us 1-5"}) || p.Save == nil {
		t.Fatalf("finish: %+v %v", p.Queue, p.Replies)
	}
	if p := d.send("5"); !slices.Equal(p.Replies, []string{"thanks"}) || !p.End {
		t.Fatalf("survey answer: %v", p.Replies)
	}
}

// TestQueueLimits: full, time in queue, STOP, inactivity.
func TestQueueLimits(t *testing.T) {
	d := newDriver(t)
	d.queues["support"].Waiting = 2
	d.send("hi")
	if p := d.send("x"); p.Queue == nil || p.Queue.Event != inbound.QueueFull || !slices.Equal(p.Replies, []string{"busy", "thanks"}) {
		t.Fatalf("full: %+v %v", p.Queue, p.Replies)
	}
	d = newDriver(t)
	for _, m := range d.queues["support"].Members {
		m.Available = false
	}
	d.queues["support"].Members = nil // nobody available: it waits
	d.send("hi")
	d.send("x")
	if p := d.fire(); p.Queue.Event != inbound.QueueTimedOut || !slices.Equal(p.Replies, []string{"sorry", "thanks"}) {
		t.Fatalf("timeout: %+v %v", p.Queue, p.Replies)
	}
	d = newDriver(t)
	d.send("hi")
	d.send("x")
	if p := d.send("STOP"); !p.End || p.Queue == nil || p.Queue.Event != inbound.QueueClosed {
		t.Fatalf("STOP: %+v", p.Queue)
	}
	d = newDriver(t)
	d.send("hi")
	d.send("x")
	d.agent(inbound.AgentAccept, "alice", "", "")
	if p := d.fire(); !p.End || p.Queue.Event != inbound.QueueClosed || p.Queue.Notify != "alice" {
		t.Fatalf("inactivity: %+v", p.Queue)
	}
}

// TestTimeoutQueuesAgain: the bot after timeout may queue the
// conversation again, elsewhere; the plan says both.
func TestTimeoutQueuesAgain(t *testing.T) {
	d := newDriver(t)
	d.p = compileFlow(t, `flow f
numbers "+15550100"
timezone "UTC"
queue team:support wait 10m <
  on timeout -> reply "Trying the overflow team." then queue team:overflow linear wait 5m < on timeout -> reply "sorry" then end >
>
`)
	d.queues["support"].Members = nil
	d.queues["overflow"] = &inbound.QueueData{Members: []queue.Member{{Name: "olga", Available: true}}}
	d.send("hi")
	p := d.fire()
	q := p.Queue
	if q == nil || q.Event != inbound.QueueEntered || q.Team != "overflow" || !slices.Equal(q.Offer, []string{"olga"}) ||
		q.Previous == nil || q.Previous.Event != inbound.QueueTimedOut || q.Previous.Team != "support" {
		t.Fatalf("re-queued: %+v (previous %+v)", q, q.Previous)
	}
	if !slices.Equal(p.Replies, []string{"Trying the overflow team."}) {
		t.Fatalf("replies %v", p.Replies)
	}
	if p := d.agent(inbound.AgentAccept, "olga", "", ""); p.Queue.Event != inbound.QueueAccepted {
		t.Fatalf("olga accepts: %+v", p.Queue)
	}
}

// TestDispatchOffersAWaitingConversation: nobody was available; a
// dispatch once someone is offers it, and a dispatch of one already
// offered changes nothing.
func TestDispatchOffersAWaitingConversation(t *testing.T) {
	d := newDriver(t)
	ms := d.queues["support"].Members
	d.queues["support"].Members = nil
	d.send("hi")
	if p := d.send("x"); len(p.Queue.Offer) != 0 || p.Queue.Ticket.Status != queue.Waiting {
		t.Fatalf("nobody available: %+v", p.Queue)
	}
	d.queues["support"].Members = ms
	p := d.step(inbound.Input{Dispatch: true})
	if p.Queue.Event != inbound.QueueOffered || !slices.Equal(p.Queue.Offer, []string{"alice"}) || p.Save == nil || p.Record {
		t.Fatalf("dispatch: %+v", p.Queue)
	}
	if p := d.step(inbound.Input{Dispatch: true}); p.Queue != nil || p.Save != nil {
		t.Fatalf("dispatch of an offered one: %+v", p.Queue)
	}
}
