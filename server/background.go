package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Outbox delivery policy.
const (
	// deliveryTimeout bounds one delivery, every network call in it
	// together (DNS, connect, TLS, the request or the SMTP session).
	deliveryTimeout = 20 * time.Second
	// outboxLease: a claimed item is left alone this long. Longer than
	// deliveryTimeout, so an item is not claimed again while its first
	// delivery can still succeed.
	outboxLease       = deliveryTimeout + 10*time.Second
	outboxMaxAttempts = 8
	// outboxWorkers bounds the deliveries in flight in one process (they
	// mostly wait on the network). A destination (the SMS provider, the
	// SMTP server, one webhook host) starts with perDestination of them
	// and grows up to maxPerDestination while it answers fast (senders):
	// a destination that hangs holds at most the workers it had, each
	// until deliveryTimeout.
	outboxWorkers     = 64
	perDestination    = 4
	maxPerDestination = outboxWorkers / 2
	// maxRetryAfter caps a provider's Retry-After.
	maxRetryAfter = time.Hour
)

// retryDelay is the pause before attempt n+1: 1s, 2s, 4s … capped at 10m.
func retryDelay(attempts int) time.Duration {
	d := time.Second << min(attempts-1, 10)
	return min(d, 10*time.Minute)
}

// RunBackground fires due timers and delivers the outbox until ctx is
// done, each on its own ticker of interval: timers and deliveries are
// separate workers, so a delivery that hangs never delays a timer.
func (s *Server) RunBackground(ctx context.Context, interval time.Duration) {
	timers, deliveries := time.NewTicker(interval), time.NewTicker(interval)
	defer timers.Stop()
	defer deliveries.Stop()
	s.runWorkers(ctx, timers.C, deliveries.C)
}

// runWorkers runs the timer loop and the delivery loop, each woken by its
// own ticks, until ctx is done and the deliveries in flight have ended.
func (s *Server) runWorkers(ctx context.Context, timerTicks, deliveryTicks <-chan time.Time) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			if _, err := s.FireTimers(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("timers", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-timerTicks:
			}
		}
	})
	wg.Go(func() {
		var inFlight sync.WaitGroup
		defer inFlight.Wait()
		for {
			if _, err := s.dispatch(ctx, &inFlight, nil); err != nil && ctx.Err() == nil {
				s.log.Error("outbox", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-deliveryTicks:
			case <-s.senders.freed: // a worker is free: refill it now
			}
		}
	})
	wg.Wait()
}

// Timer policy.
const (
	// timerWorkers bounds the timers one process fires at once. A worker
	// holds a connection only for its step's one read: the commits are
	// grouped (groupcommit.go), at most committers transactions at once,
	// so webhooks keep their connections however many workers there
	// are (on PostgreSQL the reads too are grouped, groupread.go). The
	// workers are what fills a group commit's batch and a group read:
	// with 16, a backlog of 20,000 timeouts fired at 3,457/s on SQLite,
	// with 64 at 4,204/s (the same run, a 2-core AMD EPYC); with 192
	// instead of 64, 20,000 on PostgreSQL cost 125 µs of the server's CPU
	// and 165-170 µs of PostgreSQL's per timer against 148-161 and
	// 204-232 (200,000: 129 and 243 against 174 and 441), and on SQLite
	// 147-151 µs against 165-166 (2-core Intel Xeon, alternating runs).
	timerWorkers = 192
	// timerFetch is how many due conversations one query reads beyond
	// those already being fired.
	timerFetch = 512
	// timerErrorStreak: this many timers failing in a row (and none
	// firing) ends a round, as the database is likely down; the next
	// tick tries again.
	timerErrorStreak = 2 * timerWorkers
)

// timerResult is what firing one due conversation came to.
type timerResult struct {
	conv store.Conversation
	ok   bool // it fired (false: idle, another replica fired it first)
	err  error
}

