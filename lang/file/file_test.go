package file

import (
	"strings"
	"testing"
)

func TestPosAndOffset(t *testing.T) {
	s := NewSource("t.flow", "ab\ncafé x\n\n\tz")
	for _, c := range []struct {
		off, line, col int
	}{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {6, 2, 4}, {8, 2, 5}, {9, 2, 6}, {11, 3, 1}, {12, 4, 1}, {13, 4, 2},
		{-5, 1, 1}, {100, 4, 3},
	} {
		p := s.Pos(c.off)
		if p.Line != c.line || p.Column != c.col {
			t.Errorf("Pos(%d) = %d:%d, want %d:%d", c.off, p.Line, p.Column, c.line, c.col)
		}
		if c.off >= 0 && c.off <= len(s.Text) {
			if back := s.Offset(p.Line, p.Column); back != c.off {
				t.Errorf("Offset(%d, %d) = %d, want %d", p.Line, p.Column, back, c.off)
			}
		}
	}
	if s.Lines() != 4 || s.Line(2) != "café x" || s.Line(3) != "" || s.Line(5) != "" {
		t.Errorf("lines: %d %q %q", s.Lines(), s.Line(2), s.Line(3))
	}
}

func TestSnippet(t *testing.T) {
	s := NewSource("t.flow", "when x <\n\tréply \"hi\"\n")
	sp := s.Span(10, 16) // réply
	want := "  \tréply \"hi\"\n  \t^~~~~\n"
	if got := sp.Snippet("  "); got != want {
		t.Errorf("Snippet:\n%q\nwant\n%q", got, want)
	}
	if got := sp.String(); got != "t.flow:2:2" {
		t.Errorf("String = %s", got)
	}
	if got := s.Span(8, 8).Snippet(""); got != "when x <\n        ^\n" {
		t.Errorf("empty span at end of line:\n%q", got)
	}
	if (Span{}).String() != "-" || (Span{}).Snippet("") != "" {
		t.Error("zero span")
	}
}

// TestBOM: a UTF-8 byte order mark is not text: line 1's columns are
// those an editor shows.
func TestBOM(t *testing.T) {
	s := NewSource("bom.flow", BOM+"flow x $\nreply\n")
	if s.Text != "flow x $\nreply\n" || !s.HadBOM {
		t.Fatalf("Text %q, HadBOM %v: want the text without its BOM, HadBOM set", s.Text, s.HadBOM)
	}
	if p := s.Pos(strings.Index(s.Text, "$")); p.Line != 1 || p.Column != 8 {
		t.Errorf("the $ is at %s, want 1:8", p)
	}
	if NewSource("x.flow", "flow x\n").HadBOM {
		t.Error("HadBOM set without a BOM")
	}
}
