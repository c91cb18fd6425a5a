package server

import (
	"context"
	"fmt"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/fetch"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// The History issue's effects in the server: what flows change of a
// contact (untag, field), the once-per-period replies' marks, and the
// http steps' client. The marks and edits are read with the step's input
// (outside any transaction, like the rest of it) and written in the
// step's transaction, after the added tags (inbound.Effects says why the
// order does not matter).

// httpClient is Config.HTTP, or the default client.
func (s *Server) httpClient() vm.HTTPDoer {
	s.httpOnce.Do(func() {
		s.httpc = s.cfg.HTTP
		if s.httpc == nil {
			s.httpc = fetch.New(s.cfg.HTTPAllowPrivate)
		}
	})
	return s.httpc
}

// readEdits completes a step's input: the contact as flows left it and
// the marks of its once-per-period replies on this number (edits: when a
// program of the step may read them; else the directory's tags and
// fields, which no flow of the step reads), the http client.
// read is the edits the step's statement read with its state (nil: not
// read, readStep's guess missed them).
func (s *Server) readEdits(ctx context.Context, in *stepInput, edits bool, read *store.ContactEdits) error {
	in.HTTP = s.httpClient()
	if !edits {
		return nil
	}
	e := read
	if e == nil {
		var err error
		if e, err = s.contactEdits(ctx, in.Msg.From, in.Msg.To); err != nil || e == nil {
			return err
		}
	}
	in.Contact = inbound.EditContact(in.Contact, e.Untags, e.Fields)
	in.Marks = e.Marks
	return nil
}

// contactEdits reads a contact's edits: outside a transaction when the
// store can (store.EditsReader), else in one; nil for a store that keeps
// none.
func (s *Server) contactEdits(ctx context.Context, contact, number string) (*store.ContactEdits, error) {
	if r, ok := s.store.(store.EditsReader); ok {
		return r.ReadContactEdits(ctx, contact, number)
	}
	var e *store.ContactEdits
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		et, ok := tx.(store.EditsTx)
		if !ok {
			return nil
		}
		var err error
		e, err = et.ContactEdits(ctx, contact, number)
		return err
	})
	return e, err
}

// applyEffects writes a plan's edits and marks in the step's transaction.
func applyEffects(ctx context.Context, tx store.Tx, in *stepInput, p *plan) error {
	fx := p.Effects
	if fx.Empty() && len(p.Tags) == 0 {
		return nil
	}
	et, ok := tx.(store.EditsTx)
	if !ok {
		if fx.Empty() {
			return nil // tags only: a store without edits keeps them as before
		}
		return fmt.Errorf("store %T keeps no contact edits (untag, field, once per)", tx)
	}
	m := in.Msg
	for _, t := range p.Tags { // tagged again: no longer removed
		if err := et.KeepTag(ctx, m.From, t); err != nil {
			return err
		}
	}
	for _, t := range fx.Untags {
		if err := et.UntagContact(ctx, m.From, t); err != nil {
			return err
		}
	}
	for _, f := range fx.Fields {
		if err := et.SetContactField(ctx, m.From, f.Name, f.Value); err != nil {
			return err
		}
	}
	for _, mk := range fx.Marks {
		if err := et.MarkReply(ctx, m.From, m.To, mk.Mark, mk.At); err != nil {
			return err
		}
	}
	return nil
}
