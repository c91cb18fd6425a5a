package inbound

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
)

// Queue statistics' counters (QueueCounts), per team. The service level
// is Within over Accepted plus AbandonedAfter: taken within it, over
// taken plus given up after it (a conversation abandoned before the
// service level passed counts against nobody).
const (
	CountEntered        = "entered"            // conversations that entered the queue
	CountFull           = "full"               // refused: the queue was full (`on full`)
	CountOffered        = "offered"            // offers made (a conversation offered again counts again)
	CountAccepted       = "accepted"           // taken from the queue (transfers are not)
	CountWithin         = "within_sl"          // of those, taken within the service level
	CountAbandoned      = "abandoned"          // left the queue before anyone took it (wait passed, STOP)
	CountAbandonedAfter = "abandoned_after_sl" // of those, after waiting longer than the service level
	CountTransferred    = "transferred"        // transfers made
	CountReturned       = "returned"           // transfers not taken in time, back with who made them
	CountFinished       = "finished"           // finished by the person who had it
	CountClosed         = "closed"             // closed (inactivity, STOP) while a person had it
)

// QueueCount is one counter's change: Delta to Team's Name.
type QueueCount struct {
	Team, Name string
	Delta      int
}

// QueueCounts are the statistics a step's queue plan moves: before is
// the conversation's ticket as the step read it (nil: in no queue), sl
// the service level of the queue it waited in, now the step's clock.
// The server adds them up in the step's transaction; the numbers are
// exact because each step is committed once.
func QueueCounts(q *QueuePlan, before *queue.Ticket, sl time.Duration, now time.Time) []QueueCount {
	if q == nil {
		return nil
	}
	var out []QueueCount
	if q.Previous != nil {
		out = QueueCounts(q.Previous, before, sl, now)
		before = nil // the rest is the new queue's
	}
	if q.Team == "" { // a handoff to a webhook: in no team's queue
		return out
	}
	add := func(name string) { out = append(out, QueueCount{Team: q.Team, Name: name, Delta: 1}) }
	waiting := before != nil && (before.Status == queue.Waiting || before.Status == queue.Offered)
	abandoned := func() {
		add(CountAbandoned)
		if sl > 0 && now.Sub(before.Since) > sl {
			add(CountAbandonedAfter)
		}
	}
	switch q.Event {
	case QueueEntered:
		add(CountEntered)
		if len(q.Offer) > 0 {
			add(CountOffered)
		}
	case QueueFull:
		add(CountFull)
	case QueueReoffered, QueueOffered:
		if len(q.Offer) > 0 {
			add(CountOffered)
		}
	case QueueAccepted:
		if q.Taken {
			add(CountAccepted)
			if q.WithinServiceLevel {
				add(CountWithin)
			}
		}
	case QueueTransferred:
		add(CountTransferred)
	case QueueReturned:
		add(CountReturned)
	case QueueTimedOut:
		if before != nil {
			abandoned()
		}
	case QueueFinished:
		add(CountFinished)
	case QueueClosed:
		if waiting {
			abandoned()
		} else if before != nil {
			add(CountClosed)
		}
	}
	return out
}

// TicketOf is the ticket a conversation's state holds and the settings
// of the queue step it waits at (nil, zero settings: in no queue).
func TicketOf(prog *vm.Program, state []byte) (*queue.Ticket, queue.Settings) {
	if prog == nil || len(state) == 0 || !bytes.Contains(state, []byte(`"queue":`)) {
		return nil, queue.Settings{} // most states hold no ticket: no decoding for them
	}
	st := &vm.State{}
	if json.Unmarshal(state, st) != nil {
		return nil, queue.Settings{}
	}
	s, t, ok := queueOf(prog, st)
	if !ok {
		return nil, queue.Settings{}
	}
	return t, s
}

// TicketOf is TicketOf(prog, state), without decoding state when it is
// s's own State, as the step saved it (s may be nil): the server indexes
// the ticket of every state a step saves, and decoding it again was 4%
// of its CPU firing timers whose branch hands the conversation to an
// inbox.
func (s *Saved) TicketOf(prog *vm.Program, state []byte) (*queue.Ticket, queue.Settings) {
	if s == nil || s.held == nil || prog == nil || !bytes.Equal(state, s.State) {
		return TicketOf(prog, state)
	}
	settings, t, ok := queueOf(prog, s.held)
	if !ok {
		return nil, queue.Settings{}
	}
	return t, settings
}
