package file

import (
	"math/rand"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// naivePos and naiveOffset are the definitions: columns count the runes
// from the start of the line.
func naivePos(text string, off int) (line, col int) {
	off = max(0, min(off, len(text)))
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return strings.Count(text[:off], "\n") + 1, utf8.RuneCountInString(text[start:off]) + 1
}

func naiveOffset(s *Source, line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.lines) {
		return len(s.Text)
	}
	off, end := s.lines[line-1], s.LineEnd(line)
	for c := 1; c < col && off < end; c++ {
		_, n := utf8.DecodeRuneInString(s.Text[off:])
		off += n
	}
	return off
}

// TestPosMatchesTheDefinition on random texts with long lines, multibyte
// runes and invalid UTF-8, at every offset.
func TestPosMatchesTheDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"a", "{{body}}", "é", "日本", "😀", "\n", "\t", "\xff", "\xe2\x82", " "}
	for round := 0; round < 40; round++ {
		var b strings.Builder
		n := rng.Intn(3000)
		for i := 0; i < n; i++ {
			p := pieces[rng.Intn(len(pieces))]
			if p == "\n" && rng.Intn(8) != 0 {
				continue // mostly long lines
			}
			b.WriteString(p)
		}
		s := NewSource("t", b.String())
		for off := -1; off <= len(s.Text)+1; off++ {
			line, col := naivePos(s.Text, off)
			p := s.Pos(off)
			if p.Line != line || p.Column != col {
				t.Fatalf("round %d: Pos(%d) = %d:%d, want %d:%d", round, off, p.Line, p.Column, line, col)
			}
		}
		for line := 0; line <= s.Lines()+1; line++ {
			for col := 0; col < 400; col += 1 + rng.Intn(7) {
				if got, want := s.Offset(line, col), naiveOffset(s, line, col); got != want {
					t.Fatalf("round %d: Offset(%d, %d) = %d, want %d", round, line, col, got, want)
				}
			}
		}
	}
}

// TestPosOnOneLongLineIsNotQuadratic: resolving every position of a
// 2 MB single line (one rune not ASCII, so columns count runes) takes
// far less than the line's length squared. A rescan of the line per
// position would be 10^12 byte reads.
func TestPosOnOneLongLineIsNotQuadratic(t *testing.T) {
	text := "é" + strings.Repeat("{{body}}", 250_000)
	s := NewSource("t", text)
	start := time.Now()
	for off := 0; off < len(text); off += 8 {
		if p := s.Pos(off); off > 2 && p.Column != off {
			t.Fatalf("Pos(%d).Column = %d", off, p.Column)
		}
	}
	if d := time.Since(start); d > 10*time.Second { // ~50 ms here; quadratic: hours
		t.Fatalf("250k positions took %v", d)
	}
}

// TestSnippetOfALongLine: a snippet shows a window of a long line
// around the span, marked with "…", the caret under the span.
func TestSnippetOfALongLine(t *testing.T) {
	text := "reply \"" + strings.Repeat("é", 500) + "{{nope}}" + strings.Repeat("x", 500) + "\"\n"
	s := NewSource("t.flow", text)
	start := strings.Index(text, "{{nope}}") + 2
	got := s.Span(start, start+4).Snippet("")
	lines := strings.Split(got, "\n")
	want0 := "…" + strings.Repeat("é", snippetContext-2) + "{{nope}}" + strings.Repeat("x", snippetContext-6) + "…"
	want1 := strings.Repeat(" ", snippetContext+1) + "^~~~"
	if len(lines) != 3 || lines[0] != want0 || lines[1] != want1 {
		t.Fatalf("snippet:\n%s\nwant\n%s\n%s", got, want0, want1)
	}
}
