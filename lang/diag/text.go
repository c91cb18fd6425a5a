package diag

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/flowc-dev/flowc/lang/file"
)

// WriteText renders diagnostics in the style of rustc: a header with the
// severity and code, the place, the source lines under a line-number
// gutter with the primary span underlined (^), the related spans
// underlined (-) with their labels, the hint, and each fix as the text
// it would give (~ under what it replaces, + under what it inserts, - under
// what it deletes):
//
//	error[flow/applet]: unknown applet "rply"
//	 --> a.flow:3:1
//	  |
//	3 | rply "hi"
//	  | ^^^^
//	  |
//	  = help: did you mean "reply"?
//	help: replace "rply" with "reply"
//	  |
//	3 | reply "hi"
//	  | ~~~~~
//
// A span over several lines is drawn whole (up to maxSpanLines lines;
// a longer one shows its first and last lines around "..."), with its
// left edge in the margin:
//
//	2 | / menu "pick" <
//	3 | |   1 -> reply "a"
//	4 | | >
//	  | |_^
//
// With snippets false each diagnostic is one grep-friendly line, GNU
// style (what editors' problem matchers and `flowc check --format
// short` read), and its hint an indented line under it:
//
//	a.flow:3:1: error: unknown applet "rply" [flow/applet]
//	  hint: did you mean "reply"?
func WriteText(w io.Writer, l List, snippets bool) {
	for i, d := range l {
		if !snippets {
			fmt.Fprintf(w, "%s: %s: %s [%s]\n", d.Span, d.Severity, d.Message, d.Code)
			if d.Hint != "" {
				fmt.Fprintf(w, "  hint: %s\n", d.Hint)
			}
			continue
		}
		if i > 0 {
			io.WriteString(w, "\n")
		}
		io.WriteString(w, renderDiagnostic(d))
	}
}

// maxSpanLines is the most lines of one span drawn; a longer span shows
// its first and last spanEdgeLines lines. A section of 300 lines
// underlined whole would push everything else off the screen.
const (
	maxSpanLines  = 12
	spanEdgeLines = 5
	// maxFixLines is the most lines of a fix's result drawn.
	maxFixLines = 8
)

// renderDiagnostic is the rustc-style text of one diagnostic.
func renderDiagnostic(d Diagnostic) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s[%s]: %s\n", d.Severity, d.Code, d.Message)

	// Group the spans by file: the primary's file first, then the
	// others in the order their first related span names them.
	type group struct {
		src  *file.Source
		anns []ann
	}
	var groups []*group
	bySrc := map[*file.Source]*group{}
	add := func(sp file.Span, a ann) {
		g := bySrc[sp.Source]
		if g == nil {
			g = &group{src: sp.Source}
			bySrc[sp.Source] = g
			groups = append(groups, g)
		}
		g.anns = append(g.anns, a)
	}
	if d.Span.IsValid() {
		add(d.Span, ann{start: d.Span.Start, end: d.Span.End, ch: '^', primary: true})
	}
	var loose []string // related spans without a place
	for _, r := range d.Related {
		if r.Span.IsValid() {
			add(r.Span, ann{start: r.Span.Start, end: r.Span.End, ch: '-', label: r.Message})
		} else if r.Message != "" {
			loose = append(loose, r.Message)
		}
	}
	fixes := make([]*fixView, 0, len(d.Fixes))
	for _, f := range d.Fixes {
		fixes = append(fixes, newFixView(f)...)
	}

	// One gutter width for all of it, so that the bars line up.
	maxLine := 0
	for _, g := range groups {
		for _, a := range g.anns {
			maxLine = max(maxLine, g.src.Pos(max(a.end, a.start)).Line)
		}
	}
	for _, f := range fixes {
		maxLine = max(maxLine, f.base+f.src.Lines())
	}
	gw := len(fmt.Sprint(maxLine))
	pad := strings.Repeat(" ", gw)

	for i, g := range groups {
		first := g.anns[0]
		if i == 0 {
			fmt.Fprintf(&b, "%s--> %s\n", pad, g.src.Span(first.start, first.end))
		} else {
			fmt.Fprintf(&b, "%s |\n%s::: %s\n", pad, pad, g.src.Span(first.start, first.end))
		}
		fmt.Fprintf(&b, "%s |\n", pad)
		s := snippet{src: g.src, anns: g.anns, gw: gw}
		s.write(&b)
	}
	var notes []string
	for _, n := range loose {
		notes = append(notes, "note: "+n)
	}
	if d.Hint != "" {
		notes = append(notes, "help: "+d.Hint)
	}
	if len(notes) > 0 && len(groups) > 0 {
		fmt.Fprintf(&b, "%s |\n", pad)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "%s = %s\n", pad, indentLines(n, pad+"   "))
	}
	for _, f := range fixes {
		title := f.title
		if title == "" {
			title = "apply this fix"
		}
		fmt.Fprintf(&b, "help: %s\n", title)
		if f.src.Name != name(d.Span) {
			fmt.Fprintf(&b, "%s::: %s\n", pad, f.src.Name)
		}
		fmt.Fprintf(&b, "%s |\n", pad)
		s := snippet{src: f.src, anns: f.anns, gw: gw, base: f.base, maxLines: maxFixLines}
		s.write(&b)
	}
	return b.String()
}

