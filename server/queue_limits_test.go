package server_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// The queues' limits through the server's Go API, with the fake clock,
// on both stores. A conversation texting qNumber is queued for
// team:support (bob, then carol, round-robin), at most 2 waiting;
// qNightNumber's queue is team:night, whose only member (dave) is away,
// so its conversations wait; qFiveNumber is team:support's at most 5.
const (
	qNumber      = "+15550760"
	qNightNumber = "+15550761"
	qFiveNumber  = "+15550762"
	qManyNumber  = "+15550763"
	qLookup      = "+15550765" // team:support, after an applet's lookup
)

const (
	qConnecting = "Connecting you"
	qFull       = "All busy"
	qSorry      = "Sorry for the wait"
	qSurvey     = "How satisfied were you, from 1 to 5?"
)

// queuedFlow is a flow that queues the contact for team after saying
// qConnecting: max waiting (0: no limit), a 10-minute wait, a minute's
// reservation, 5 minutes to take a transfer, an hour of silence closes
// it; `on done` asks qSurvey.
func queuedFlow(name, number, team string, max int) string {
	return queuedFlowSaying(name, number, team, max, qSorry)
}

// queuedFlowSaying is queuedFlow whose `on timeout` replies sorry.
func queuedFlowSaying(name, number, team string, max int, sorry string) string {
	limit := ""
	if max > 0 {
		limit = fmt.Sprintf(" max %d", max)
	}
	return fmt.Sprintf(`flow %s
numbers %q
timezone "UTC"
reply %q
queue team:%s round-robin%s wait 10m service-level 2m reserve 1m transfer 5m inactivity 1h <
  on full    -> reply %q then end
  on timeout -> reply %q then end
  on done    -> ask %q as score <
    timeout 1h -> end
  > then reply "Thanks for {{score}}"
>
`, name, number, qConnecting, team, limit, qFull, sorry, qSurvey)
}

// lookupFlow runs an applet (in tests, Config.Applets) before queueing
// for team:support: the bot on start looking the contact up.
const lookupFlow = `flow lookup
numbers "+15550765"
timezone "UTC"
applet wait = "wait.js"

run wait(body) as r < on error -> reply "applet failed" >
reply "Connecting you"
queue team:support round-robin wait 10m reserve 1m <
  on timeout -> reply "Sorry for the wait" then end
>
`

