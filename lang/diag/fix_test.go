package diag

import (
	"errors"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/file"
)

func TestApplyFixes(t *testing.T) {
	src := file.NewSource("a.flow", "rply \"héllo\"\nwhen hours(\"ofice\") < x >\n")
	at := func(sub string, n int) file.Span { return span(t, src, sub, n) }
	rep := func(title string, sp file.Span, s string) Fix { return replace(title, sp, s) }
	ins := func(title string, off int, s string) Fix {
		return Fix{Title: title, Edits: []Edit{{Span: src.Span(off, off), New: s}}}
	}
	é := strings.Index(src.Text, "é")
	cases := []struct {
		name    string
		fixes   []Fix
		want    string
		skipped []int // indexes of the fixes skipped
	}{
		{"none", nil, src.Text, nil},
		{"two fixes, given last first", []Fix{rep("office", at("ofice", 0), "office"), rep("reply", at("rply", 0), "reply")},
			"reply \"héllo\"\nwhen hours(\"office\") < x >\n", nil},
		{"one fix of two edits out of order", []Fix{{Title: "both", Edits: []Edit{{Span: at("x", 0), New: "y"}, {Span: at("rply", 0), New: "reply"}}}},
			"reply \"héllo\"\nwhen hours(\"ofice\") < y >\n", nil},
		{"multi-byte: replace é, insert after it", []Fix{rep("e", src.Span(é, é+2), "e"), ins("after", é+2, "\u0301")},
			"rply \"he\u0301llo\"\nwhen hours(\"ofice\") < x >\n", nil},
		{"deletion and insertion at the end", []Fix{rep("del", at(" <", 0), ""), ins("end", len(src.Text), "# end")},
			"rply \"héllo\"\nwhen hours(\"ofice\") x >\n# end", nil},
		{"overlap: the first is kept", []Fix{rep("a", at("rply", 0), "reply"), rep("b", src.Span(2, 6), "X"), rep("c", at("x", 0), "z")},
			"reply \"héllo\"\nwhen hours(\"ofice\") < z >\n", []int{1}},
		{"overlap with the second edit of a fix: the whole fix is skipped",
			[]Fix{rep("a", at("x", 0), "z"), {Title: "b", Edits: []Edit{{Span: at("rply", 0), New: "reply"}, {Span: at("x", 0), New: "w"}}}},
			"rply \"héllo\"\nwhen hours(\"ofice\") < z >\n", []int{1}},
		{"two insertions at one place", []Fix{ins("a", 0, "A"), ins("b", 0, "B")}, "A" + src.Text, []int{1}},
		{"an insertion at the start of a replacement", []Fix{rep("a", at("rply", 0), "reply"), ins("b", 0, "B")}, "reply" + src.Text[4:], []int{1}},
		{"an insertion at the end of a replacement is no overlap", []Fix{rep("a", at("rply", 0), "reply"), ins("b", 4, "!")}, "reply!" + src.Text[4:], nil},
		{"adjacent replacements", []Fix{rep("a", src.Span(0, 2), "R"), rep("b", src.Span(2, 4), "P")}, "RP" + src.Text[4:], nil},
		{"splits a character", []Fix{rep("a", src.Span(é+1, é+2), "x"), rep("b", at("x", 0), "z")},
			"rply \"héllo\"\nwhen hours(\"ofice\") < z >\n", []int{0}},
		{"out of range", []Fix{rep("a", src.Span(len(src.Text)-1, len(src.Text)+3), "x")}, src.Text, []int{0}},
		{"no edits", []Fix{{Title: "empty"}}, src.Text, []int{0}},
		{"edits of one fix overlapping", []Fix{{Title: "self", Edits: []Edit{{Span: src.Span(0, 3), New: "a"}, {Span: src.Span(2, 4), New: "b"}}}}, src.Text, []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ApplyFixes(src.Text, c.fixes)
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			var se *SkippedError
			if len(c.skipped) == 0 {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SkippedError", err)
			}
			var idx []int
			for _, s := range se.Skipped {
				idx = append(idx, s.Index)
				if s.Reason == "" {
					t.Errorf("skipped %d without a reason", s.Index)
				}
			}
			if len(idx) != len(c.skipped) || idx[0] != c.skipped[0] {
				t.Errorf("skipped %v, want %v", idx, c.skipped)
			}
		})
	}
	// The error says where, which fix and what it overlaps.
	_, err := ApplyFixes(src.Text, []Fix{rep("first", at("rply", 0), "reply"), rep("second", src.Span(2, 6), "X")})
	if want := `a.flow:1:3: fix "second" not applied: it overlaps "first", applied first`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