// indentLines indents every line of s after the first.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// fixView is a fix as drawn: the lines it touches, in one file, as they
// read once it is applied, with the new text marked.
type fixView struct {
	title string
	src   *file.Source // the changed lines only
	base  int          // the line number of src's first line, less one
	anns  []ann
}

// newFixView draws fix f, one view per file it edits (almost always
// one). A fix whose edits overlap or fall outside their text is drawn
// as nothing: ApplyFixes would refuse it too.
func newFixView(f Fix) []*fixView {
	var order []*file.Source
	edits := map[*file.Source][]Edit{}
	for _, e := range f.Edits {
		if !e.Span.IsValid() {
			return nil
		}
		if _, ok := edits[e.Span.Source]; !ok {
			order = append(order, e.Span.Source)
		}
		edits[e.Span.Source] = append(edits[e.Span.Source], e)
	}
	var out []*fixView
	for _, src := range order {
		es := append([]Edit(nil), edits[src]...)
		sort.SliceStable(es, func(i, j int) bool { return es[i].Span.Start < es[j].Span.Start })
		if err := checkEdits(src.Text, es); err != nil {
			return nil
		}
		deleteOnly := true
		for _, e := range es {
			deleteOnly = deleteOnly && e.New == ""
		}
		// The lines the edits touch, whole.
		first, last := src.Pos(es[0].Span.Start).Line, src.Pos(es[len(es)-1].Span.End).Line
		lo, hi := src.Offset(first, 1), src.LineEnd(last)
		v := &fixView{title: f.Title, base: first - 1}
		var text strings.Builder
		at := lo
		var anns []ann
		for _, e := range es {
			text.WriteString(src.Text[at:e.Span.Start])
			if deleteOnly {
				start := text.Len()
				text.WriteString(src.Text[e.Span.Start:e.Span.End])
				anns = append(anns, ann{start: start, end: text.Len(), ch: '-'})
			} else if e.New != "" {
				ch := '~'
				if e.Span.Start == e.Span.End {
					ch = '+'
				}
				start := text.Len()
				text.WriteString(e.New)
				anns = append(anns, ann{start: start, end: text.Len(), ch: ch})
			}
			at = e.Span.End
		}
		text.WriteString(src.Text[at:hi])
		v.src = file.NewSource(src.Name, text.String())
		// A marked text that runs over lines is marked line by line
		// (each line's part underlined), as the new text of a fix
		// reads as lines, not as a block.
		for _, a := range anns {
			for a.start < a.end {
				le := v.src.LineEnd(v.src.Pos(a.start).Line)
				if le >= a.end {
					v.anns = append(v.anns, a)
					break
				}
				if le > a.start {
					v.anns = append(v.anns, ann{start: a.start, end: le, ch: a.ch})
				}
				a.start = le + 1
			}
		}
		out = append(out, v)
	}
	return out
}

