package syntax

import (
	"sort"

	"github.com/flowc-dev/flowc/lang/file"
)

// Span is a highlighted piece of a source: bytes [Start, End) of its
// text and the class of its token.
type Span struct {
	Start, End int
	Class      string // keyword, ident, kind, string, number, duration, expr, punct, comment, bad
}

// Highlight returns the spans of text's tokens and comments in order,
// from the lexer the parser uses (so a page colours a flow exactly as
// it is read). Text between spans (white space) has no span.
func Highlight(text string) []Span {
	toks, comments, _, _ := lex(file.NewSource("", text))
	var out []Span
	for _, t := range toks {
		var class string
		switch t.Type {
		case Keyword:
			class = "keyword"
		case Ident:
			class = "ident"
		case Kind:
			class = "kind"
		case String:
			class = "string"
		case Number:
			class = "number"
		case Duration:
			class = "duration"
		case Cond, Expr, Parens:
			class = "expr"
		case Punct:
			class = "punct"
		case Bad:
			class = "bad"
		default:
			continue
		}
		start, end := t.Pos.Offset, t.Pos.Offset+len(t.Value)
		if t.Value == "" || start < 0 || end > len(text) || text[start:end] != t.Value {
			continue // synthetic (the parser's), or normalised away from the text
		}
		out = append(out, Span{start, end, class})
	}
	for _, c := range comments {
		if end := c.Offset + len(c.Text); c.Offset >= 0 && end <= len(text) {
			out = append(out, Span{c.Offset, end, "comment"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	// Drop overlaps (a token inside another's text).
	kept := out[:0]
	end := 0
	for _, s := range out {
		if s.Start >= end {
			kept = append(kept, s)
			end = s.End
		}
	}
	return kept
}
