package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// Queues across restarts and replicas (the Queues issue: "all of this
// survives restarts, SIGKILL and three replicas"), on both stores, with
// queue_limits_test.go's flows and directory.

// replicas starts n servers on one database, each with its own store
// handle (as n processes would), sharing one fake clock.
func replicas(t *testing.T, db func(t *testing.T) (store.Store, func()), n int) []*harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	out := make([]*harness, n)
	for i := range out {
		st, _ := db(t)
		out[i] = startQueue(t, st, clk, 100000*i)
	}
	return out
}

// fireAll runs FireTimers on every replica at once and returns how many
// timers fired in all.
func fireAll(t *testing.T, hs []*harness) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for _, h := range hs {
		wg.Go(func() {
			n, err := h.srv.FireTimers(context.Background())
			mu.Lock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("FireTimers: %v", errs)
	}
	return total
}

// TestQueuedConversationsSurviveARestart: conversations waiting, offered,
// open and transferring when the server closes are all there when a new
// server opens the same store and deploys a new version of the flows (a
// redeploy), and each of their limits fires once, from the new server,
// on the version each conversation started with (the waiting one's
// `on timeout` says the old version's words; a new one's, the new's).
func TestQueuedConversationsSurviveARestart(t *testing.T) {
	const (
		waiting      = "+15552000001" // team:night, nobody available
		offered      = "+15552000002" // offered to bob
		open         = "+15552000003" // carol's
		transferring = "+15552000004" // bob's, transferred to alice
	)
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			db := sc.db(t)
			st, closeStore := db(t)
			a := startQueue(t, st, nil, 0)
			a.text(waiting, qNightNumber, "hi")
			a.text(offered, qNumber, "hi")
			a.text(open, qNumber, "hi")
			a.mustAct(open, qNumber, accept("carol"))
			a.text(transferring, qNumber, "hi")
			a.mustAct(transferring, qNumber, accept("bob"))
			a.mustAct(transferring, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "user:alice"})
			a.http.Close()
			closeStore()

			st2, _ := db(t)
			b := startQueueSaying(t, st2, a.clock, 1000, "Sorry, v2", nil)
			const later = "+15552000005"
			b.text(later, qNightNumber, "hi")
			b.wantTicket(waiting, qNightNumber, queue.Waiting, "")
			b.wantTicket(offered, qNumber, queue.Offered, "", "bob")
			b.wantTicket(open, qNumber, queue.Open, "carol")
			b.wantTicket(transferring, qNumber, queue.Transferring, "bob", "alice")

			b.advance(time.Minute) // 10:01: bob's reservation
			b.fire(1)
			b.fire(0)
			b.wantTicket(offered, qNumber, queue.Offered, "", "carol")
			b.mustAct(offered, qNumber, accept("carol"))
			b.advance(4 * time.Minute) // 10:05: the transfer
			b.fire(1)
			b.fire(0)
			b.wantTicket(transferring, qNumber, queue.Open, "bob")
			b.advance(5 * time.Minute) // 10:10: the wait (the old one's and the new one's)
			b.fire(2)
			b.fire(0)
			b.wantNoTicket(waiting, qNightNumber)
			b.wantSent(later, "Sorry, v2")
			b.advance(50 * time.Minute) // 11:00: carol's silence since 10:00
			b.fire(1)
			b.wantNoTicket(open, qNumber)
			b.advance(5 * time.Minute) // 11:05: the others' silence (since 10:01, 10:05)
			b.fire(2)
			b.fire(0)
			b.wantNoTicket(offered, qNumber)
			b.wantNoTicket(transferring, qNumber)
			b.wantSent(waiting, qSorry)
			for _, c := range []string{offered, open, transferring} {
				b.wantSent(c)
			}
		})
	}
}