// ann is one underlined span of a snippet.
type ann struct {
	start, end int // byte offsets in the snippet's source
	ch         rune
	primary    bool
	label      string

	// Worked out by the snippet:
	sl, el int  // first and last line
	track  int  // the margin column of a span over several lines
	slash  bool // it starts at its line's first character: "/" in the margin
}

func (a *ann) multi() bool { return a.el > a.sl }

// snippet draws lines of src with annotations under them.
type snippet struct {
	src      *file.Source
	anns     []ann
	gw       int // gutter width
	base     int // added to line numbers
	maxLines int // most lines of one span; 0: maxSpanLines
	tracks   int
}

func (s *snippet) write(b *strings.Builder) {
	src := s.src
	limit := s.maxLines
	if limit == 0 {
		limit = maxSpanLines
	}
	for i := range s.anns {
		a := &s.anns[i]
		a.start = min(max(a.start, 0), len(src.Text))
		a.end = min(max(a.end, a.start), len(src.Text))
		a.sl = src.Pos(a.start).Line
		a.el = a.sl
		if a.end > a.start {
			a.el = src.Pos(a.end - 1).Line
		}
	}
	// Tracks: a multi-line span takes the lowest margin column free at
	// its first line.
	var ends []int // the last line of the span on each track
	order := make([]int, len(s.anns))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return s.anns[order[i]].start < s.anns[order[j]].start })
	for _, i := range order {
		a := &s.anns[i]
		if !a.multi() {
			continue
		}
		ls := src.Offset(a.sl, 1)
		a.slash = strings.TrimLeft(src.Text[ls:a.start], " \t") == ""
		t := 0
		for t < len(ends) && ends[t] >= a.sl {
			t++
		}
		if t == len(ends) {
			ends = append(ends, 0)
		}
		ends[t], a.track = a.el, t
	}
	s.tracks = len(ends)

	// The lines to show.
	show := map[int]bool{}
	for _, a := range s.anns {
		if a.el-a.sl+1 <= limit {
			for l := a.sl; l <= a.el; l++ {
				show[l] = true
			}
			continue
		}
		edge := min(spanEdgeLines, limit/2)
		for l := 0; l < edge; l++ {
			show[a.sl+l], show[a.el-l] = true, true
		}
	}
	lines := make([]int, 0, len(show))
	for l := range show {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	prev := 0
	for _, l := range lines {
		if prev > 0 && l == prev+2 {
			s.line(b, prev+1) // one hidden line costs as much as "..."
		} else if prev > 0 && l > prev+1 {
			fmt.Fprintf(b, "...%s\n", strings.TrimRight(" "+s.margin(l-1, marginLine, -1), " "))
		}
		s.line(b, l)
		prev = l
	}
}

// marginKind says which row the margin is drawn for.
type marginKind int

const (
	marginLine  marginKind = iota // the source line
	marginStart                   // a start row (" ___^") of track cur
	marginBelow                   // an underline or label row
	marginEnd                     // an end row ("|___^") of track cur
)

// margin is the left margin of a row for line l: a "|" for each
// multi-line span passing there, "/" where one starts at the line's
// first character.
func (s *snippet) margin(l int, kind marginKind, cur int) string {
	if s.tracks == 0 {
		return ""
	}
	m := []rune(strings.Repeat(" ", 2*s.tracks))
	for _, a := range s.anns {
		if !a.multi() || l < a.sl || l > a.el {
			continue
		}
		on := false
		switch kind {
		case marginLine:
			if a.sl == l && a.slash {
				m[2*a.track] = '/'
				continue
			}
			on = a.sl < l
		case marginStart:
			on = a.sl < l || a.slash || a.track < cur
		case marginBelow:
			on = true
		case marginEnd:
			on = a.el > l || a.track < cur
		}
		if on {
			m[2*a.track] = '|'
		}
	}
	return string(m)
}

