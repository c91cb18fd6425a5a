package server

import (
	"context"
	"fmt"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// The contact's history (the History issue): every text the server
// receives or sends, and every call reported to it, is an interaction
// (store.Interaction), recorded in the transaction of the message or
// send; a step reads the contact's history before the flow runs and
// hands it to the VM as runtime.Contact's history fields
// (contact.last_texted_by, contact.interactions, contact.campaign …).
//
// What is recorded, by recordInteractions in commitStep's transaction:
//   - every inbound text stored as a message (whatever its outcome:
//     STOP, a message to a number no flow serves …), with its MessageSid;
//   - every reply of a flow: in the webhook's answer (TwiML; the
//     provider's id of such a reply is never known, so its SID is "") and
//     a timer's replies through the outbox;
//   - not the texts the opt-out stage answers by itself (the STOP and
//     START confirmations, HELP's answer): they are the carrier's
//     compliance, not the business talking to the contact, and counting
//     them would make "the last interaction" a confirmation the contact
//     asked for;
//   - not forwards (to a user, a team's address, a webhook): they are not
//     sent to the contact.
//
// POST /v1/outbound records its sends (with their user or campaign) and
// POST /v1/interactions the calls other systems report (send.go).

// historyTx is tx's history operations.
func historyTx(tx store.Tx) (store.HistoryTx, error) {
	h, ok := tx.(store.HistoryTx)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no interactions", tx)
	}
	return h, nil
}

// recordInteractions records what a step's plan sends and receives (see
// above), in its transaction. An inbound MessageSid recorded before is
// store.ErrConflict, as the message's own insert would be.
func (s *Server) recordInteractions(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	ht, ok := tx.(store.HistoryTx)
	if !ok || p.stage == nil {
		return nil // a store without history (a test's wrapper): nothing to record
	}
	m := in.Msg
	for _, x := range inbound.Interactions(inboundInput(in), p.stage) {
		rec := store.Interaction{Contact: m.From, Number: m.To, At: x.At, Kind: x.Kind, Direction: x.Direction, CauseSID: m.SID}
		if x.User != nil {
			rec.User = *x.User
		}
		if x.Direction == runtime.DirectionInbound {
			rec.SID = m.SID
		}
		if err := ht.RecordInteraction(ctx, &rec); err != nil {
			return err
		}
	}
	return nil
}

// readHistory sets the step's contact (the directory's entry, the tags
// and, when a program of the step may read it, the history: else the
// contact has none, which no flow of the step can tell) and its lists
// (from the list cache, as of the lists' version the step read, each
// read when a flow first reads it).
func (s *Server) readHistory(ctx context.Context, snap *snapshot, st *store.StepState, history bool) error {
	from := snap.in.Msg.From
	c := s.directory().Contact(from, st.Tags)
	snap.in.Lists = s.listReader(st.ListsVersion)
	if !history {
		snap.in.Contact = c
		return nil
	}
	h := st.History // read with the step's state (readStep's guess)
	if h == nil {
		var err error
		if h, err = s.contactHistory(ctx, from); err != nil {
			return err
		}
	}
	snap.in.Contact = withHistory(c, h)
	return nil
}

// contactHistory reads the contact's history: one statement outside any
// transaction where the store can (store.HistoryReader), else in a read
// transaction.
func (s *Server) contactHistory(ctx context.Context, contact string) (*store.History, error) {
	if r, ok := s.store.(store.HistoryReader); ok {
		return r.ReadHistory(ctx, contact, runtime.MaxInteractions)
	}
	var h *store.History
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		ht, ok := tx.(store.HistoryTx)
		if !ok {
			h = &store.History{} // a store without history (a test's wrapper)
			return nil
		}
		var err error
		h, err = ht.ContactHistory(ctx, contact, runtime.MaxInteractions)
		return err
	})
	return h, err
}

// withHistory is c.WithHistory(h), the store's history as flows see it,
// with the store's own lookups of the newest text and call that have a
// user as History.LastTexted and LastCalled (a user texted the contact,
// then a flow answered sixty messages: the user is still who last
// texted them).
func withHistory(c runtime.Contact, h *store.History) runtime.Contact {
	rh := runtime.History{}
	for _, in := range h.Recent {
		rh.Interactions = append(rh.Interactions, runtimeInteraction(in))
	}
	if cs := h.Campaign; cs != nil {
		rh.Campaign = &runtime.Campaign{Name: cs.Campaign, ReplyUser: orNil(cs.ReplyUser), ReplyEmail: orNil(cs.ReplyEmail), At: cs.At}
	}
	if h.LastTexted != nil {
		in := runtimeInteraction(*h.LastTexted)
		rh.LastTexted = &in
	}
	if h.LastCalled != nil {
		in := runtimeInteraction(*h.LastCalled)
		rh.LastCalled = &in
	}
	return c.WithHistory(rh)
}

func runtimeInteraction(in store.Interaction) runtime.Interaction {
	return runtime.Interaction{Kind: in.Kind, Direction: in.Direction, Number: in.Number, User: orNil(in.User), Campaign: orNil(in.Campaign), At: in.At}
}

// orNil is s as an optional value: "" is nil.
func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
