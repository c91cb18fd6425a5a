package inbound

import (
	"maps"
	"slices"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// Effects are the contact edits and once-per-period marks of one step,
// in the order the flow made them. The server applies them in the step's
// transaction (server/effects.go), vm/sim in memory; both show them to
// the contact's next message, in every conversation.
//
// Untags and Plan.Tags never hold the same tag: of a tag and an untag of
// one name in a step, the last wins, so a store applies the added tags,
// then the removals, in any order it likes.
type Effects struct {
	Untags []string     // tags removed (Storable)
	Fields []FieldEdit  // fields set or removed
	Marks  []OnceMarked // once-per-period replies sent
}

// FieldEdit sets the contact's field Name to Value; "" removes it.
type FieldEdit struct {
	Name, Value string
}

// OnceMarked records that the reply named Mark was sent at At.
type OnceMarked struct {
	Mark string
	At   time.Time
}

// Empty reports whether there is nothing to apply.
func (e *Effects) Empty() bool { return len(e.Untags) == 0 && len(e.Fields) == 0 && len(e.Marks) == 0 }

func collectEffect(p *Plan, a vm.Action) {
	switch a.Kind {
	case vm.ActUntag:
		t := Storable(a.Text)
		p.Tags = without(p.Tags, t) // the last of tag and untag wins
		if !slices.Contains(p.Effects.Untags, t) {
			p.Effects.Untags = append(p.Effects.Untags, t)
		}
	case vm.ActField:
		p.Effects.Fields = append(p.Effects.Fields, FieldEdit{Name: Storable(a.Var), Value: Storable(a.Text)})
	case vm.ActReply:
		p.Effects.Marks = append(p.Effects.Marks, OnceMarked{Mark: a.Var, At: a.Deadline})
	}
}

// EditedContact is the contact a flow sees when the store keeps,
// besides the tags flows added, the tags they removed and the fields
// they set (Effects): Contact(entry, added), edited by EditContact.
func EditedContact(entry *directory.Contact, added, removed []string, fields map[string]string) runtime.Contact {
	return EditContact(Contact(entry, added), removed, fields)
}

// EditContact is c without the removed tags and with fields set over its
// own ("" removes one). The rest of c (its name, its history) is kept;
// c's own slices and maps are not changed.
func EditContact(c runtime.Contact, removed []string, fields map[string]string) runtime.Contact {
	if len(removed) > 0 {
		var kept []string
		for _, t := range c.Tags {
			if !slices.Contains(removed, t) {
				kept = append(kept, t)
			}
		}
		c.Tags = kept
	}
	if len(fields) > 0 {
		merged := maps.Clone(c.Fields)
		if merged == nil {
			merged = map[string]*string{}
		}
		for k, v := range fields {
			if v == "" { // as KnownContact: an empty field is a missing one
				delete(merged, k)
			} else {
				merged[k] = runtime.Str(v)
			}
		}
		c.Fields = merged
	}
	return c
}

// without returns list without s.
func without(list []string, s string) []string {
	if !slices.Contains(list, s) {
		return list
	}
	out := list[:0:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// dedupe keeps the first of each tag, in order.
func dedupe(tags []string) []string {
	for i := 1; i < len(tags); i++ {
		if slices.Contains(tags[:i], tags[i]) {
			out := slices.Clone(tags[:i])
			for _, t := range tags[i+1:] {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
			return out
		}
	}
	return tags
}
