package server

import (
	"context"
	"fmt"
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
// The slots are the store's, so replicas share them: each claimed SMS
// that has no slot yet takes the first free one of its sending number
// (store.OutboxTx.ReservePace, one upsert that moves the number's next
// free slot one pace on). An item whose slot is now is sent; any other
// is handed back to the outbox until its slot (DeferOutbox, which keeps
// the slot on the item and does not count the claim as an attempt), and
// whichever replica claims it then sends it without taking another slot
// (unless that slot passed more than a pace ago: then it takes a new one).
// A crash between the reservation and the hand-back loses nothing: the
// transaction that reserved is the one that hands back, so either both
// happened or neither did and the item's lease runs out.

// pacer is the pace SMS are sent at from one number; nil: no pacing.
type pacer struct{ every time.Duration }

func newPacer(every time.Duration) *pacer {
	if every <= 0 {
		return nil
	}
	return &pacer{every: every}
}

// paceItems keeps the claimed items that may be sent now and hands the
// others back to the outbox until their slots, in one transaction.
func (s *Server) paceItems(ctx context.Context, items []store.OutboxItem, now time.Time) ([]store.OutboxItem, error) {
	if s.pace == nil {
		return items, nil
	}
	var keep []store.OutboxItem
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		keep = keep[:0] // the closure may run again
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox delivery", tx)
		}
		for _, it := range items {
			if it.Kind != "sms" || it.From == "" || !it.PaceSlot.IsZero() && now.Sub(it.PaceSlot) < s.pace.every {
				keep = append(keep, it) // not paced, or claimed at its slot
				continue
			}
			// No slot, or one long past (the server was down, or delivery
			// fell behind): a new slot, so that a backlog whose slots all
			// passed goes out at the pace, not at once.
			slot, err := otx.ReservePace(ctx, it.From, now, s.pace.every)
			if err != nil {
				return err
			}
			if !slot.After(now) {
				keep = append(keep, it)
				continue
			}
			if err := otx.DeferOutbox(ctx, it.ID, slot); err != nil {
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