// TestReplicasNeverOverfillAQueue: fifteen contacts text a `max 5` queue
// at once through three replicas; every decision that read the queue's
// waiting count is checked again under the team's lock at commit, so
// exactly five are admitted and ten told the queue is full, whatever the
// interleaving. A step that keeps losing the race is answered 503, which
// the provider retries with the same MessageSid (as here).
func TestReplicasNeverOverfillAQueue(t *testing.T) {
	const n = 15
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 3)
			answers := make([]string, n)
			var busy atomic.Int32
			var wg sync.WaitGroup
			for i := range n {
				h := hs[i%3]
				f := h.form(fmt.Sprintf("SMfull%028d", i), fmt.Sprintf("+1555300%04d", i), qFiveNumber, "hi")
				sig := h.sign("/webhooks/twilio/sms", f)
				wg.Go(func() {
					for range 50 {
						code, body := h.post(f, sig)
						if code == http.StatusServiceUnavailable {
							busy.Add(1)
						}
						if code != http.StatusServiceUnavailable {
							answers[i] = fmt.Sprint(code, " ", body)
							return
						}
					}
					answers[i] = "503 fifty times"
				})
			}
			wg.Wait()
			t.Logf("503s: %d", busy.Load())
			admitted, full := 0, 0
			for i, a := range answers {
				switch a {
				case fmt.Sprint("200 ", twiml(qConnecting)):
					admitted++
				case fmt.Sprint("200 ", twiml(qConnecting, qFull)):
					full++
				default:
					t.Errorf("contact %d: %s", i, a)
				}
			}
			if admitted != 5 || full != n-5 {
				t.Fatalf("%d admitted, %d full; want 5 and %d", admitted, full, n-5)
			}
			tickets, err := hs[1].store.(store.QueueReader).TeamTickets(context.Background(), "support", true, 100)
			if err != nil || len(tickets) != 5 {
				t.Fatalf("support's waiting tickets: %d, %v; want 5", len(tickets), err)
			}
			// Round-robin over the five: bob and carol alternate (3 and 2).
			per := map[string]int{}
			for _, tk := range tickets {
				per[fmt.Sprint(tk.Offered)]++
			}
			if per["[bob]"] != 3 || per["[carol]"] != 2 {
				t.Fatalf("offers of the five: %v, want bob 3, carol 2 (round-robin)", per)
			}
		})
	}
}

// TestReplicasRaceForAQueuesDecision: deterministic interleavings of two
// replicas' steps that both read the same queue. Both read an empty
// queue and would offer bob; A commits first, so B's commit finds the
// round-robin memory moved (store.ErrConflict), and B's step run again
// offers carol. With four waiting, both would take the fifth place; B
// commits first, and A's step run again finds the queue full.
func TestReplicasRaceForAQueuesDecision(t *testing.T) {
	ctx := context.Background()
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 3)
			a, b, c := hs[0], hs[1], hs[2]
			race := func(first, second *harness, fromFirst, fromSecond string) (*server.Pending, *server.Pending) {
				t.Helper()
				p1, err := server.PrepareStep(first.srv, ctx, server.Inbound{SID: "SMrace" + fromFirst, From: fromFirst, To: qFiveNumber, Body: "hi"})
				if err != nil {
					t.Fatal(err)
				}
				p2, err := server.PrepareStep(second.srv, ctx, server.Inbound{SID: "SMrace" + fromSecond, From: fromSecond, To: qFiveNumber, Body: "hi"})
				if err != nil {
					t.Fatal(err)
				}
				return p1, p2
			}

			pa, pb := race(a, b, "+15554000001", "+15554000002")
			server.CommitTogether(a.srv, pa)
			if ans, err := pa.Wait(); err != nil || fmt.Sprint(ans.Replies) != fmt.Sprint([]string{qConnecting}) {
				t.Fatalf("A's step: %+v, %v", ans, err)
			}
			server.CommitTogether(b.srv, pb)
			if _, err := pb.Wait(); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("B's step read the queue before A's commit: %v, want ErrConflict", err)
			}
			a.wantTicket("+15554000001", qFiveNumber, queue.Offered, "", "bob")
			if got := b.text("+15554000002", qFiveNumber, "hi"); got != twiml(qConnecting) {
				t.Fatalf("B again: %s", got)
			}
			a.wantTicket("+15554000002", qFiveNumber, queue.Offered, "", "carol")
			c.text("+15554000003", qFiveNumber, "hi")
			a.text("+15554000004", qFiveNumber, "hi")
			c.wantTicket("+15554000003", qFiveNumber, queue.Offered, "", "bob")
			c.wantTicket("+15554000004", qFiveNumber, queue.Offered, "", "carol")

			pa, pb = race(a, b, "+15554000005", "+15554000006")
			server.CommitTogether(b.srv, pb)
			if ans, err := pb.Wait(); err != nil || fmt.Sprint(ans.Replies) != fmt.Sprint([]string{qConnecting}) {
				t.Fatalf("B's step for the fifth place: %+v, %v", ans, err)
			}
			server.CommitTogether(a.srv, pa)
			if _, err := pa.Wait(); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("A's step for the fifth place: %v, want ErrConflict", err)
			}
			if got := a.text("+15554000005", qFiveNumber, "hi"); got != twiml(qConnecting, qFull) {
				t.Fatalf("A again: %s, want the queue full", got)
			}
			a.wantNoTicket("+15554000005", qFiveNumber)
			c.wantTicket("+15554000006", qFiveNumber, queue.Offered, "", "bob")
		})
	}
}

