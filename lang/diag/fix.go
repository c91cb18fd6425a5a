package diag

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// ApplyFixes applies fixes to text, the text their edits' spans point
// into (one file's), and returns the result. Fixes are taken in order:
// a fix with an edit overlapping an edit of a fix already taken is
// skipped whole (its edits only make sense together), and so is one
// whose edits are out of range, split a UTF-8 character or overlap each
// other. Two edits overlap when their ranges share a byte or start at
// the same offset (two insertions there could go in either order).
//
// The text returned has every fix not skipped applied; when some were
// skipped the error is a *SkippedError saying which and why, and the
// caller can apply them by fixing the result again.
func ApplyFixes(text string, fixes []Fix) (string, error) {
	type owned struct {
		Edit
		fix int
	}
	var taken []owned // sorted by start
	var skipped []Skipped
next:
	for i, f := range fixes {
		es := sortedEdits(f.Edits)
		if err := checkEdits(text, es); err != nil {
			skipped = append(skipped, Skipped{Index: i, Fix: f, Overlaps: -1, Reason: err.Error()})
			continue
		}
		for _, e := range es {
			// The taken edit starting last at or before e, and the one
			// after it, are the only ones e can overlap.
			k := sort.Search(len(taken), func(k int) bool { return taken[k].Span.Start > e.Span.Start })
			for _, t := range taken[max(k-1, 0):min(k+1, len(taken))] {
				if overlap(t.Edit, e) {
					skipped = append(skipped, Skipped{Index: i, Fix: f, Overlaps: t.fix,
						Reason: fmt.Sprintf("it overlaps %s, applied first", quoteTitle(fixes[t.fix].Title))})
					continue next
				}
			}
		}
		for _, e := range es {
			k := sort.Search(len(taken), func(k int) bool { return taken[k].Span.Start > e.Span.Start })
			taken = append(taken, owned{})
			copy(taken[k+1:], taken[k:])
			taken[k] = owned{e, i}
		}
	}
	var b strings.Builder
	at := 0
	for _, t := range taken {
		b.WriteString(text[at:t.Span.Start])
		b.WriteString(t.New)
		at = t.Span.End
	}
	b.WriteString(text[at:])
	if len(skipped) > 0 {
		return b.String(), &SkippedError{Skipped: skipped}
	}
	return b.String(), nil
}

// Skipped is a fix ApplyFixes did not apply.
type Skipped struct {
	Index    int // in the fixes given
	Fix      Fix
	Overlaps int // the index of the fix it overlaps, or -1 (it is invalid)
	Reason   string
}

// SkippedError lists the fixes ApplyFixes skipped.
type SkippedError struct{ Skipped []Skipped }

func (e *SkippedError) Error() string {
	var parts []string
	for _, s := range e.Skipped {
		where := ""
		if len(s.Fix.Edits) > 0 && s.Fix.Edits[0].Span.IsValid() {
			where = s.Fix.Edits[0].Span.String() + ": "
		}
		parts = append(parts, fmt.Sprintf("%sfix %s not applied: %s", where, quoteTitle(s.Fix.Title), s.Reason))
	}
	return strings.Join(parts, "\n")
}

func quoteTitle(t string) string {
	if t == "" {
		return "(untitled)"
	}
	return fmt.Sprintf("%q", t)
}

// sortedEdits is a copy of es in the order of their starts.
func sortedEdits(es []Edit) []Edit {
	out := append([]Edit(nil), es...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Span.Start < out[j].Span.Start })
	return out
}

// overlap reports whether edits a and b cannot both be made: they share
// a byte, or start at one offset (the order of the two is unknown).
func overlap(a, b Edit) bool {
	return a.Span.Start == b.Span.Start || a.Span.Start < b.Span.End && b.Span.Start < a.Span.End
}

// checkEdits reports why edits es (sorted by start) cannot be made in
// text: one is out of range or splits a UTF-8 character, two overlap.
func checkEdits(text string, es []Edit) error {
	if len(es) == 0 {
		return fmt.Errorf("it has no edits")
	}
	for i, e := range es {
		s, end := e.Span.Start, e.Span.End
		if s < 0 || end < s || end > len(text) {
			return fmt.Errorf("edit [%d, %d) is outside the text (%d bytes)", s, end, len(text))
		}
		if !runeBoundary(text, s) || !runeBoundary(text, end) {
			return fmt.Errorf("edit [%d, %d) splits a character", s, end)
		}
		if i > 0 && overlap(es[i-1], e) {
			return fmt.Errorf("its edits overlap each other")
		}
	}
	return nil
}

func runeBoundary(s string, i int) bool {
	return i == len(s) || utf8.RuneStart(s[i])
}
