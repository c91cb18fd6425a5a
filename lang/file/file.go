// Package file holds source files and positions inside them.
//
// It is deliberately tiny (after expr-lang/expr's file package): every
// later stage of flowc (parser, checker, compiler, VM trace) points back
// into a .flow file through a Span, and this package turns a Span into the
// `file:line:col` and the source line with a caret that users read.
package file

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"
)

// Source is one named source text with a precomputed line table.
type Source struct {
	Name string
	Text string
	// Dir is the directory the source is in, as a file system: the files
	// it refers to (applets) are read from here and nowhere else. Nil
	// means the directory of Name on disk (see Files).
	Dir fs.FS
	// HadBOM is set when the file began with a UTF-8 byte order mark,
	// which is not in Text: offsets in Text are then len(BOM) less than
	// byte offsets in the file.
	HadBOM bool
	lines  []int // byte offset of the start of each line
	// marks turn a byte offset into a rune count without rescanning the
	// line: the rune count at a rune boundary every markEvery bytes. Nil
	// when the text is ASCII (a column is then a byte count). Without
	// them every position on a long line costs the length of the line,
	// and compiling a one-line flow is quadratic in its length.
	marks []runeMark
}

type runeMark struct{ off, runes int }

// markEvery is the spacing of marks: a lookup scans at most this many
// bytes.
const markEvery = 256

// BOM is the UTF-8 byte order mark some editors (Notepad) put at the
// start of a file.
const BOM = "\ufeff"

// NewSource returns a Source for text, named name (usually a path). A
// UTF-8 byte order mark at the start of text is dropped (and HadBOM set):
// it is invisible in an editor, so keeping it would put every column of
// line 1 one to the right of where the user sees it, and it would be an
// "unexpected character" to the lexer. Every stage sees the text
// without it, once, here.
func NewSource(name, text string) *Source {
	bom := strings.HasPrefix(text, BOM)
	if bom {
		text = text[len(BOM):]
	}
	lines := make([]int, 1, 64)
	ascii := true
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\n':
			lines = append(lines, i+1)
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	s := &Source{Name: name, Text: text, lines: lines, HadBOM: bom}
	if !ascii {
		s.marks = make([]runeMark, 0, len(text)/markEvery+1)
		next, runes := 0, 0
		for off := 0; off < len(text); runes++ {
			if off >= next {
				s.marks = append(s.marks, runeMark{off, runes})
				next = off + markEvery
			}
			_, n := utf8.DecodeRuneInString(text[off:])
			off += n
		}
	}
	return s
}

// runes is the number of runes in Text[:off], as utf8.RuneCountInString
// counts them, in O(log n + markEvery).
func (s *Source) runes(off int) int {
	if s.marks == nil {
		return off
	}
	i := sort.Search(len(s.marks), func(i int) bool { return s.marks[i].off > off }) - 1
	m := s.marks[i]
	return m.runes + utf8.RuneCountInString(s.Text[m.off:off])
}

// Pos is a resolved position: byte offset plus 1-based line and column.
// Columns count runes, as editors do.
type Pos struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// Span is a half-open byte range [Start, End) inside Source.
type Span struct {
	Source *Source
	Start  int
	End    int
}

// Span returns the span [start, end) of s.
func (s *Source) Span(start, end int) Span { return Span{Source: s, Start: start, End: end} }

// Pos resolves a byte offset to a line and column.
func (s *Source) Pos(offset int) Pos {
	if offset < 0 {
		offset = 0
	}
	if offset > len(s.Text) {
		offset = len(s.Text)
	}
	line := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > offset }) - 1
	col := s.runes(offset) - s.runes(s.lines[line]) + 1
	return Pos{Offset: offset, Line: line + 1, Column: col}
}