// TestReplicasFireEachQueueLimitOnce: conversations at each limit, and
// all three replicas running their timers at once at each deadline:
// every limit fires once in all (a reservation passes on once, a
// transfer returns once, the wait's reply is sent once, inactivity
// closes once).
func TestReplicasFireEachQueueLimitOnce(t *testing.T) {
	ctx := context.Background()
	night := []string{"+15555000001", "+15555000002", "+15555000003", "+15555000004"}
	const (
		open1, open2 = "+15555000011", "+15555000012" // bob's, carol's
		xfer1, xfer2 = "+15555000021", "+15555000022" // bob's, carol's, transferred to alice
		off1, off2   = "+15555000031", "+15555000032" // offered to bob, to carol
	)
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 3)
			a, b, c := hs[0], hs[1], hs[2]
			for i, n := range night {
				hs[i%3].text(n, qNightNumber, "hi")
			}
			a.text(open1, qFiveNumber, "hi")
			b.mustAct(open1, qFiveNumber, accept("bob"))
			b.text(open2, qFiveNumber, "hi")
			c.mustAct(open2, qFiveNumber, accept("carol"))
			c.text(xfer1, qFiveNumber, "hi")
			a.mustAct(xfer1, qFiveNumber, accept("bob"))
			b.mustAct(xfer1, qFiveNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "user:alice"})
			a.text(xfer2, qFiveNumber, "hi")
			c.mustAct(xfer2, qFiveNumber, accept("carol"))
			a.mustAct(xfer2, qFiveNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "carol", To: "user:alice"})
			b.text(off1, qFiveNumber, "hi")
			c.text(off2, qFiveNumber, "hi")
			a.wantTicket(off1, qFiveNumber, queue.Offered, "", "bob")
			a.wantTicket(off2, qFiveNumber, queue.Offered, "", "carol")

			stage := func(d time.Duration, want int) {
				t.Helper()
				a.advance(d)
				if got := fireAll(t, hs); got != want {
					t.Fatalf("at %s: %d timers fired on the three replicas, want %d", a.clock.Now().Format("15:04"), got, want)
				}
				if got := fireAll(t, hs); got != 0 {
					t.Fatalf("at %s: %d fired again", a.clock.Now().Format("15:04"), got)
				}
			}
			stage(time.Minute, 2) // 10:01: the reservations pass on
			a.wantTicket(off1, qFiveNumber, queue.Offered, "", "carol")
			a.wantTicket(off2, qFiveNumber, queue.Offered, "", "bob")
			b.mustAct(off1, qFiveNumber, accept("carol"))
			c.mustAct(off2, qFiveNumber, accept("bob"))
			stage(4*time.Minute, 2) // 10:05: the transfers return
			a.wantTicket(xfer1, qFiveNumber, queue.Open, "bob")
			a.wantTicket(xfer2, qFiveNumber, queue.Open, "carol")
			stage(5*time.Minute, 4) // 10:10: the night queue's wait
			for _, n := range night {
				a.wantSent(n, qSorry)
				a.wantNoTicket(n, qNightNumber)
			}
			stage(50*time.Minute, 2) // 11:00: open1, open2 idle for an hour
			stage(time.Minute, 2)    // 11:01: off1, off2
			stage(4*time.Minute, 2)  // 11:05: xfer1, xfer2
			left, err := a.store.(store.QueueReader).TeamTickets(ctx, "support", false, 100)
			if err != nil || len(left) != 0 {
				t.Fatalf("tickets left: %+v, %v", left, err)
			}
			if got := len(a.outbox("")); got != len(night) {
				t.Fatalf("%d outbox items, want the %d replies of the wait", got, len(night))
			}
		})
	}
}