// line writes source line l and the rows under it.
func (s *snippet) line(b *strings.Builder, l int) {
	src := s.src
	ls, le := src.Offset(l, 1), src.LineEnd(l)
	if le > ls && src.Text[le-1] == '\r' {
		le--
	}
	var here []*ann // single-line spans on l
	focus, reach := -1, ls
	for i := range s.anns {
		a := &s.anns[i]
		if a.sl == l && !a.multi() {
			here = append(here, a)
		}
		if a.sl == l {
			if focus < 0 || a.start < focus {
				focus = a.start
			}
		}
		if a.el == l {
			reach = max(reach, min(a.end, le))
		}
	}
	if focus < 0 {
		focus = ls
	}
	v := visualLine(src.Text, ls, le, min(focus, le), reach)
	num := fmt.Sprint(l + s.base)
	gutter := strings.Repeat(" ", s.gw-len(num)) + num + " | "
	blank := strings.Repeat(" ", s.gw) + " | "
	row := func(prefix, margin, rest string) {
		b.WriteString(strings.TrimRight(prefix+margin+rest, " "))
		b.WriteByte('\n')
	}
	row(gutter, s.margin(l, marginLine, -1), v.text)

	// Starts of multi-line spans not at the line's first character.
	for i := range s.anns {
		a := &s.anns[i]
		if !a.multi() || a.sl != l || a.slash {
			continue
		}
		m := []rune(s.margin(l, marginStart, a.track))
		c := v.col(a.start)
		m = append(m, []rune(strings.Repeat(" ", c))...)
		for k := 2*a.track + 1; k < len(m); k++ {
			m[k] = '_'
		}
		row(blank, string(m), string(a.ch))
	}

	// Single-line spans: one underline row, then the labels that do not
	// fit at its end, each hanging from its span by a "|".
	if len(here) > 0 {
		sort.SliceStable(here, func(i, j int) bool { return here[i].start < here[j].start })
		var u []rune
		put := func(c int, r rune) {
			for len(u) <= c {
				u = append(u, ' ')
			}
			u[c] = r
		}
		draw := func(a *ann) {
			c0, c1 := v.col(a.start), v.col(min(a.end, le))
			if a.end > le && a.end > a.start {
				c1++ // the newline: one column past the text
			}
			put(c0, a.ch)
			for c := c0 + 1; c < c1; c++ {
				put(c, a.ch)
			}
		}
		for _, a := range here { // primary last, on top
			if !a.primary {
				draw(a)
			}
		}
		for _, a := range here {
			if a.primary {
				draw(a)
			}
		}
		var hanging []*ann
		last := here[len(here)-1]
		for _, a := range here {
			if a.label == "" {
				continue
			}
			if a == last && v.col(a.start) >= maxEnd(here[:len(here)-1], v) {
				continue
			}
			hanging = append(hanging, a)
		}
		line := string(u)
		if last.label != "" && !contains(hanging, last) {
			line = strings.TrimRight(line, " ") + " " + last.label
		}
		mb := s.margin(l, marginBelow, -1)
		row(blank, mb, line)
		if len(hanging) > 0 {
			pipes := func(as []*ann) []rune {
				var r []rune
				for _, a := range as {
					c := v.col(a.start)
					for len(r) <= c {
						r = append(r, ' ')
					}
					r[c] = '|'
				}
				return r
			}
			row(blank, mb, string(pipes(hanging)))
			for i := len(hanging) - 1; i >= 0; i-- {
				r := pipes(hanging[:i])
				c := v.col(hanging[i].start)
				for len(r) < c {
					r = append(r, ' ')
				}
				row(blank, mb, string(r[:c])+indentLines(hanging[i].label, blank+mb+strings.Repeat(" ", c)))
			}
		}
	}

	// Ends of multi-line spans, the innermost first.
	var ending []*ann
	for i := range s.anns {
		if a := &s.anns[i]; a.multi() && a.el == l {
			ending = append(ending, a)
		}
	}
	sort.SliceStable(ending, func(i, j int) bool { return ending[i].track > ending[j].track })
	for _, a := range ending {
		m := []rune(s.margin(l, marginEnd, a.track))
		m[2*a.track] = '|'
		lastChar := a.end - 1
		if lastChar >= le { // the newline
			lastChar = le
		} else {
			_, lastChar = lastRuneStart(src.Text, lastChar)
		}
		c := v.col(lastChar)
		m = append(m, []rune(strings.Repeat(" ", c))...)
		for k := 2*a.track + 1; k < len(m); k++ {
			m[k] = '_'
		}
		rest := string(a.ch)
		if a.label != "" {
			rest += " " + a.label
		}
		row(blank, string(m), rest)
	}
}