// waitJS is the applet lookupFlow declares (tests run a fake instead).
var waitJS = func() string {
	b, err := os.ReadFile("testdata/wait.js")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// queueDirectory is examples/directory.json's support and sales teams,
// and team:night, whose only member is away.
const queueDirectory = `{
  "users": [
    {"name": "alice", "email": "alice@example.com"},
    {"name": "bob", "email": "bob@example.com"},
    {"name": "carol", "email": "carol@example.com"},
    {"name": "dave", "email": "dave@example.com", "available": false}
  ],
  "teams": [
    {"name": "sales", "members": ["alice", "bob"]},
    {"name": "support", "members": ["bob", "carol"]},
    {"name": "night", "members": ["dave"]}
  ]
}`

// queueStore opens handles on one database of a kind; each handle is
// closed at the test's end unless closed before (close is idempotent).
type queueStore struct {
	name string
	db   func(t *testing.T) func(t *testing.T) (store.Store, func())
}

var queueStores = []queueStore{
	{"sqlite", func(t *testing.T) func(t *testing.T) (store.Store, func()) {
		path := t.TempDir() + "/flowc.db"
		return func(t *testing.T) (store.Store, func()) { return closing(t, openSQLite(t, path)) }
	}},
	{"postgres", func(t *testing.T) func(t *testing.T) (store.Store, func()) {
		u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
		return func(t *testing.T) (store.Store, func()) { return closing(t, openPostgres(t, u)) }
	}},
}

func closing(t *testing.T, st store.Store) (store.Store, func()) {
	var once sync.Once
	c := func() { once.Do(func() { st.Close() }) }
	t.Cleanup(c)
	return st, c
}

// queuePrograms compiles the queue flows; the night queue's `on
// timeout` replies sorry ("": qSorry).
func queuePrograms(t *testing.T, sorry string) []*vm.Program {
	t.Helper()
	key := t.Name() + "\x00" + sorry
	if p, ok := compiledQueues.Load(key); ok {
		return p.([]*vm.Program)
	}
	progs := compileQueues(t, sorry)
	compiledQueues.Store(key, progs)
	return progs
}

// compiledQueues are queuePrograms' by test and sorry: the replicas of a
// test deploy the same programs (the applet's path is in a program, and
// a version is its content's).
var compiledQueues, queueDirs sync.Map

func compileQueues(t *testing.T, sorry string) []*vm.Program {
	t.Helper()
	dir, _ := queueDirs.LoadOrStore(t.Name(), t.TempDir()) // one per test: a new version is a redeploy from the same place
	writeFiles(t, dir.(string), map[string]string{
		"queued.flow": queuedFlow("queued", qNumber, "support", 2),
		"night.flow":  queuedFlowSaying("night", qNightNumber, "night", 0, cmp.Or(sorry, qSorry)),
		"five.flow":   queuedFlow("five", qFiveNumber, "support", 5),
		"many.flow":   queuedFlow("many", qManyNumber, "support", 0),
		"lookup.flow": lookupFlow,
		"wait.js":     waitJS,
	})
	res, err := lang.Load([]string{dir.(string)})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flows do not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	return progs
}

// startQueue serves the queue flows on st with queueDirectory and the
// clock clk (nil: a new one, Monday 2026-11-23 10:00 UTC), as one
// replica or one run of `flowc serve`: a fresh server deploys the same
// flows. seq numbers its texts' SIDs (distinct per replica).
func startQueue(t *testing.T, st store.Store, clk *clock, seq int) *harness {
	t.Helper()
	return startQueueSaying(t, st, clk, seq, "", nil)
}

// startQueueSaying is startQueue deploying queuePrograms(t, sorry), with
// the applet runner applets (nil: none).
func startQueueSaying(t *testing.T, st store.Store, clk *clock, seq int, sorry string, applets func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(path, []byte(queueDirectory), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := server.LoadDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	if clk == nil {
		clk = &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	}
	srv := server.New(server.Config{TwilioAuthToken: authToken, AdminToken: adminToken, Directory: d, Now: clk.Now, Logger: quiet, Applets: applets}, st)
	if err := srv.Deploy(context.Background(), queuePrograms(t, sorry)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &harness{t: t, srv: srv, http: hs, store: st, clock: clk, seq: seq}
}

// ticket is the contact's queue ticket on number; nil when none.
func (h *harness) ticket(contact, number string) *store.QueueTicket {
	h.t.Helper()
	tk, err := h.store.(store.QueueReader).QueueTicket(context.Background(), contact, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// act is a person's action on the contact's queued conversation, named
// by its id as the agent API names it.
func (h *harness) act(contact, number string, a inbound.AgentEvent) (*inbound.QueuePlan, error) {
	h.t.Helper()
	tk := h.ticket(contact, number)
	if tk == nil {
		h.t.Fatalf("%s act %s: %s has no ticket on %s", a.User, a.Kind, contact, number)
	}
	return h.srv.Act(context.Background(), server.ConversationID(contact, number, tk.Started), a)
}

// mustAct is act wanting success.
func (h *harness) mustAct(contact, number string, a inbound.AgentEvent) *inbound.QueuePlan {
	h.t.Helper()
	q, err := h.act(contact, number, a)
	if err != nil {
		h.t.Fatalf("%s %s %s: %v", a.User, a.Kind, contact, err)
	}
	return q
}

func accept(user string) inbound.AgentEvent {
	return inbound.AgentEvent{Kind: inbound.AgentAccept, User: user}
}

// fire runs one round of the timers, wanting n to fire.
func (h *harness) fire(n int) {
	h.t.Helper()
	got, err := h.srv.FireTimers(context.Background())
	if err != nil || got != n {
		h.t.Fatalf("FireTimers = %d, %v; want %d", got, err, n)
	}
}

// advance moves the clock on by d.
func (h *harness) advance(d time.Duration) { h.clock.Set(h.clock.Now().Add(d)) }

// sentTo are the bodies of the outbox items to contact, in order.
func (h *harness) sentTo(contact string) []string {
	h.t.Helper()
	var out []string
	for _, it := range h.outbox("") {
		if it.To == contact {
			out = append(out, it.Body)
		}
	}
	return out
}

// wantTicket checks the contact's ticket's status, assignee and offers.
func (h *harness) wantTicket(contact, number, status, assignee string, offered ...string) {
	h.t.Helper()
	tk := h.ticket(contact, number)
	if tk == nil {
		h.t.Fatalf("%s has no ticket, want %s", contact, status)
	}
	if tk.Status != status || tk.Assignee != assignee || fmt.Sprint(tk.Offered) != fmt.Sprint(offered) {
		h.t.Fatalf("%s's ticket: %s, assignee %q, offered %v; want %s, %q, %v", contact, tk.Status, tk.Assignee, tk.Offered, status, assignee, offered)
	}
}

// wantNoTicket checks that the contact's conversation left the queue.
func (h *harness) wantNoTicket(contact, number string) {
	h.t.Helper()
	if tk := h.ticket(contact, number); tk != nil {
		h.t.Fatalf("%s still has a ticket: %+v", contact, tk)
	}
}

// wantSent checks the outbox's texts to contact.
func (h *harness) wantSent(contact string, bodies ...string) {
	h.t.Helper()
	if got := h.sentTo(contact); fmt.Sprint(got) != fmt.Sprint(bodies) {
		h.t.Fatalf("outbox to %s: %q, want %q", contact, got, bodies)
	}
}

// TestQueueFullAnswersOnFull: with `max 2` and two conversations
// waiting (offered counts: nobody took them yet), the third contact gets
// `on full`'s reply and no ticket; once one of the two is taken there
// is room again.
func TestQueueFullAnswersOnFull(t *testing.T) {
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			for _, c := range []string{"+15551000001", "+15551000002"} {
				if got := h.text(c, qNumber, "hi"); got != twiml(qConnecting) {
					t.Fatalf("%s: %s", c, got)
				}
			}
			if got := h.text("+15551000003", qNumber, "hi"); got != twiml(qConnecting, qFull) {
				t.Fatalf("the third of max 2: %s", got)
			}
			h.wantNoTicket("+15551000003", qNumber)
			if c := h.conversation("+15551000003", qNumber); c != nil {
				t.Fatalf("`on full` ends the conversation, still stored: %+v", c)
			}
			h.mustAct("+15551000001", qNumber, accept("bob"))
			if got := h.text("+15551000003", qNumber, "again"); got != twiml(qConnecting) {
				t.Fatalf("with one taken, there is room: %s", got)
			}
		})
	}
}

// TestQueueWaitTimesOut: nobody is available in team:night; after 10
// minutes in the queue `on timeout`'s reply goes out through the outbox
// (a timer's reply), the conversation leaves the queue and ends, once.
func TestQueueWaitTimesOut(t *testing.T) {
	const c = "+15551000011"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			if got := h.text(c, qNightNumber, "hi"); got != twiml(qConnecting) {
				t.Fatalf("hi: %s", got)
			}
			h.wantTicket(c, qNightNumber, queue.Waiting, "")
			h.srv.DispatchUser(context.Background(), "dave") // still away: nobody to offer it to
			h.wantTicket(c, qNightNumber, queue.Waiting, "")
			h.advance(10*time.Minute - time.Second)
			h.fire(0)
			h.advance(time.Second)
			h.fire(1)
			h.wantSent(c, qSorry)
			h.wantNoTicket(c, qNightNumber)
			if conv := h.conversation(c, qNightNumber); conv != nil {
				t.Fatalf("the bot after timeout ended it, still stored: %+v", conv)
			}
			h.fire(0)
			h.wantSent(c, qSorry)
		})
	}
}