// FireTimers runs the timeout branch of every conversation whose deadline
// has passed, on up to timerWorkers goroutines, until none is left: it
// reads due conversations again as long as it finds new ones, so a
// backlog drains at the speed of the database, not one batch per tick.
// Each conversation is fired once (fireTimer); one that stays due after
// its turn (idle, or its step failed) is left to the next round. It
// returns how many fired, and the first error.
func (s *Server) FireTimers(ctx context.Context) (int, error) {
	jobs := make(chan store.Conversation)
	results := make(chan timerResult)
	var wg sync.WaitGroup
	for range timerWorkers {
		wg.Go(func() {
			for c := range jobs {
				ok, err := s.fireTimer(ctx, &c)
				results <- timerResult{c, ok, err}
			}
		})
	}
	var (
		queue    []store.Conversation
		inFlight = map[string]bool{}      // queued or being fired
		done     = map[string]time.Time{} // had its turn at this deadline, still due
		running  int
		fired    int
		streak   int // errors in a row
		extra    int // rows to read past those done this round
		firstErr error
	)
	// book counts a result; the first error is returned (and logged by
	// the caller), the others logged here.
	book := func(r timerResult) {
		fired += s.timerDone(r, inFlight, done, &streak)
		switch {
		case r.err == nil || ctx.Err() != nil:
		case firstErr == nil:
			firstErr = r.err
		default:
			s.log.Error("timer", "contact", r.conv.Contact, "number", r.conv.Number, "error", clipErr(r.err))
		}
	}
	for ctx.Err() == nil && streak < timerErrorStreak {
		if len(queue) == 0 {
			limit := timerFetch + extra
			fresh, full, err := s.dueTimers(ctx, limit, inFlight, done)
			if err != nil {
				firstErr = cmp.Or(firstErr, err)
				break
			}
			if len(fresh) == 0 && full {
				// Every row read was in flight or done and still due
				// (idle, failed): read further past them.
				extra = max(timerFetch, 2*extra)
				continue
			}
			queue = fresh
			if len(queue) == 0 && running == 0 {
				break // drained
			}
		}
		var send chan store.Conversation
		var next store.Conversation
		if len(queue) > 0 {
			send, next = jobs, queue[0]
		}
		select {
		case send <- next:
			queue = queue[1:]
			running++
		case r := <-results:
			running--
			book(r)
		case <-ctx.Done():
		}
	}
	close(jobs)
	for ; running > 0; running-- {
		book(<-results)
	}
	wg.Wait()
	return fired, firstErr
}

// dueTimers reads up to limit due conversations besides those in flight
// and returns those not done at their current deadline, in random order
// (two replicas draining one backlog then mostly fire different
// conversations instead of racing for the same ones), and whether the
// claim was full (as many rows as it asked for). The conversations in
// flight are left out by the claim itself where the store can
// (store.DueExcepter), so that it neither reads nor locks them (on
// PostgreSQL its locks sent their steps' commits apart, each in a
// transaction of its own); elsewhere it reads past them.
func (s *Server) dueTimers(ctx context.Context, limit int, inFlight map[string]bool, done map[string]time.Time) ([]store.Conversation, bool, error) {
	var due []store.Conversation
	asked := limit
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if de, ok := tx.(store.DueExcepter); ok {
			except := make([]store.ConversationKey, 0, len(inFlight))
			for key := range inFlight {
				contact, number, _ := strings.Cut(key, "\x00")
				except = append(except, store.ConversationKey{Contact: contact, Number: number})
			}
			due, err = de.DueConversationsExcept(ctx, s.cfg.Now(), limit, except)
			return err
		}
		asked = limit + len(inFlight)
		due, err = tx.DueConversations(ctx, s.cfg.Now(), asked)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	fresh := due[:0]
	for _, c := range due {
		key := c.Contact + "\x00" + c.Number
		if inFlight[key] {
			continue
		}
		if at, ok := done[key]; ok && at.Equal(c.Deadline) {
			continue
		}
		inFlight[key] = true
		fresh = append(fresh, c)
	}
	full := len(due) == asked
	rand.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	return fresh, full, nil
}

