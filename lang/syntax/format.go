package syntax

import (
	"fmt"
	"strings"
)

// Format prints f in the one canonical style:
//
//   - two-space indentation inside `< >` blocks, `>` on its own line
//     (followed by ` else …` or ` then …` when the chain goes on);
//   - one statement per line, a chain's steps joined with ` then `;
//   - the `->` of a block's branches aligned;
//   - at most one blank line, kept where the source had one, never at the
//     start of a block;
//   - comments kept: a comment on its own line stays above what follows
//     it, a trailing comment stays at the end of its line (two spaces
//     before the `#`);
//   - conditions, expressions and string literals exactly as written.
//
// Format expects a file without syntax errors.
func Format(f *File) []byte {
	p := &printer{f: f, blank: blankLines(f.Source.Text)}
	for i, it := range f.Stmts {
		p.startItem(Start(it), i == 0)
		switch it := it.(type) {
		case *Header:
			p.header(it)
		case *Section:
			p.word(Start(it), "section "+it.Name.Value)
			p.space()
			p.block(it.Body)
		case *Chain:
			p.chain(it)
		}
		p.endLine()
	}
	p.flushComments(len(f.Source.Text) + 1)
	var b strings.Builder
	for _, l := range p.lines {
		for _, c := range l.above {
			b.WriteString(strings.Repeat("  ", l.indent) + c + "\n")
		}
		if l.blank {
			b.WriteString("\n")
			continue
		}
		line := strings.Repeat("  ", l.indent) + l.text
		if l.comment != "" {
			if l.text == "" {
				line += l.comment
			} else {
				line += "  " + l.comment
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return []byte(b.String())
}

type outLine struct {
	indent   int
	text     string
	comment  string
	above    []string // full-line comments that had to move above this line
	blank    bool
	firstSrc int // first source line that contributed a token (0: none)
	srcLine  int // last source line that contributed a token
}

type printer struct {
	f          *File
	lines      []outLine
	cur        *outLine
	indent     int
	nextCmt    int
	lastSrc    int // last source line emitted (token or comment)
	blank      []int
	afterOpen  bool
	pendingSep string
}

// blankLines returns the prefix count of blank lines: blank[i] is the
// number of whitespace-only lines among lines 1..i.
func blankLines(text string) []int {
	lines := strings.Split(text, "\n")
	out := make([]int, len(lines)+2)
	for i, l := range lines {
		out[i+1] = out[i]
		if strings.TrimSpace(l) == "" {
			out[i+1]++
		}
	}
	out[len(lines)+1] = out[len(lines)]
	return out
}

func (p *printer) blankBetween(a, b int) bool {
	if a <= 0 || b <= a+1 {
		return false
	}
	if b-1 >= len(p.blank) {
		b = len(p.blank)
	}
	return p.blank[b-1]-p.blank[a] > 0
}

func (p *printer) lineOf(off int) int { return p.f.Source.Pos(off).Line }

// startItem begins a new statement line at source offset off.
func (p *printer) startItem(off int, first bool) {
	p.flushComments(off)
	line := p.lineOf(off)
	if !first && !p.afterOpen && p.blankBetween(p.lastSrc, line) {
		p.lines = append(p.lines, outLine{blank: true})
	}
	p.newLine()
	p.afterOpen = false
}

func (p *printer) newLine() {
	p.lines = append(p.lines, outLine{indent: p.indent})
	p.cur = &p.lines[len(p.lines)-1]
}

func (p *printer) endLine() { p.cur = nil }

// flushComments emits every comment before source offset off. Full-line
// comments become their own lines at the current indent (or, when the
// current output line already has text, move above it); trailing
// comments attach to the output line holding the code they followed.
func (p *printer) flushComments(off int) {
	for p.nextCmt < len(p.f.Comments) && p.f.Comments[p.nextCmt].Offset < off {
		c := p.f.Comments[p.nextCmt]
		p.nextCmt++
		line := p.lineOf(c.Offset)
		if c.Inline {
			// Attach to the latest output line holding code from the
			// comment's source line (a chain or else-branch continued on
			// the next source line is one output line), else to the
			// latest one with code from before it.
			if l := p.inlineTarget(line); l != nil {
				if l.comment != "" {
					l.comment += " " + c.Text
				} else {
					l.comment = c.Text
				}
			}
			p.lastSrc = line
			continue
		}
		if p.cur != nil && p.cur.text != "" {
			p.cur.above = append(p.cur.above, c.Text)
			p.lastSrc = line
			continue
		}
		if !p.afterOpen && len(p.lines) > 0 && p.blankBetween(p.lastSrc, line) {
			p.lines = append(p.lines, outLine{blank: true})
		}
		p.lines = append(p.lines, outLine{indent: p.indent, comment: c.Text})
		p.cur = nil
		p.afterOpen = false
		p.lastSrc = line
	}
}

// inlineTarget is the output line a trailing comment on source line
// line belongs to, or nil.
func (p *printer) inlineTarget(line int) *outLine {
	for i := len(p.lines) - 1; i >= 0; i-- {
		if l := &p.lines[i]; !l.blank && l.text != "" && l.firstSrc <= line && line <= l.srcLine {
			return l
		}
	}
	for i := len(p.lines) - 1; i >= 0; i-- {
		if l := &p.lines[i]; !l.blank && l.text != "" && l.srcLine <= line {
			return l
		}
	}
	return nil
}

// word appends text that came from source offset off. The source lines
// it spans are counted from off and the newlines in text (a condition
// or an expression in brackets may span lines), not from off+len(text):
// the printed text need not be as long as the source's (padded labels,
// normalised spacing).
func (p *printer) word(off int, text string) {
	if p.cur == nil {
		p.newLine()
	}
	p.cur.text += p.pendingSep + text
	p.pendingSep = ""
	first := p.lineOf(off)
	last := first + strings.Count(text, "\n")
	if p.cur.firstSrc == 0 || first < p.cur.firstSrc {
		p.cur.firstSrc = first
	}
	if last > p.cur.srcLine {
		p.cur.srcLine = last
	}
	if p.cur.srcLine > p.lastSrc {
		p.lastSrc = p.cur.srcLine
	}
}

func (p *printer) space() { p.pendingSep = " " }

func (p *printer) header(h *Header) {
	p.word(Start(h), h.Keyword)
	if h.Name != nil {
		p.space()
		p.word(Start(h.Name), h.Name.Value)
	}
	if h.Eq {
		p.space()
		p.word(Start(h), "=")
	}
	for i, v := range h.Values {
		if i > 0 {
			p.word(Start(v), ",")
		}
		p.space()
		p.word(Start(v), v.Raw)
	}
}

func (p *printer) chain(c *Chain) {
	cont := false
	for i, s := range c.Steps {
		if i > 0 {
			if _, set := c.Steps[i-1].(*Set); set {
				// A set's expression runs to the end of its line, so
				// the chain goes on on the next one, indented.
				if !cont {
					p.indent++
					cont = true
				}
				p.endLine()
				p.newLine()
			} else {
				p.space()
			}
			p.word(Start(s), "then")
			p.space()
		}
		p.step(s)
	}
	if cont {
		p.indent--
	}
}

func (p *printer) step(s Step) {
	switch s := s.(type) {
	case *When:
		w := s
		p.word(Start(w), "when ")
		p.word(Start(w.Cond), w.Cond.Text)
		p.space()
		p.block(w.Then)
		if w.Else != nil {
			p.space()
			p.word(Start(w.Else), "else")
			p.space()
			p.chain(w.Else)
		}
	case *Block:
		p.block(s)
	case *Set:
		p.word(Start(s), "set "+s.Name.Value+" = ")
		p.word(Start(s.Expr), s.Expr.Text)
	case *BadStep:
		p.word(Start(s), s.Text)
	case *Command:
		p.word(Start(s), s.Name.Value)
		for _, v := range s.Args {
			p.space()
			p.word(Start(v), v.String())
		}
		if s.Block != nil {
			p.space()
			p.block(s.Block)
		}
	}
}

func (p *printer) block(b *Block) {
	open, end := b.Pos()
	closeAt := end - 1 // the ">"
	p.word(open, "<")
	if len(b.Stmts) == 0 && !p.hasCommentsBefore(closeAt) {
		p.word(closeAt, ">")
		return
	}
	width := 0
	for _, it := range b.Stmts {
		if br, ok := it.(*Branch); ok {
			width = max(width, len(br.Label.String()))
		}
	}
	p.indent++
	p.afterOpen = true
	p.endLine()
	for _, it := range b.Stmts {
		p.startItem(Start(it), false)
		switch it := it.(type) {
		case *Branch:
			l := it.Label.String()
			p.word(Start(it), fmt.Sprintf("%-*s ->", width, l))
			p.space()
			p.chain(it.Body)
		case *Chain:
			p.chain(it)
		}
		p.endLine()
	}
	p.flushComments(closeAt)
	p.indent--
	p.newLine()
	p.afterOpen = false
	p.word(closeAt, ">")
}

func (p *printer) hasCommentsBefore(off int) bool {
	return p.nextCmt < len(p.f.Comments) && p.f.Comments[p.nextCmt].Offset < off
}