// TestQueueReservationPassesOn: bob does not accept his offer within the
// minute; it passes to carol, and bob's late accept is refused (403: it
// is no longer offered to him) while carol's is taken.
func TestQueueReservationPassesOn(t *testing.T) {
	const c = "+15551000021"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			h.wantTicket(c, qNumber, queue.Offered, "", "bob")
			h.advance(59 * time.Second)
			h.fire(0)
			h.advance(time.Second)
			h.fire(1)
			h.wantTicket(c, qNumber, queue.Offered, "", "carol")
			h.wantSent(c)
			q, err := h.act(c, qNumber, accept("bob"))
			if server.HTTPStatus(err) != http.StatusForbidden || !errors.Is(q.Err, queue.ErrNotYours) {
				t.Fatalf("bob's late accept: %v (%d), want 403", err, server.HTTPStatus(err))
			}
			if q := h.mustAct(c, qNumber, accept("carol")); q.Event != inbound.QueueAccepted {
				t.Fatalf("carol's accept: %+v", q)
			}
			h.wantTicket(c, qNumber, queue.Open, "carol")
		})
	}
}

// TestQueueTransferReturns: bob transfers to user:alice, who does not
// take it within 5 minutes: it is bob's again (open), and alice's late
// accept is refused.
func TestQueueTransferReturns(t *testing.T) {
	const c = "+15551000031"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			h.mustAct(c, qNumber, accept("bob"))
			h.advance(time.Minute)
			q := h.mustAct(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "user:alice"})
			if q.Event != inbound.QueueTransferred || fmt.Sprint(q.Offer) != "[alice]" {
				t.Fatalf("transfer: %+v", q)
			}
			h.wantTicket(c, qNumber, queue.Transferring, "bob", "alice")
			h.advance(5*time.Minute - time.Second)
			h.fire(0)
			h.advance(time.Second)
			h.fire(1)
			h.wantTicket(c, qNumber, queue.Open, "bob")
			if _, err := h.act(c, qNumber, accept("alice")); server.HTTPStatus(err) != http.StatusConflict {
				t.Fatalf("alice's late accept: %v, want 409", err)
			}
			h.mustAct(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentReply, User: "bob", Text: "Still me, Bob."})
			h.wantSent(c, "Still me, Bob.")
		})
	}
}