// timerDone books one result: 1 if it fired.
func (s *Server) timerDone(r timerResult, inFlight map[string]bool, done map[string]time.Time, streak *int) int {
	key := r.conv.Contact + "\x00" + r.conv.Number
	delete(inFlight, key)
	switch {
	case r.err != nil:
		*streak++
		done[key] = r.conv.Deadline
		return 0
	case !r.ok:
		// Idle: fired elsewhere, or answered meanwhile. If it is still
		// due at this deadline, it is not fired again this round.
		*streak = 0
		done[key] = r.conv.Deadline
		return 0
	}
	*streak = 0
	delete(done, key)
	s.metrics.timerLag.Observe(max(0, s.cfg.Now().Sub(r.conv.Deadline).Seconds()))
	return 1
}

// fireTimer runs one conversation's timer event as a step (see doc.go):
// exactly once, because the step re-reads the conversation and fires
// only a deadline that is still due, its commit checks the conversation's
// revision, and the timer run is recorded as a message whose id names the
// deadline.
//
// due is the conversation as the scheduler found it due: the step's read
// looks up the timer message of that deadline in the same statement.
func (s *Server) fireTimer(ctx context.Context, due *store.Conversation) (bool, error) {
	key := due.Contact + "\x00" + due.Number
	s.order.Lock(key)
	defer s.order.Unlock(key)
	res, err := s.process(ctx, Inbound{SID: timerSID(due), From: due.Contact, To: due.Number}, true, jsonFields)
	return res.answer != nil, err
}

// senders counts the deliveries in flight, per destination, each
// destination's current limit, and the destinations paused by a
// provider's Retry-After.
//
// A destination's limit adapts to how fast it answers: it starts at
// perDestination, grows by one each time a delivery to it succeeds while
// all its slots were taken (it, not the worker count, was the bound), up
// to maxPerDestination, and halves (not below perDestination) on a
// failure worth retrying (a timeout, 5xx, a network error). So a provider
// that answers fast gets as many parallel requests as it takes, and one
// that hangs holds at most the slots it had, leaving the others at least
// outboxWorkers - maxPerDestination workers.
type senders struct {
	mu       sync.Mutex
	inFlight map[string]int
	limit    map[string]int // only destinations grown past perDestination
	total    int
	paused   map[string]time.Time
	freed    chan struct{} // a non-blocking signal: a delivery ended
}

func newSenders() *senders {
	return &senders{inFlight: map[string]int{}, limit: map[string]int{}, paused: map[string]time.Time{}, freed: make(chan struct{}, 1)}
}

func (d *senders) limitOf(dest string) int { return max(perDestination, d.limit[dest]) }

// room is how many more deliveries may start in one claim, and the
// destinations that must not get another now. The claim is no larger than
// the room of any destination with deliveries in flight, nor than
// perDestination when there is none, so that no destination, known or
// not, gets more than its limit (or, one that had none in flight, more
// than its first claim: at most maxPerDestination).
func (d *senders) room(now time.Time) (int, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var skip []string
	claim := outboxWorkers - d.total
	if len(d.inFlight) == 0 {
		claim = min(claim, perDestination)
	}
	for dest, n := range d.inFlight {
		if left := d.limitOf(dest) - n; left <= 0 {
			skip = append(skip, dest)
		} else {
			claim = min(claim, left)
		}
	}
	for dest, until := range d.paused {
		if now.Before(until) {
			skip = append(skip, dest)
		} else {
			delete(d.paused, dest)
		}
	}
	return claim, skip
}

func (d *senders) start(dest string) {
	d.mu.Lock()
	d.inFlight[dest]++
	d.total++
	d.mu.Unlock()
}

