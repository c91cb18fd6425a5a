package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// Outbox delivery policy.
const (
	outboxLease       = 30 * time.Second // a claimed item is left alone this long
	outboxMaxAttempts = 8
	outboxBatch       = 20
	timerBatch        = 100
)

// retryDelay is the pause before attempt n+1: 1s, 2s, 4s … capped at 10m.
func retryDelay(attempts int) time.Duration {
	d := time.Second << min(attempts-1, 10)
	return min(d, 10*time.Minute)
}

// RunBackground fires due timers and delivers the outbox every interval
// until ctx is done.
func (s *Server) RunBackground(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.FireTimers(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("timers", "error", err.Error())
		}
		if _, err := s.SendOutbox(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("outbox", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// FireTimers runs the timeout branch of every conversation whose deadline
// has passed. It returns how many fired.
func (s *Server) FireTimers(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	var due []store.Conversation
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.DueConversations(ctx, now, timerBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, c := range due {
		ok, err := s.fireTimer(ctx, c.Contact, c.Number)
		if err != nil {
			return fired, err
		}
		if ok {
			fired++
		}
	}
	return fired, nil
}

// fireTimer runs one conversation's timer event as a step (see doc.go):
// exactly once, because the step re-reads the conversation and fires
// only a deadline that is still due, its commit checks the conversation's
// revision, and the timer run is recorded as a message whose id names the
// deadline.
func (s *Server) fireTimer(ctx context.Context, contact, number string) (bool, error) {
	key := contact + "\x00" + number
	s.order.Lock(key)
	defer s.order.Unlock(key)
	res, err := s.process(ctx, Inbound{From: contact, To: number}, true, jsonFields)
	return res.answer != nil, err
}

// SendOutbox delivers due outbox items: claimed (leased) in one
// transaction, sent outside it, and recorded in another. An item whose
// contact opted out meanwhile is dropped, never sent. It returns how many
// were sent.
func (s *Server) SendOutbox(ctx context.Context) (int, error) {
	if s.cfg.Outbound == nil {
		return 0, nil
	}
	now := s.cfg.Now()
	var items []store.OutboxItem
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		items = items[:0]
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T has no outbox delivery", tx)
		}
		claimed, err := otx.ClaimOutbox(ctx, now, outboxLease, outboxBatch)
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
					if err := otx.DropOutbox(ctx, it.ID, "contact opted out", now); err != nil {
						return err
					}
					continue
				}
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, it := range items {
		sendErr := s.cfg.Outbound.deliver(ctx, it, s.cfg.Now())
		err := s.store.InTx(ctx, func(tx store.Tx) error {
			otx := tx.(store.OutboxTx)
			var perm permanentError
			switch {
			case sendErr == nil:
				return otx.MarkOutboxSent(ctx, it.ID, s.cfg.Now())
			case errors.As(sendErr, &perm) || it.Attempts >= outboxMaxAttempts:
				return otx.DropOutbox(ctx, it.ID, clipErr(sendErr), s.cfg.Now())
			default:
				return otx.RetryOutbox(ctx, it.ID, s.cfg.Now().Add(retryDelay(it.Attempts)), clipErr(sendErr))
			}
		})
		if err != nil {
			return sent, err
		}
		if sendErr == nil {
			sent++
			s.metrics.outbox.WithLabelValues(it.Kind, "sent").Inc()
		} else {
			s.metrics.outbox.WithLabelValues(it.Kind, "failed").Inc()
			s.log.Warn("outbox delivery failed", "kind", it.Kind, "id", it.ID, "attempt", it.Attempts, "error", clipErr(sendErr))
		}
	}
	return sent, nil
}