// TestQueueFinishAsksTheSurvey: bob finishes; `on done` asks the survey
// through the outbox, the conversation leaves the queue, and the
// contact's answer is the flow's (it runs), not the queue's.
func TestQueueFinishAsksTheSurvey(t *testing.T) {
	const c = "+15551000041"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			h.mustAct(c, qNumber, accept("bob"))
			h.mustAct(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentReply, User: "bob", Text: "Done, anything else?"})
			q := h.mustAct(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentFinish, User: "bob"})
			if q.Event != inbound.QueueFinished || !q.Left {
				t.Fatalf("finish: %+v", q)
			}
			h.wantSent(c, "Done, anything else?", qSurvey)
			h.wantNoTicket(c, qNumber)
			if _, err := h.srv.Act(context.Background(), server.ConversationID(c, qNumber, time.Now()), accept("bob")); server.HTTPStatus(err) != http.StatusNotFound {
				t.Fatalf("an action on the finished conversation: %v, want 404", err)
			}
			if got := h.text(c, qNumber, "5"); got != twiml("Thanks for 5") {
				t.Fatalf("the survey's answer: %s", got)
			}
			if m := h.message(fmt.Sprintf("SM%032d", h.seq)); m.Outcome == inbound.OutcomeQueued {
				t.Fatalf("the survey's answer joined a queue: %+v", m)
			}
			if conv := h.conversation(c, qNumber); conv != nil {
				t.Fatalf("the survey ended the flow, still stored: %+v", conv)
			}
			if got := h.text(c, qNumber, "hello"); got != twiml(qConnecting) {
				t.Fatalf("the next text starts the flow again: %s", got)
			}
		})
	}
}

