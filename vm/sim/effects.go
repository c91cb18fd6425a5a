package sim

import (
	"slices"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// What flows changed of a contact and when they sent a once-per-period
// reply, kept in memory across conversations as the server keeps them in
// its store (server/effects.go), so that `flowc run` and `flowc test`
// behave as the server does.

type contactEdits struct {
	removed []string          // tags removed (from the directory's or the added ones)
	fields  map[string]string // fields set; "" removed
}

func markKey(contact, number string) string { return contact + "\x00" + number }

// marksOf are the once-per-period replies sent to contact on number.
func (e *Env) marksOf(contact, number string) map[string]time.Time {
	return e.marks[markKey(contact, number)]
}

// Marks returns when each once-per-period reply was last sent to contact
// on number, by mark.
func (e *Env) Marks(contact, number string) map[string]time.Time {
	out := map[string]time.Time{}
	for k, v := range e.marks[markKey(contact, number)] {
		out[k] = v
	}
	return out
}

// applyEffects keeps a step's contact edits and marks (after its tags).
func (e *Env) applyEffects(contact, number string, p *inbound.Plan) {
	fx := p.Effects
	ed := e.edits[contact]
	if ed != nil {
		for _, t := range p.Tags { // tagged again: no longer removed
			ed.removed = slices.DeleteFunc(ed.removed, func(r string) bool { return r == t })
		}
	}
	if fx.Empty() {
		return
	}
	if ed == nil {
		if e.edits == nil {
			e.edits = map[string]*contactEdits{}
		}
		ed = &contactEdits{}
		e.edits[contact] = ed
	}
	for _, t := range fx.Untags {
		if !slices.Contains(ed.removed, t) {
			ed.removed = append(ed.removed, t)
		}
		if cur := e.tags[contact]; slices.Contains(cur, t) {
			e.tags[contact] = slices.DeleteFunc(slices.Clone(cur), func(x string) bool { return x == t })
		}
	}
	for _, f := range fx.Fields {
		if ed.fields == nil {
			ed.fields = map[string]string{}
		}
		ed.fields[f.Name] = f.Value
	}
	if len(fx.Marks) > 0 {
		if e.marks == nil {
			e.marks = map[string]map[string]time.Time{}
		}
		k := markKey(contact, number)
		if e.marks[k] == nil {
			e.marks[k] = map[string]time.Time{}
		}
		for _, m := range fx.Marks {
			e.marks[k][m.Mark] = m.At
		}
	}
}

// editedEntry is the contact of a directory entry (nil: none) and the
// added tags, with what flows removed and set.
func (e *Env) editedEntry(phone string, entry *directory.Contact, added []string) runtime.Contact {
	ed := e.edits[phone]
	if ed == nil {
		return inbound.Contact(entry, added)
	}
	return inbound.EditedContact(entry, added, ed.removed, ed.fields)
}

// edited is a test's contact (a .flowtest `contact` line) with what
// flows removed and set.
func (e *Env) edited(phone string, c runtime.Contact) runtime.Contact {
	if ed := e.edits[phone]; ed != nil {
		return inbound.EditContact(c, ed.removed, ed.fields)
	}
	return c
}

// Edits returns what flows removed of contact's tags and set of its
// fields ("" for one removed), as the server's store keeps them.
func (e *Env) Edits(contact string) (removed []string, fields map[string]string) {
	ed := e.edits[contact]
	if ed == nil {
		return nil, nil
	}
	fields = map[string]string{}
	for k, v := range ed.fields {
		fields[k] = v
	}
	return slices.Clone(ed.removed), fields
}
