package server_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
	"github.com/flowc-dev/flowc/vm/scenario"
)

// TestQueueScenariosThroughTheServer: every scenario of
// examples/sms-channel.flowtest (uContact's SMS channel) and
// examples/flex-handoff.flowtest (Send to Flex) runs once, driving both
// the simulator (`flowc test`: every expectation is checked there) and
// the HTTP server with the agent API, step by step; after each step the
// server must have done what the simulator did: the same texts to the
// contact (in the webhook's answer or through the outbox), the same
// forwards (a webhook's carrying the conversation's id), the same
// refusals of agents' actions, the same place in the queue (status, who
// it is offered to, who has it). So the scenarios pass through the
// server too, on both stores.
func TestQueueScenariosThroughTheServer(t *testing.T) {
	for _, name := range []string{"sms-channel", "flex-handoff"} {
		t.Run(name, func(t *testing.T) { runScenariosThroughServer(t, "../examples/"+name+".flow") })
	}
}

func runScenariosThroughServer(t *testing.T, flowPath string) {
	eachScenarioThroughServer(t, flowPath, func(t *testing.T, h *harness, test *scenario.Test, p *vm.Program) scenario.Observer {
		d := &channelDriver{h: h, t: t, contact: test.From, number: p.Numbers[0]}
		t.Cleanup(func() {
			if d.steps == 0 {
				t.Error("the server was never driven")
			}
		})
		return d.observe
	})
}

// eachScenarioThroughServer runs every scenario of the flow's .flowtest
// on a new server of each store, with the observer drive makes for it:
// the simulator checks each expectation, the observer that the server
// did what the simulator did.
func eachScenarioThroughServer(t *testing.T, flowPath string, drive func(t *testing.T, h *harness, test *scenario.Test, p *vm.Program) scenario.Observer) {
	src, err := os.ReadFile(flowPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{flowPath})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() || len(progs) != 1 {
		t.Fatalf("%s: %v %v", flowPath, res.Diags.Err(), cd.Err())
	}
	file, err := scenario.ParseFile(strings.TrimSuffix(flowPath, ".flow") + ".flowtest")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			for _, test := range file.Tests {
				t.Run(test.Name, func(t *testing.T) {
					h := startFlowAt(t, sc.open(t), filepath.Base(flowPath), string(src), time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
					r := scenario.RunWith(context.Background(), test, progs[0], nil, scenario.WithObserver(drive(t, h, test, progs[0])))
					for _, f := range r.Failures {
						t.Errorf("%s: expected %s, got %s", f.Where, f.Expected, f.Got)
					}
				})
			}
		})
	}
}

// channelDriver does each scenario step on the server and compares.
type channelDriver struct {
	h               *harness
	t               *testing.T
	contact, number string
	lastID          string         // the conversation's id as last seen (an action after it ended uses it)
	seen            map[int64]bool // outbox items already compared
	others          int            // conversations seeded as waiting (`queue team:X waiting N`)
	steps           int
}

func (d *channelDriver) observe(ctx context.Context, o scenario.Observed) error {
	d.steps++
	conv := o.Conv
	var got []string
	switch s := o.Step; s.Kind {
	case scenario.StepSend:
		d.h.clock.Set(conv.Env.Clock)
		answer := d.h.text(d.contact, d.number, s.Body)
		got = append(twimlMessages(d.t, answer), d.newTexts()...)
	case scenario.StepWait:
		end := conv.Env.Clock
		for {
			dl := d.deadline()
			if dl.IsZero() || dl.After(end) {
				break
			}
			d.h.clock.Set(dl)
			if _, err := d.h.srv.FireTimers(ctx); err != nil {
				return err
			}
			if d.deadline().Equal(dl) {
				return fmt.Errorf("the timer due at %s did not fire", dl)
			}
		}
		d.h.clock.Set(end)
		got = d.newTexts()
	case scenario.StepAgent:
		d.h.clock.Set(conv.Env.Clock)
		a := s.Agent.Event
		code, body := d.act(a.User, a.Kind, a.Text, a.To)
		if refused := code/100 == 4; refused != (o.Refused != nil) {
			return fmt.Errorf("agent %s %s: the server answered %d %s, the simulator refused: %v", a.User, a.Kind, code, body, o.Refused)
		}
		got = d.newTexts()
	case scenario.StepAvailability:
		d.h.clock.Set(conv.Env.Clock)
		a := s.Agent
		if code, body := d.h.admin("PATCH", "/v1/admin/directory/users/"+a.Event.User, adminToken, map[string]any{"available": a.Available}); code != http.StatusOK {
			return fmt.Errorf("PATCH user %s: %d %s", a.Event.User, code, body)
		}
		got = d.newTexts()
	case scenario.StepQueueWaiting:
		d.seedWaiting(ctx, s.Agent.Team, s.Agent.Waiting)
	case scenario.StepList:
		for _, e := range s.Entries {
			if code, body := d.h.admin("PUT", "/v1/admin/lists/"+s.List+"/"+e, adminToken, nil); code/100 != 2 {
				return fmt.Errorf("PUT list %s entry %s: %d %s", s.List, e, code, body)
			}
		}
	default:
		return fmt.Errorf("the server driver does not take %q", s.Text)
	}
	if want := replies(o.Results); !slices.Equal(got, want) {
		return fmt.Errorf("%q: the server sent %q, the simulator %q", o.Step.Text, got, want)
	}
	if want, got := forwards(o.Results), d.newForwards(); !slices.Equal(got, want) {
		return fmt.Errorf("%q: the server forwarded to %q, the simulator to %q", o.Step.Text, got, want)
	}
	return d.sameTicket(ctx, conv.Ticket())
}