// TestQueueInactivityCloses: an hour without a text either way closes
// the open conversation (no survey), and the next text starts the flow
// again.
func TestQueueInactivityCloses(t *testing.T) {
	const c = "+15551000051"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			h.mustAct(c, qNumber, accept("bob"))
			h.advance(30 * time.Minute)
			if got := h.text(c, qNumber, "still there?"); got != twiml() {
				t.Fatalf("a text joining it: %s", got)
			}
			h.advance(59 * time.Minute) // an hour since the contact's last text, not since the accept
			h.fire(0)
			h.wantTicket(c, qNumber, queue.Open, "bob")
			h.advance(time.Minute)
			h.fire(1)
			h.wantNoTicket(c, qNumber)
			h.wantSent(c)
			if conv := h.conversation(c, qNumber); conv != nil {
				t.Fatalf("inactivity ended it, still stored: %+v", conv)
			}
			if got := h.text(c, qNumber, "hi again"); got != twiml(qConnecting) {
				t.Fatalf("the next text starts the flow again: %s", got)
			}
			h.wantTicket(c, qNumber, queue.Offered, "", "carol") // round-robin: bob had the last one
		})
	}
}

// TestQueueTextsJoinUntilFinished: after the handoff, the contact's texts
// join the conversation: the status stays, the flow does not run (no
// reply), each message is stored with outcome "queued" and is in the
// conversation's thread (ContactMessages since its start) in order;
// STOP opts out, closes it and removes the ticket, and the assignee can
// no longer reply.
func TestQueueTextsJoinUntilFinished(t *testing.T) {
	const c = "+15551000061"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			h.text(c, qNumber, "hi")
			started := h.ticket(c, qNumber).Started
			join := func(body, status, assignee string, offered ...string) {
				t.Helper()
				h.advance(time.Second)
				if got := h.text(c, qNumber, body); got != twiml() {
					t.Fatalf("%q: %s, want no reply", body, got)
				}
				if m := h.message(fmt.Sprintf("SM%032d", h.seq)); m.Outcome != inbound.OutcomeQueued {
					t.Fatalf("%q stored with outcome %q, want queued", body, m.Outcome)
				}
				h.wantTicket(c, qNumber, status, assignee, offered...)
				if tk := h.ticket(c, qNumber); !tk.Started.Equal(started) {
					t.Fatalf("%q: the conversation started %v, now %v: it restarted", body, started, tk.Started)
				}
			}
			join("hello?", queue.Offered, "", "bob")
			h.mustAct(c, qNumber, accept("bob"))
			join("my invoice is wrong", queue.Open, "bob")
			h.mustAct(c, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "team:sales"})
			join("hello??", queue.Transferring, "bob", "alice", "bob")
			h.mustAct(c, qNumber, accept("alice"))
			join("thanks alice", queue.Open, "alice")
			if got := h.text(c, qNumber, "HELP"); got != twiml(inbound.DefaultHelp) {
				t.Fatalf("HELP while queued: %s", got)
			}
			h.wantTicket(c, qNumber, queue.Open, "alice")

			var msgs []store.InboxMessage
			err := h.store.InTx(context.Background(), func(tx store.Tx) error {
				var err error
				msgs, _, err = tx.ContactMessages(context.Background(), c, qNumber, started, 100)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, m := range msgs {
				bodies = append(bodies, m.Body)
			}
			if want := "[hi hello? my invoice is wrong hello?? thanks alice HELP]"; fmt.Sprint(bodies) != want {
				t.Fatalf("the conversation's thread: %q, want %s", bodies, want)
			}

			if got := h.text(c, qNumber, "STOP"); got == twiml() {
				t.Fatalf("STOP is confirmed: %s", got)
			}
			h.wantNoTicket(c, qNumber)
			if conv := h.conversation(c, qNumber); conv != nil {
				t.Fatalf("STOP ends it, still stored: %+v", conv)
			}
			if _, err := h.srv.Act(context.Background(), server.ConversationID(c, qNumber, started), inbound.AgentEvent{Kind: inbound.AgentReply, User: "alice", Text: "hello?"}); server.HTTPStatus(err) != http.StatusNotFound {
				t.Fatalf("a reply after STOP: %v, want 404", err)
			}
			h.wantSent(c)
		})
	}
}