// end books the end of a delivery to dest and adapts its limit to the
// result: a flowc_outbox_deliveries_total result.
func (d *senders) end(dest, result string) {
	d.mu.Lock()
	switch {
	case result == "sent" && d.inFlight[dest] >= d.limitOf(dest):
		d.limit[dest] = min(maxPerDestination, d.limitOf(dest)+1)
	case result == "retry":
		if l := d.limitOf(dest) / 2; l > perDestination {
			d.limit[dest] = l
		} else {
			delete(d.limit, dest)
		}
	}
	if d.inFlight[dest]--; d.inFlight[dest] <= 0 {
		delete(d.inFlight, dest)
	}
	d.total--
	d.mu.Unlock()
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

func (d *senders) pause(dest string, until time.Time) {
	d.mu.Lock()
	if until.After(d.paused[dest]) {
		d.paused[dest] = until
	}
	d.mu.Unlock()
}

// SendOutbox delivers the due outbox items and waits for those
// deliveries to end. It returns how many were sent.
func (s *Server) SendOutbox(ctx context.Context) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	sentCount := 0
	_, err := s.dispatch(ctx, &wg, func(ok bool) {
		if ok {
			mu.Lock()
			sentCount++
			mu.Unlock()
		}
	})
	wg.Wait()
	return sentCount, err
}

// dispatch starts deliveries of due items while workers are free: each
// round claims (leases) as many items as senders.room allows, none of a
// destination whose workers are all busy or that the provider paused,
// so one slow destination never takes the workers of another's items.
// An item whose contact opted out meanwhile is dropped in the claim's
// transaction, never sent. Each delivery runs in its own goroutine,
// counted in wg; done (if set) learns whether it was sent.
func (s *Server) dispatch(ctx context.Context, wg *sync.WaitGroup, done func(sent bool)) (int, error) {
	if s.cfg.Outbound == nil {
		return 0, nil
	}
	started := 0
	for ctx.Err() == nil {
		now := s.cfg.Now()
		free, skip := s.senders.room(now)
		if free <= 0 {
			break
		}
		items, err := s.claimOutbox(ctx, store.OutboxClaim{Now: now, Lease: outboxLease, Limit: free, Skip: skip})
		if err != nil {
			return started, err
		}
		if len(items) == 0 {
			break
		}
		if items, err = s.paceItems(ctx, items, now); err != nil { // pacing.go: one SMS per pace per number
			return started, err
		}
		for _, it := range items {
			s.senders.start(it.Destination)
			started++
			wg.Go(func() {
				ok, result := s.deliverOne(ctx, it)
				s.senders.end(it.Destination, result)
				if done != nil {
					done(ok)
				}
			})
		}
	}
	return started, nil
}