// TestAcceptOnOneReplicaIsSeenByAnother: bob accepts on replica A;
// replica B refuses a second accept (409), sees bob as the assignee
// (his reply through B goes out), and when two replicas race two
// members' accepts of a transfer to a team, exactly one wins.
func TestAcceptOnOneReplicaIsSeenByAnother(t *testing.T) {
	const contact = "+15556000001"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 3)
			a, b, c := hs[0], hs[1], hs[2]
			c.text(contact, qNumber, "hi")
			a.mustAct(contact, qNumber, accept("bob"))
			for _, who := range []string{"bob", "carol"} {
				q, err := b.act(contact, qNumber, accept(who))
				if server.HTTPStatus(err) != http.StatusConflict || !errors.Is(q.Err, queue.ErrState) {
					t.Fatalf("%s's accept on B after bob's on A: %v (%d), want 409", who, err, server.HTTPStatus(err))
				}
			}
			b.wantTicket(contact, qNumber, queue.Open, "bob")
			b.mustAct(contact, qNumber, inbound.AgentEvent{Kind: inbound.AgentReply, User: "bob", Text: "Bob via B"})
			c.mustAct(contact, qNumber, inbound.AgentEvent{Kind: inbound.AgentTransfer, User: "bob", To: "team:sales"})
			b.wantTicket(contact, qNumber, queue.Transferring, "bob", "alice", "bob")

			var (
				wg   sync.WaitGroup
				errs [2]error
			)
			for i, who := range []string{"alice", "bob"} {
				h := hs[i]
				id := server.ConversationID(contact, qNumber, h.ticket(contact, qNumber).Started)
				wg.Go(func() { _, errs[i] = h.srv.Act(context.Background(), id, accept(who)) })
			}
			wg.Wait()
			won := slices.IndexFunc(errs[:], func(err error) bool { return err == nil })
			lost := 1 - won
			if won < 0 || server.HTTPStatus(errs[lost]) != http.StatusConflict {
				t.Fatalf("racing accepts: %v; want one taken, the other 409", errs)
			}
			c.wantTicket(contact, qNumber, queue.Open, []string{"alice", "bob"}[won])
			c.wantSent(contact, "Bob via B")
		})
	}
}

// TestBurstIntoOneQueueIsAnswered: thirty contacts text one round-robin
// queue at once on one server. Each step's offer depends on the team's
// round-robin memory, which every other's commit moves; the steps take
// turns at the team to commit, and one that finds it changed runs again
// reading it in its turn, so every text is answered (before, most were
// answered 503 after MaxStepAttempts), the offers alternate, and the
// thirty reservations passing at once all fire in one round, without
// error.
func TestBurstIntoOneQueueIsAnswered(t *testing.T) {
	const n = 30
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			st, _ := sc.db(t)(t)
			h := startQueue(t, st, nil, 0)
			answers := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				f := h.form(fmt.Sprintf("SMburst%027d", i), fmt.Sprintf("+1555800%04d", i), qManyNumber, "hi")
				sig := h.sign("/webhooks/twilio/sms", f)
				wg.Go(func() { code, body := h.post(f, sig); answers[i] = fmt.Sprint(code, " ", body) })
			}
			wg.Wait()
			for i, a := range answers {
				if a != fmt.Sprint("200 ", twiml(qConnecting)) {
					t.Errorf("contact %d: %s", i, a)
				}
			}
			offers := func() map[string]int {
				tickets, err := h.store.(store.QueueReader).TeamTickets(context.Background(), "support", true, 100)
				if err != nil || len(tickets) != n {
					t.Fatalf("support's waiting tickets: %d, %v; want %d", len(tickets), err, n)
				}
				per := map[string]int{}
				for _, tk := range tickets {
					per[fmt.Sprint(tk.Offered)]++
				}
				return per
			}
			if per := offers(); per["[bob]"] != n/2 || per["[carol]"] != n/2 {
				t.Fatalf("offers: %v, want %d each (round-robin)", per, n/2)
			}
			h.advance(time.Minute)
			h.fire(n)
			if per := offers(); per["[bob]"] != n/2 || per["[carol]"] != n/2 {
				t.Fatalf("offers after the reservations passed: %v, want %d each", per, n/2)
			}
		})
	}
}