// TestFinishDispatchesWithoutHoldingTheConversation: finishing offers the
// team's waiting conversations (dispatch), each in its conversation's
// turn; the finished conversation's own turn is given up first, or two
// people finishing at once, each dispatch waiting for the other's
// conversation, would wait for each other forever (here the other
// finish is played by a turn held on the waiting conversation, and the
// test then takes the finished one's turn, as the other dispatch would).
func TestFinishDispatchesWithoutHoldingTheConversation(t *testing.T) {
	const finished, waiting = "+15551000071", "+15551000072"
	st, _ := queueStores[0].db(t)(t)
	h := startQueue(t, st, nil, 0)
	h.text(finished, qNumber, "hi")
	h.mustAct(finished, qNumber, accept("bob"))
	for _, u := range []string{"bob", "carol"} {
		if code, body := h.admin(http.MethodPatch, "/v1/admin/directory/users/"+u, adminToken, map[string]any{"available": false}); code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", u, code, body)
		}
	}
	h.text(waiting, qNumber, "hi")
	h.wantTicket(waiting, qNumber, queue.Waiting, "")

	waitingKey, finishedKey := waiting+"\x00"+qNumber, finished+"\x00"+qNumber
	server.LockConversation(h.srv, waitingKey)
	dispatching := make(chan struct{}, 1)
	server.SetQueuedHook(h.srv, func(k string) {
		if k == waitingKey {
			dispatching <- struct{}{}
		}
	})
	id := server.ConversationID(finished, qNumber, h.ticket(finished, qNumber).Started)
	acted := make(chan error, 1)
	go func() {
		_, err := h.srv.Act(context.Background(), id, inbound.AgentEvent{Kind: inbound.AgentFinish, User: "bob"})
		acted <- err
	}()
	waitFor(t, dispatching, "the finish's dispatch to wait for the waiting conversation's turn")
	took := make(chan struct{})
	go func() { server.LockConversation(h.srv, finishedKey); close(took) }()
	waitFor(t, took, "the finished conversation's turn while its dispatch waits")
	server.UnlockConversation(h.srv, finishedKey)
	server.UnlockConversation(h.srv, waitingKey)
	if err := waitFor(t, acted, "the finish"); err != nil {
		t.Fatal(err)
	}
	h.wantSent(finished, qSurvey)
	h.wantTicket(waiting, qNumber, queue.Waiting, "")
}

// TestHeldAppletStallsNoOtherStepOfTheQueue: a contact's bot on start
// waits for its applet; another contact's text into the same queue is
// answered meanwhile (steps run outside their team's turn), and the held
// one is queued once released, the two offered to different members.
func TestHeldAppletStallsNoOtherStepOfTheQueue(t *testing.T) {
	const held, other = "+15551000081", "+15551000082"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			entered, release := make(chan struct{}, 1), make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			applets := func(ctx context.Context, _ *vm.Applet, in vm.AppletInput) (any, error) {
				if fmt.Sprint(in.Args...) == "slow" {
					select {
					case entered <- struct{}{}:
					default:
					}
					select {
					case <-release:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
				return "ok", nil
			}
			st, _ := sc.db(t)(t)
			h := startQueueSaying(t, st, nil, 0, "", applets)
			t.Cleanup(free) // before the server closes, should the test fail first
			f := h.form("SMheld", held, qLookup, "slow")
			sig := h.sign("/webhooks/twilio/sms", f)
			answered := make(chan string, 1)
			go func() { code, body := h.post(f, sig); answered <- fmt.Sprint(code, " ", body) }()
			waitFor(t, entered, "the held applet")
			if got := h.text(other, qLookup, "fast"); got != twiml(qConnecting) {
				t.Fatalf("the other contact, while the applet is held: %s", got)
			}
			h.wantTicket(other, qLookup, queue.Offered, "", "bob")
			free()
			if got := waitFor(t, answered, "the held contact's answer"); got != fmt.Sprint("200 ", twiml(qConnecting)) {
				t.Fatalf("the held contact: %s", got)
			}
			h.wantTicket(held, qLookup, queue.Offered, "", "carol")
		})
	}
}