// claimOutbox leases items, re-checking the opt-out of each SMS.
func (s *Server) claimOutbox(ctx context.Context, c store.OutboxClaim) ([]store.OutboxItem, error) {
	var items []store.OutboxItem
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		items = items[:0]
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox delivery", tx)
		}
		claimed, err := otx.ClaimOutbox(ctx, c)
		if err != nil {
			return err
		}
		for _, it := range claimed {
			if it.Kind == "sms" && it.Contact != "" {
				out, err := tx.OptedOut(ctx, it.Contact, it.From)
				if err != nil {
					return err
				}
				if out {
					if err := otx.DropOutbox(ctx, it.ID, "contact opted out", c.Now); err != nil {
						return err
					}
					continue
				}
			}
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// deliveryOutcome is what becomes of an item after one attempt.
type deliveryOutcome struct {
	result    string // a flowc_outbox_deliveries_total result
	sent      sent
	drop      bool      // give up (with reason)
	optOut    bool      // the provider says the recipient opted out
	notBefore time.Time // retry then (unless drop or sent)
	reason    string
}

// decideDelivery maps a delivery's error to what happens to the item:
// sent; the recipient opted out at the carrier (Twilio 21610: the contact
// is opted out of the number and the item dropped); rate-limited (429:
// retried after Retry-After, or the backoff); rejected (any other 4xx, or
// a request that cannot be made: dropped, the answer kept); anything else
// (5xx, network, SMTP) retried with backoff until outboxMaxAttempts.
func decideDelivery(it store.OutboxItem, res sent, err error, now time.Time) deliveryOutcome {
	if err == nil {
		return deliveryOutcome{result: "sent", sent: res}
	}
	reason := clipErr(err)
	backoff := now.Add(retryDelay(it.Attempts))
	var perm permanentError
	var pe *providerError
	errors.As(err, &pe)
	switch {
	case pe != nil && pe.code == twilioUnsubscribed:
		return deliveryOutcome{result: "opted-out", drop: true, optOut: true, reason: "recipient opted out at the carrier (Twilio 21610): " + reason}
	case errors.As(err, &perm), pe != nil && pe.status >= 400 && pe.status < 500 && pe.status != 429:
		return deliveryOutcome{result: "rejected", drop: true, reason: reason}
	case it.Attempts >= outboxMaxAttempts:
		return deliveryOutcome{result: "failed", drop: true, reason: reason}
	case pe != nil && (pe.status == 429 || pe.status == 503) && (pe.retryAfter > 0 || !pe.retryAfterAt.IsZero()):
		at := now.Add(pe.retryAfter)
		if !pe.retryAfterAt.IsZero() {
			at = pe.retryAfterAt
			if at.Before(now) {
				at = now
			}
			if limit := now.Add(maxRetryAfter); at.After(limit) {
				at = limit
			}
		}
		return deliveryOutcome{result: "rate-limited", notBefore: at, reason: reason}
	case pe != nil && pe.status == 429:
		return deliveryOutcome{result: "rate-limited", notBefore: backoff, reason: reason}
	}
	return deliveryOutcome{result: "retry", notBefore: backoff, reason: reason}
}

// deliverOne makes one attempt at it, within deliveryTimeout, and records
// the outcome. It reports whether the item was sent, and the attempt's
// result (a flowc_outbox_deliveries_total result).
func (s *Server) deliverOne(ctx context.Context, it store.OutboxItem) (bool, string) {
	dctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	res, sendErr := s.cfg.Outbound.deliver(dctx, it, s.cfg.Now())
	cancel()
	now := s.cfg.Now()
	out := decideDelivery(it, res, sendErr, now)
	if out.result == "rate-limited" {
		s.senders.pause(it.Destination, out.notBefore)
	}
	// Recorded even when ctx ended meanwhile (shutdown): a send that
	// happened should not be repeated after the restart.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	err := s.store.InTx(rctx, func(tx store.Tx) error {
		otx := tx.(store.OutboxTx)
		switch {
		case out.result == "sent":
			if err := otx.MarkOutboxSent(rctx, it.ID, out.sent.providerSID, now); err != nil {
				return err
			}
			if out.sent.providerSID != "" && out.sent.status != "" {
				return otx.RecordDeliveryStatus(rctx, store.DeliveryStatus{ProviderSID: out.sent.providerSID, Status: out.sent.status,
					Rank: deliveryRank[out.sent.status], At: now})
			}
			return nil
		case out.optOut:
			if err := tx.SetOptOut(rctx, it.To, it.From, true, now); err != nil {
				return err
			}
			return otx.DropOutbox(rctx, it.ID, out.reason, now)
		case out.drop:
			return otx.DropOutbox(rctx, it.ID, out.reason, now)
		default:
			return otx.RetryOutbox(rctx, it.ID, out.notBefore, out.reason)
		}
	})
	s.metrics.outbox.WithLabelValues(it.Kind, out.result).Inc()
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Its lease ran out and another sender finished it first.
		s.log.Warn("outbox item finished elsewhere", "kind", it.Kind, "id", it.ID)
	case err != nil:
		s.log.Error("outbox record failed", "kind", it.Kind, "id", it.ID, "error", clipErr(err))
	}
	if sendErr != nil {
		s.log.Warn("outbox delivery failed", "kind", it.Kind, "id", it.ID, "attempt", it.Attempts, "result", out.result, "error", out.reason)
	}
	return out.result == "sent" && err == nil, out.result
}