// TestAvailabilityOnOneReplicaDispatchesOnAnother: a conversation waits
// in team:night (dave is away); dave is made available through replica
// A's admin API, and replica B's dispatch (DispatchUser, as when a member
// becomes available) offers it to him, reading the directory A stored;
// dave accepts through replica C, which sees the offer.
func TestAvailabilityOnOneReplicaDispatchesOnAnother(t *testing.T) {
	const contact = "+15557000001"
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 3)
			a, b, c := hs[0], hs[1], hs[2]
			c.text(contact, qNightNumber, "hi")
			b.advance(3 * time.Minute)
			b.srv.DispatchUser(context.Background(), "dave")
			b.wantTicket(contact, qNightNumber, queue.Waiting, "")
			if code, body := a.admin(http.MethodPatch, "/v1/admin/directory/users/dave", adminToken, map[string]any{"available": true}); code != http.StatusOK {
				t.Fatalf("PATCH dave through A: %d %s", code, body)
			}
			b.srv.DispatchUser(context.Background(), "dave")
			b.wantTicket(contact, qNightNumber, queue.Offered, "", "dave")
			q := c.mustAct(contact, qNightNumber, accept("dave"))
			if !q.Taken || q.Waited != 3*time.Minute || q.WithinServiceLevel {
				t.Fatalf("dave's accept: %+v; want taken after 3m, over the 2m service level", q)
			}
			c.wantTicket(contact, qNightNumber, queue.Open, "dave")
			b.advance(10 * time.Minute) // past the wait: taken, it no longer times out
			if got := fireAll(t, hs); got != 0 {
				t.Fatalf("%d timers fired for a taken conversation", got)
			}
			a.wantSent(contact)
		})
	}
}

// TestAcceptRacesTheReservation: bob accepts on replica A just as his
// reservation passes and replica B fires the timer. Exactly one of them
// happens: bob has it (and the timer fired nothing), or it passed to
// carol (and bob's accept is refused, 403).
func TestAcceptRacesTheReservation(t *testing.T) {
	for _, sc := range queueStores {
		t.Run(sc.name, func(t *testing.T) {
			hs := replicas(t, sc.db(t), 2)
			a, b := hs[0], hs[1]
			for i := range 6 {
				contact := fmt.Sprintf("+155590000%02d", i)
				a.text(contact, qManyNumber, "hi")
				if tk := a.ticket(contact, qManyNumber); fmt.Sprint(tk.Offered) != "[bob]" {
					// round-robin: every other one is carol's; let hers be taken
					a.mustAct(contact, qManyNumber, accept("carol"))
					continue
				}
				id := server.ConversationID(contact, qManyNumber, a.ticket(contact, qManyNumber).Started)
				a.advance(time.Minute)
				var (
					wg        sync.WaitGroup
					acceptErr error
					fired     int
					fireErr   error
				)
				wg.Go(func() { _, acceptErr = a.srv.Act(context.Background(), id, accept("bob")) })
				wg.Go(func() { fired, fireErr = b.srv.FireTimers(context.Background()) })
				wg.Wait()
				if fireErr != nil {
					t.Fatal(fireErr)
				}
				switch {
				case acceptErr == nil && fired == 0:
					a.wantTicket(contact, qManyNumber, queue.Open, "bob")
				case server.HTTPStatus(acceptErr) == http.StatusForbidden && fired == 1:
					a.wantTicket(contact, qManyNumber, queue.Offered, "", "carol")
					a.mustAct(contact, qManyNumber, accept("carol")) // no timer left for the next round
				default:
					t.Fatalf("bob's accept: %v; timers fired: %d; ticket %+v", acceptErr, fired, a.ticket(contact, qManyNumber))
				}
			}
		})
	}
}