// replies are the texts the simulator's results sent to the contact.
func replies(results []*vm.Result) []string {
	var out []string
	for _, r := range results {
		for _, a := range r.Actions {
			if a.Kind == vm.ActReply {
				out = append(out, a.Text)
			}
		}
	}
	return out
}

func twimlMessages(t *testing.T, answer string) []string {
	var r struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(answer), &r); err != nil {
		t.Fatalf("TwiML %q: %v", answer, err)
	}
	return r.Messages
}

// forwards are the simulator's results' forwards, as kind:target.
func forwards(results []*vm.Result) []string {
	var out []string
	for _, r := range results {
		for _, a := range r.Actions {
			if a.Kind == vm.ActForward {
				out = append(out, a.Target.Kind+":"+a.Target.Name)
			}
		}
	}
	return out
}

// newItems are the outbox's items not seen before that keep says to.
func (d *channelDriver) newItems(keep func(store.OutboxItem) bool) []store.OutboxItem {
	if d.seen == nil {
		d.seen = map[int64]bool{}
	}
	var out []store.OutboxItem
	for _, it := range d.h.outbox("") {
		if keep(it) && !d.seen[it.ID] {
			d.seen[it.ID] = true
			out = append(out, it)
		}
	}
	return out
}

// newTexts are the outbox's texts to the contact not seen before.
func (d *channelDriver) newTexts() []string {
	var out []string
	for _, it := range d.newItems(func(it store.OutboxItem) bool { return it.Kind == "sms" && it.To == d.contact }) {
		out = append(out, it.Body)
	}
	return out
}

// newForwards are the outbox's forwards not seen before, as kind:target;
// a webhook's body must name the conversation (its id, as the agent API
// takes it) and carry the flow's variables.
func (d *channelDriver) newForwards() []string {
	var out []string
	for _, it := range d.newItems(func(it store.OutboxItem) bool { return it.Kind != "sms" }) {
		out = append(out, it.Kind+":"+it.To)
		if it.Kind != "webhook" {
			continue
		}
		var body struct {
			ConversationID string         `json:"conversation_id"`
			Variables      map[string]any `json:"variables"`
		}
		if err := json.Unmarshal([]byte(it.Body), &body); err != nil || body.Variables == nil {
			d.t.Errorf("webhook forward body %s: no variables (%v)", it.Body, err)
		}
		if t, err := d.h.store.(store.QueueReader).QueueTicket(context.Background(), d.contact, d.number); err == nil {
			if id := server.ConversationID(t.Contact, t.Number, t.Started); body.ConversationID != id {
				d.t.Errorf("webhook forward names conversation %q, the agent API %q", body.ConversationID, id)
			}
		}
	}
	return out
}

// deadline is the conversation's timer on the server (zero: none).
func (d *channelDriver) deadline() time.Time {
	var c *store.Conversation
	err := d.h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.Conversation(context.Background(), d.contact, d.number)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || c == nil {
		return time.Time{}
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return c.Deadline
}

// act is an agent's action through the agent API.
func (d *channelDriver) act(user, kind, text, to string) (int, string) {
	id := d.lastID
	if t, err := d.h.store.(store.QueueReader).QueueTicket(context.Background(), d.contact, d.number); err == nil {
		id = server.ConversationID(t.Contact, t.Number, t.Started)
	}
	if id == "" {
		id = server.ConversationID(d.contact, d.number, time.Time{})
	}
	code, out := d.h.agent(user, "POST", "/conversations/"+id+"/"+kind, server.AgentAction{Text: text, To: to})
	return code, string(out)
}

// seedWaiting puts n other conversations in team's queue, ahead of the
// scenario's (entered an hour ago), as `queue team:X waiting N` says.
func (d *channelDriver) seedWaiting(ctx context.Context, team string, n int) {
	err := d.h.store.InTx(ctx, func(tx store.Tx) error {
		for i := range n {
			since := d.h.clock.Now().Add(-time.Hour)
			t := &store.QueueTicket{Contact: fmt.Sprintf("+1555999%04d", d.others+i), Number: d.number, Started: since, Team: team,
				Status: queue.Waiting, Since: since, Updated: since}
			if err := tx.(store.QueueTx).SaveQueueTicket(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	d.others += n
}

// sameTicket compares the server's place in the queue with the simulator's.
func (d *channelDriver) sameTicket(ctx context.Context, want *queue.Ticket) error {
	got, err := d.h.store.(store.QueueReader).QueueTicket(ctx, d.contact, d.number)
	if errors.Is(err, store.ErrNotFound) {
		if want != nil {
			return fmt.Errorf("the server has the conversation in no queue, the simulator %s with %q", want.Status, want.Team)
		}
		return nil
	}
	if err != nil {
		return err
	}
	d.lastID = server.ConversationID(got.Contact, got.Number, got.Started)
	if want == nil {
		return fmt.Errorf("the server has the conversation %s in %q, the simulator in no queue", got.Status, got.Team)
	}
	wantOffered := slices.Sorted(slices.Values(want.Offered))
	if got.Team != want.Team || got.Status != want.Status || got.Assignee != want.Assignee || !slices.Equal(got.Offered, wantOffered) ||
		!got.Since.Equal(want.Since) && got.Since.Sub(want.Since).Abs() >= time.Microsecond {
		return fmt.Errorf("server ticket %s %s assignee %q offered %v since %s; simulator %s %s assignee %q offered %v since %s",
			got.Team, got.Status, got.Assignee, got.Offered, got.Since, want.Team, want.Status, want.Assignee, wantOffered, want.Since)
	}
	return nil
}