// lastRuneStart is the start of the rune holding byte i of s.
func lastRuneStart(s string, i int) (rune, int) {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r, i
}

// maxEnd is the display column where the last of as ends.
func maxEnd(as []*ann, v *visual) int {
	m := -1
	for _, a := range as {
		m = max(m, v.col(a.end))
	}
	return m
}

func contains(as []*ann, a *ann) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

// lineContext is how many characters of a long line are drawn before the
// first span on it and after the last; lineReach caps how far past the
// first span's start the line is drawn. Drawing a 10,000-character line
// whole for each of its diagnostics makes the output quadratic.
const (
	lineContext = 100
	lineReach   = 300
)

// visual is a window of one source line as drawn: tabs expanded to the
// next multiple of 4, control characters as U+FFFD, "…" where the line
// was cut, and the display column of each byte offset (a wide character
// takes two columns, a combining one none).
type visual struct {
	text string
	offs []int // byte offset of each rune drawn, and of the window's end
	cols []int // its display column
}

// visualLine draws text[ls:le] around the bytes focus..reach.
func visualLine(text string, ls, le, focus, reach int) *visual {
	lo := focus
	for n := 0; n < lineContext && lo > ls; n++ {
		_, w := utf8.DecodeLastRuneInString(text[ls:lo])
		lo -= w
	}
	hi := focus
	for n := 0; hi < le && (n < lineContext || hi < reach) && n < lineReach+lineContext; n++ {
		_, w := utf8.DecodeRuneInString(text[hi:le])
		hi += w
	}
	v := &visual{}
	var b strings.Builder
	col := 0
	if lo > ls {
		b.WriteString("…")
		col = 1
	}
	for off := lo; off < hi; {
		r, w := utf8.DecodeRuneInString(text[off:])
		v.offs, v.cols = append(v.offs, off), append(v.cols, col)
		switch {
		case r == '\t':
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case r == utf8.RuneError && w == 1, unicode.IsControl(r):
			b.WriteRune('\uFFFD')
			col++
		default:
			b.WriteRune(r)
			col += runeWidth(r)
		}
		off += w
	}
	v.offs, v.cols = append(v.offs, hi), append(v.cols, col)
	if hi < le {
		b.WriteString("…")
	}
	v.text = b.String()
	return v
}

// col is the display column of byte offset off, clamped to the window.
func (v *visual) col(off int) int {
	i := sort.Search(len(v.offs), func(i int) bool { return v.offs[i] > off }) - 1
	if i < 0 {
		return v.cols[0]
	}
	return v.cols[i]
}

// runeWidth is the number of terminal columns r takes: none for a
// combining mark or a zero-width format character (a joiner, a variation
// selector, an emoji's skin tone), two for an East Asian wide or full-width character (CJK,
// most emoji), else one.
func runeWidth(r rune) int {
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || r >= 0x1F3FB && r <= 0x1F3FF {
		return 0 // the skin tones (U+1F3FB…) join the emoji before them
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
