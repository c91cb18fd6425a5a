package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Pacing: a long code carries about one SMS a second (carriers filter,
// and Twilio queues then fails, what goes faster), so the delivery
// workers send at most one SMS per Config.SMSPace from each business
// number. A campaign of 10,000 texts from one number therefore takes
// 10,000 paces, in the order it was enqueued, while texts from other
// numbers go out beside it.
//
// The pacer reserves each claimed SMS a slot on its sending number: the
// first free one, at or after now. An item whose slot is now is sent; any
// other is handed back to the outbox (store.OutboxTx.DeferOutbox: not
// before its slot, the claim's attempt not counted) and, claimed again
// at its slot, sent then. Slots are this process's: N replicas
// delivering one number's backlog send up to N texts per pace (docs/server.md).

// pacer is the per-number slots of one process.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	next  map[string]time.Time // sending number → its first free slot
	held  map[int64]time.Time  // outbox item → the slot reserved for it
}

func newPacer(every time.Duration) *pacer {
	if every <= 0 {
		return nil
	}
	return &pacer{every: every, next: map[string]time.Time{}, held: map[int64]time.Time{}}
}

// admit reports whether it may be sent at now; if not, when its slot is.
func (p *pacer) admit(it store.OutboxItem, now time.Time) (bool, time.Time) {
	if p == nil || it.Kind != "sms" || it.From == "" {
		return true, time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if slot, ok := p.held[it.ID]; ok {
		if now.Before(slot) {
			return false, slot
		}
		delete(p.held, it.ID)
		return true, time.Time{}
	}
	slot := p.next[it.From]
	if slot.Before(now) {
		slot = now
	}
	p.next[it.From] = slot.Add(p.every)
	if !slot.After(now) {
		return true, time.Time{}
	}
	if len(p.held) >= maxHeld {
		p.forget(now)
	}
	p.held[it.ID] = slot
	return false, slot
}

// maxHeld bounds the reservations kept before stale ones are forgotten:
// an item another replica sent, or that was dropped at its claim, is
// never admitted here and would hold its entry forever.
const maxHeld = 100_000

// forget drops the reservations whose slot passed more than a lease ago
// (their items were claimed elsewhere or dropped); p.mu is held.
func (p *pacer) forget(now time.Time) {
	for id, slot := range p.held {
		if slot.Before(now.Add(-outboxLease)) {
			delete(p.held, id)
		}
	}
}

// paceItems keeps the claimed items that may be sent now and hands the
// others back to the outbox until their slots, in one transaction.
func (s *Server) paceItems(ctx context.Context, items []store.OutboxItem, now time.Time) ([]store.OutboxItem, error) {
	if s.pace == nil {
		return items, nil
	}
	type deferral struct {
		id   int64
		slot time.Time
	}
	var later []deferral
	keep := items[:0]
	for _, it := range items {
		if ok, slot := s.pace.admit(it, now); ok {
			keep = append(keep, it)
		} else {
			later = append(later, deferral{it.ID, slot})
		}
	}
	if len(later) == 0 {
		return keep, nil
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox delivery", tx)
		}
		for _, d := range later {
			if err := otx.DeferOutbox(ctx, d.id, d.slot); err != nil {
				return err
			}
		}
		return nil
	})
	return keep, err
}

// DefaultSMSPace is `flowc serve`'s FLOWC_SMS_PACE: one SMS a second per
// long code.
const DefaultSMSPace = time.Second