// Offset converts a 1-based line and column (in runes) back to a byte
// offset, clamped to the text.
func (s *Source) Offset(line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.lines) {
		return len(s.Text)
	}
	off := s.lines[line-1]
	end := s.LineEnd(line)
	if col <= 1 {
		return off
	}
	if s.marks == nil {
		return min(off+col-1, end)
	}
	// Start from the last mark before the wanted rune, if it is on this
	// line, rather than from the start of the line.
	have := s.runes(off)
	want := have + col - 1
	i := sort.Search(len(s.marks), func(i int) bool { return s.marks[i].runes > want }) - 1
	if m := s.marks[i]; m.off > off {
		if m.off >= end {
			return end
		}
		off, have = m.off, m.runes
	}
	for ; have < want && off < end; have++ {
		_, n := utf8.DecodeRuneInString(s.Text[off:])
		off += n
	}
	return off
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	return strings.TrimSuffix(s.Text[s.lines[n-1]:s.LineEnd(n)], "\r")
}

// LineEnd is the byte offset of the newline ending 1-based line n (or the
// end of the text).
func (s *Source) LineEnd(n int) int {
	if n < len(s.lines) {
		return s.lines[n] - 1
	}
	return len(s.Text)
}

// Lines is the number of lines in the text.
func (s *Source) Lines() int { return len(s.lines) }

// IsValid reports whether the span points into a source.
func (sp Span) IsValid() bool { return sp.Source != nil }

// StartPos is the resolved start of the span.
func (sp Span) StartPos() Pos {
	if sp.Source == nil {
		return Pos{}
	}
	return sp.Source.Pos(sp.Start)
}

// EndPos is the resolved end of the span.
func (sp Span) EndPos() Pos {
	if sp.Source == nil {
		return Pos{}
	}
	return sp.Source.Pos(sp.End)
}

// Text is the source text covered by the span.
func (sp Span) Text() string {
	if sp.Source == nil {
		return ""
	}
	return sp.Source.Text[sp.Start:sp.End]
}

// Join returns the smallest span covering both sp and other.
func (sp Span) Join(other Span) Span {
	if sp.Source == nil {
		return other
	}
	if other.Source == nil {
		return sp
	}
	out := sp
	if other.Start < out.Start {
		out.Start = other.Start
	}
	if other.End > out.End {
		out.End = other.End
	}
	return out
}

// String renders the span as `file:line:col`.
func (sp Span) String() string {
	if sp.Source == nil {
		return "-"
	}
	p := sp.StartPos()
	return fmt.Sprintf("%s:%d:%d", sp.Source.Name, p.Line, p.Column)
}

// snippetContext is how many runes of a long line a snippet shows on
// each side of the span's start. Printing the whole line for every
// diagnostic makes the output of many diagnostics on one long line
// quadratic in its length.
const snippetContext = 100

// Snippet renders the span's first line with a caret line under it, each
// line prefixed with indent, e.g.
//
//	when count < 3 < reply "hi" >
//	           ^~~
//
// Of a long line it shows snippetContext runes either side of the span's
// start, with "…" where it was cut.
func (sp Span) Snippet(indent string) string {
	if sp.Source == nil {
		return ""
	}
	s := sp.Source
	start := sp.StartPos()
	ls, le := s.lines[start.Line-1], s.LineEnd(start.Line)
	if le > ls && s.Text[le-1] == '\r' {
		le--
	}
	at := min(start.Offset, le)
	from := at
	for n := 0; n < snippetContext && from > ls; n++ {
		_, w := utf8.DecodeLastRuneInString(s.Text[ls:from])
		from -= w
	}
	to := at
	for n := 0; n < snippetContext && to < le; n++ {
		_, w := utf8.DecodeRuneInString(s.Text[to:le])
		to += w
	}
	var lead, trail string
	if from > ls {
		lead = "…"
	}
	if to < le {
		trail = "…"
	}
	// Expand tabs so the caret lines up with what terminals show.
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, lead+s.Text[from:at])
	width := 1
	if end := min(sp.End, to); end > sp.Start {
		width = utf8.RuneCountInString(s.Text[sp.Start:end])
	}
	caret := "^" + strings.Repeat("~", max(width-1, 0))
	return indent + lead + s.Text[from:to] + trail + "\n" + indent + pad + caret + "\n"
}
