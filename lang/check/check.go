// Package check runs the checks that need only the parsed files: headers
// (numbers, timezone, schedules, holidays, applet files), applet
// arguments against the registry, branch labels, durations, and the
// syntax of every expr-lang expression, mapped back to the exact column
// of the .flow file. Name resolution, types and control flow are the
// compiler's job; this package is what `flowc check` runs even when a
// file does not compile.
package check

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	exprfile "github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/schedule"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/runtime"
)

// Stable diagnostic codes.
const (
	CodeHeader    = "flow/header"
	CodeNumber    = "flow/number"
	CodeNoNumbers = "flow/no-numbers"
	CodeTimezone  = "flow/timezone"
	CodeSchedule  = "flow/schedule"
	CodeHoliday   = "flow/holiday"
	CodeApplet    = "flow/applet"
	CodeArgs      = "flow/args"
	CodeBranch    = "flow/branch"
	CodeDuration  = "flow/duration"
	CodeExpr      = "flow/expr"
	CodeTemplate  = "flow/template"
	CodeDupFlow   = "flow/duplicate-flow"
	CodeSection   = "flow/section"
	CodeOptOut    = "flow/opt-out-keyword"
)

// Info is what the headers of one file declare, collected while checking.
type Info struct {
	File      *syntax.File
	Name      string
	NameSpan  file.Span
	Numbers   []Number
	Timezone  *time.Location
	Schedules map[string]*schedule.Schedule
	Holidays  []string
	Applets   map[string]AppletDecl
	Help      string
	Hosts     []Host // the hosts the flow's http steps may call (http.go)
	// Channel is what the flow handles: ChannelSMS (texts, the default)
	// or ChannelVoice (calls, `channel voice`; voice.go).
	Channel     string
	ChannelSpan file.Span
	cache       *parsed // calls bound, templates parsed, timeouts read (calls.go)
}

// Number is one E.164 number and where it was declared.
type Number struct {
	Value string
	Span  file.Span
}

// AppletDecl is `applet NAME = "path.js"`.
type AppletDecl struct {
	Name string
	Path string // File joined to the .flow file's directory, for messages
	File string // as declared: relative to the flow's directory, in Source.Files(); "" when refused
	Span file.Span
}

// Files checks a set of parsed files together: each file on its own,
// then what spans files (a number served by two flows, two flows with
// one name).
func Files(files []*syntax.File) ([]*Info, diag.List) {
	var all diag.List
	infos := make([]*Info, 0, len(files))
	for _, f := range files {
		info, d := File(f)
		infos = append(infos, info)
		all = append(all, d...)
	}
	names := map[string]*Info{}
	for _, info := range infos {
		if prev, ok := names[info.Name]; ok {
			all.Errorf(info.NameSpan, CodeDupFlow, "flow %q is also defined in %s", info.Name, prev.NameSpan).Hint =
				"name one of them with a `flow NAME` header"
		} else {
			names[info.Name] = info
		}
	}
	channels(infos, &all) // voice.go
	all.Sort()
	return infos, all
}

type checker struct {
	f     *syntax.File
	info  *Info
	diags diag.List
	bad   bool // the file has lines the parser gave up on (already reported)
	// condHints are hints for unknown applets that are probably the
	// right side of a comparison: `when count < limit < …`.
	condHints map[*syntax.Command]string
	// brokenSchedules are schedules declared with a spec that does not
	// parse (already reported): hours("NAME") naming one says nothing
	// more. numbersHeader: the file has a numbers header, so a list whose
	// every value was wrong (already reported) is not "no numbers".
	brokenSchedules map[string]bool
	numbersHeader   bool
}

// File checks one parsed file.
func File(f *syntax.File) (*Info, diag.List) {
	c := &checker{f: f, info: &Info{File: f, Schedules: map[string]*schedule.Schedule{}, Applets: map[string]AppletDecl{}}}
	base := filepath.Base(f.Source.Name)
	c.info.Name = strings.TrimSuffix(base, filepath.Ext(base))
	c.info.NameSpan = f.Source.Span(0, 0)
	c.info.Timezone = time.UTC
	seen := map[string]file.Span{}
	sections := map[string]file.Span{}
	// Headers first: statements refer to schedules and applets.
	for _, it := range f.Stmts {
		if h, ok := it.(*syntax.Header); ok {
			c.header(h, seen)
		}
	}
	for _, it := range f.Stmts {
		switch it := it.(type) {
		case *syntax.Section:
			sp := f.Span(it.Name)
			if prev, ok := sections[it.Name.Value]; ok {
				c.diags.Errorf(sp, CodeSection, "section %q is already defined at %s", it.Name.Value, prev)
			} else {
				sections[it.Name.Value] = sp
			}
			c.block(it.Body, false)
		case *syntax.Chain:
			c.chain(it)
		}
	}
	// A file with syntax errors may have lost its numbers header to
	// recovery: the warning would only repeat the syntax error.
	if len(c.info.Numbers) == 0 && !c.bad && !f.NotFlowText && !c.numbersHeader {
		c.diags.Warnf(c.info.NameSpan, CodeNoNumbers, "flow %q serves no numbers: no message can reach it", c.info.Name).Hint =
			`add a header such as: numbers "+15550100"`
	}
	c.diags.Sort()
	return c.info, c.diags
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func (c *checker) header(h *syntax.Header, seen map[string]file.Span) {
	sp := c.f.Span(h)
	kw := h.Keyword
	single := kw == "flow" || kw == "timezone" || kw == "help" || kw == "channel"
	if single {
		if prev, ok := seen[kw]; ok {
			c.diags.Errorf(sp, CodeHeader, "duplicate %s header (first at %s)", kw, prev)
			return
		}
		seen[kw] = sp
	}
	wantName := kw == "flow" || kw == "schedule" || kw == "applet" || kw == "channel"
	wantEq := kw == "schedule" || kw == "applet"
	switch {
	case wantName && h.Name == nil:
		c.diags.Errorf(sp, CodeHeader, "%s needs a name: %s", kw, headerSyntax[kw])
		return
	case !wantName && h.Name != nil:
		c.diags.Errorf(c.f.Span(h.Name), CodeHeader, "unexpected name after %s: %s", kw, headerSyntax[kw])
		return
	case wantEq != h.Eq:
		c.diags.Errorf(sp, CodeHeader, "malformed %s header: %s", kw, headerSyntax[kw])
		return
	}
	values := make([]string, len(h.Values))
	for i, v := range h.Values {
		s, err := v.Value()
		if err != nil {
			c.diags.Errorf(c.f.Span(v), CodeHeader, "invalid string: %v", err)
			return
		}
		values[i] = s
	}
	switch {
	case (kw == "flow" || kw == "channel") && len(values) != 0, (kw == "timezone" || kw == "schedule" || kw == "applet" || kw == "help") && len(values) != 1:
		c.diags.Errorf(sp, CodeHeader, "malformed %s header: %s", kw, headerSyntax[kw])
		return
	case (kw == "numbers" || kw == "holidays" || kw == "hosts") && len(values) == 0:
		c.diags.Errorf(sp, CodeHeader, "%s needs at least one value: %s", kw, headerSyntax[kw])
		return
	}
	switch kw {
	case "flow":
		c.info.Name = h.Name.Value
		c.info.NameSpan = c.f.Span(h.Name)
	case "numbers":
		c.numbersHeader = true
		for i, n := range values {
			vsp := c.f.Span(h.Values[i])
			if !e164.MatchString(n) {
				d := c.diags.Errorf(vsp, CodeNumber, "%q is not an E.164 number", n)
				d.Hint = `write numbers as + then country code and number, digits only: "+15550100"`
				continue
			}
			if why := impossibleNumber(n); why != "" {
				c.diags.Warnf(vsp, CodeNumber, "number %s cannot exist: %s", n, why).Hint =
					"check the digits; for a made-up number use the fiction range +1 NXX 555 01XX, e.g. +12025550123"
			}
			dup := false
			for _, prev := range c.info.Numbers {
				if prev.Value == n {
					c.diags.Errorf(vsp, CodeNumber, "number %s is listed twice (first at %s)", n, prev.Span)
					dup = true
				}
			}
			if !dup {
				c.info.Numbers = append(c.info.Numbers, Number{Value: n, Span: vsp})
			}
		}
	case "timezone":
		loc, err := time.LoadLocation(values[0])
		if err != nil || values[0] == "" || values[0] == "Local" {
			c.diags.Errorf(c.f.Span(h.Values[0]), CodeTimezone, "unknown time zone %q", values[0]).Hint =
				`use an IANA zone name such as "America/New_York" or "UTC"`
			return
		}
		c.info.Timezone = loc
		if suggest, fixed := fixedOffsetZone(values[0], loc); fixed {
			d := c.diags.Warnf(c.f.Span(h.Values[0]), CodeTimezone, "time zone %q has no daylight saving time: a fixed offset, not a place", values[0])
			d.Hint = "name the place the hours are kept in"
			if suggest != "" {
				d.Hint = fmt.Sprintf("did you mean %q?", suggest)
			}
		}
	case "schedule":
		name := h.Name.Value
		if _, ok := c.info.Schedules[name]; ok {
			c.diags.Errorf(c.f.Span(h.Name), CodeSchedule, "schedule %q is already defined", name)
			return
		}
		s, ok := c.scheduleSpec(values[0], h.Values[0].Raw, syntax.Start(h.Values[0]))
		if ok {
			c.info.Schedules[name] = s
		} else {
			if c.brokenSchedules == nil {
				c.brokenSchedules = map[string]bool{}
			}
			c.brokenSchedules[name] = true
		}
	case "holidays":
		for i, v := range values {
			if err := schedule.CheckHoliday(v); err != nil {
				msg := fmt.Sprintf("%q is not a date: %s", v, err.Msg)
				if strings.HasPrefix(err.Msg, "expected") {
					msg = fmt.Sprintf("%q is not a date (YYYY-MM-DD)", v)
				}
				c.diags.Errorf(c.f.Span(h.Values[i]), CodeHoliday, "%s", msg).Hint = err.Hint
				continue
			}
			c.info.Holidays = append(c.info.Holidays, v)
		}
	case "applet":
		name := h.Name.Value
		if _, ok := c.info.Applets[name]; ok {
			c.diags.Errorf(c.f.Span(h.Name), CodeApplet, "applet %q is already declared", name)
			return
		}
		c.info.Applets[name] = c.appletDecl(h, name, values[0]) // paths.go
	case "help":
		c.info.Help = values[0]
	case "channel":
		c.channelHeader(h) // voice.go
	case "hosts":
		c.hostsHeader(h, values) // http.go
	}
}

var headerSyntax = map[string]string{
	"flow":     "flow NAME",
	"channel":  "channel voice (or channel sms, the default)",
	"numbers":  `numbers "+15550100", "+15550101"`,
	"timezone": `timezone "America/New_York"`,
	"schedule": `schedule NAME = "mon-fri 9-17"`,
	"holidays": `holidays "2026-12-25", "2027-01-01"`,
	"applet":   `applet NAME = "path/to/applet.js"`,
	"help":     `help "Text sent when the contact texts HELP"`,
	"hosts":    `hosts "crm.example.com", "api.example.com"`,
}

// scheduleSpec parses a schedule spec written as the string literal raw
// at byte offset off, reporting errors at the exact column.
func (c *checker) scheduleSpec(spec, raw string, off int) (*schedule.Schedule, bool) {
	s, err := schedule.Parse(spec)
	if err == nil {
		return s, true
	}
	start, end := off, off+len(raw)
	if se, ok := err.(*schedule.SyntaxError); ok && !strings.Contains(raw, `\`) {
		// Without escapes the literal's bytes are the spec's bytes.
		start = off + 1 + se.Offset
		end = off + 1 + max(se.End, se.Offset+1)
		err = fmt.Errorf("%s", se.Msg)
	}
	c.diags.Errorf(c.f.Source.Span(start, min(end, off+len(raw))), CodeSchedule, "bad schedule %q: %v", spec, err).Hint = scheduleHint
	return nil, false
}

const scheduleHint = `write hours like "9-5", "9:30-17:00" or "mon-fri 9-17, sat 10-14" (see docs/language.md)`

func (c *checker) chain(ch *syntax.Chain) {
	for _, st := range ch.Steps {
		c.step(st)
	}
}

func (c *checker) step(st syntax.Step) {
	switch st := st.(type) {
	case *syntax.When:
		c.condition(st.Cond)
		c.noteCondOperand(st)
		c.block(st.Then, false)
		if st.Else != nil {
			c.chain(st.Else)
		}
	case *syntax.Block:
		c.block(st, false)
	case *syntax.Set:
		if c.setDoubleEquals(st) {
			return
		}
		c.expr(st.Expr.Text, syntax.Start(st.Expr))
	case *syntax.BadStep:
		c.bad = true
		if st.Block != nil {
			c.block(st.Block, true)
		}
	case *syntax.Command:
		c.command(st)
	}
}

// block checks a block's items. Statement blocks hold no branches;
// applets' blocks hold only branches (checked in command).
func (c *checker) block(b *syntax.Block, lenient bool) {
	for _, it := range b.Stmts {
		switch it := it.(type) {
		case *syntax.Branch:
			if !lenient {
				c.diags.Errorf(c.f.Span(it.Label), CodeBranch, "branch %q outside an applet block", it.Label.String()).Hint =
					"labelled branches (KEY -> …) belong inside a menu, ask or run block"
			}
			c.chain(it.Body)
		case *syntax.Chain:
			c.chain(it)
		}
	}
}

// noteCondOperand recognises `when count < limit < …`: the condition
// stopped at the first '<', so `limit` reads as an applet whose block
// opens on the same line. If that applet is unknown, the hint says so.
func (c *checker) noteCondOperand(w *syntax.When) {
	if len(w.Then.Stmts) == 0 {
		return
	}
	first, ok := w.Then.Stmts[0].(*syntax.Chain)
	if !ok {
		return
	}
	cmd, ok := first.Steps[0].(*syntax.Command)
	if !ok || cmd.Block == nil {
		return
	}
	lt := syntax.Start(w.Then)
	src := c.f.Source
	if src.Pos(syntax.Start(cmd.Block)).Line != src.Pos(lt).Line {
		return
	}
	if c.condHints == nil {
		c.condHints = map[*syntax.Command]string{}
	}
	c.condHints[cmd] = syntax.CondHint(src.Text, w.Cond.Text, lt)
}

// expr reports syntax errors in expr-lang text found at byte offset
// off, and bad hours() specs in it.
func (c *checker) expr(text string, off int) {
	tree, err := exprparser.Parse(text)
	if err != nil {
		c.exprError(err, text, off, CodeExpr)
		return
	}
	c.hoursSpecs(tree, text, off)
}

func (c *checker) exprError(err error, text string, off int, code string) {
	start, end, msg := ExprErrorRange(err, text, off)
	msg = runtime.CompileMessage(msg)
	if msg == assignMessage {
		c.assignError(start, end, code)
		return
	}
	d := c.diags.Errorf(c.f.Source.Span(start, end), code, "%s", msg)
	c.curlyInExpr(d, start, off+len(text))
}

// curlyInExpr gives an expression error at a curly quote (`‘there’`,
// pasted from a chat or a word processor) the straight-quoted string
// meant: single quotes, which also fit inside a reply's "…". The string
// runs to the next curly quote before limit.
func (c *checker) curlyInExpr(d *diag.Diagnostic, start, limit int) {
	text := c.f.Source.Text
	r, n := utf8.DecodeRuneInString(text[start:])
	if !strings.ContainsRune("‘’“”„", r) {
		return
	}
	end := strings.IndexAny(text[start+n:min(limit, len(text))], "‘’“”")
	if end < 0 {
		d.Hint = "type a straight quote, ' or \", in its place"
		return
	}
	end += start + n
	_, m := utf8.DecodeRuneInString(text[end:])
	inner := text[start+n : end]
	d.Hint = fmt.Sprintf("write '%s'", inner)
	d.Fixes = []diag.Fix{{Title: "use straight quotes", Edits: []diag.Edit{
		{Span: c.f.Source.Span(start, start+n), New: "'"},
		{Span: c.f.Source.Span(end, end+m), New: "'"},
	}}}
}

// assignMessage is runtime.CompileMessage's words for a lone `=` in an
// expression.
const assignMessage = "unexpected `=`: to compare, write `==`"

// assignError reports the `=` at [start, end) that expr could not read:
// JavaScript's `===` (the `=` expr stopped at is its last) is one
// mistake at its first character, fixed to `==`; a single `=` meant as
// a comparison gets the `==` it lacks.
func (c *checker) assignError(start, end int, code string) {
	text := c.f.Source.Text
	if start >= 2 && text[start-2:start] == "==" {
		d := c.diags.Errorf(c.f.Source.Span(start-2, end), code, "`===` is JavaScript's: flowc compares with `==`")
		d.Hint = "`==` already compares both the value and its type"
		d.Fixes = []diag.Fix{{Title: "replace `===` with `==`", Edits: []diag.Edit{{Span: c.f.Source.Span(start-2, end), New: "=="}}}}
		return
	}
	d := c.diags.Errorf(c.f.Source.Span(start, end), code, "%s", assignMessage)
	d.Hint = "a condition only compares: `=` assigns, and only in set NAME = …"
	d.Fixes = []diag.Fix{{Title: "compare with `==`", Edits: []diag.Edit{{Span: c.f.Source.Span(start, end), New: "=="}}}}
}

// setDoubleEquals reports `set x == …`, a comparison's `==` where a set
// assigns with one `=`, and reports whether it did: the expression then
// starts with the second `=` and says nothing more useful.
func (c *checker) setDoubleEquals(st *syntax.Set) bool {
	trimmed := strings.TrimLeft(st.Expr.Text, " \t")
	if !strings.HasPrefix(trimmed, "=") || strings.HasPrefix(trimmed, "==") {
		return false
	}
	second := syntax.Start(st.Expr) + len(st.Expr.Text) - len(trimmed)
	text := c.f.Source.Text
	first := strings.LastIndexByte(text[:second], '=')
	if first < 0 || strings.TrimSpace(text[first+1:second]) != "" {
		return false
	}
	d := c.diags.Errorf(c.f.Source.Span(first, second+1), "flow/parse", "`==` in a set: set assigns with one `=`")
	d.Hint = fmt.Sprintf("write set %s = …; to keep a comparison's result, put it after the one `=`: set %s = (a == b)", st.Name.Value, st.Name.Value)
	d.Fixes = []diag.Fix{{Title: "assign with `=`", Edits: []diag.Edit{{Span: c.f.Source.Span(first+1, second+1), New: ""}}}}
	c.info.markReported(st)
	return true
}

// ExprErrorRange locates an expr-lang error in expression text found at
// byte offset off of a .flow file: the byte range to underline and the
// message. expr counts runes; the file counts bytes. The compiler uses it
// for type errors, the checker for syntax errors.
func ExprErrorRange(err error, text string, off int) (start, end int, msg string) {
	msg = err.Error()
	start, end = off, off+len(text)
	if fe, ok := err.(*exprfile.Error); ok {
		msg = fe.Message
		start = off + runeOffset(text, fe.From)
		end = start + 1
		if fe.To > fe.From {
			end = off + runeOffset(text, fe.To)
		}
		if start >= off+len(text) && text != "" {
			// Past the end (an unterminated literal): point at the
			// last character, as expr does for an unexpected end.
			_, n := utf8.DecodeLastRuneInString(text)
			start, end = off+len(text)-n, off+len(text)
		}
	}
	return start, min(end, off+len(text)), msg
}

// runeOffset converts expr's rune index to a byte offset in text.
func runeOffset(text string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(text); i++ {
		_, n := utf8.DecodeRuneInString(text[off:])
		off += n
	}
	return off
}

func (c *checker) condition(cond *syntax.CondExpr) {
	c.expr(cond.Text, syntax.Start(cond))
}

// hoursVisitor collects the hours() calls of an expression whose
// argument is a string literal.
type hoursVisitor struct{ specs []*ast.StringNode }

func (v *hoursVisitor) Visit(n *ast.Node) {
	call, ok := (*n).(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "hours" {
		return
	}
	if s, ok := call.Arguments[0].(*ast.StringNode); ok {
		v.specs = append(v.specs, s)
	}
}

// hoursSpecs checks the literal specs passed to hours() in a parsed
// expression whose text is at byte offset off: each names a declared
// schedule or is a spec. Wherever the expression is (a condition, a set,
// a template, an applet's argument), a bad spec would otherwise fail at
// run time, on the first message that reaches it.
func (c *checker) hoursSpecs(tree *exprparser.Tree, text string, off int) {
	v := &hoursVisitor{}
	ast.Walk(&tree.Node, v)
	for _, s := range v.specs {
		loc := s.Location()
		from, to := runeOffset(text, loc.From), runeOffset(text, loc.To)
		raw := text[from:to]
		if _, ok := c.info.Schedules[s.Value]; ok || c.brokenSchedules[s.Value] {
			continue
		}
		if schedule.IsName(s.Value) {
			d := c.diags.Errorf(c.f.Source.Span(off+from, off+to), CodeSchedule, "no schedule named %q", s.Value)
			var names []string
			for n := range c.info.Schedules {
				names = append(names, n)
			}
			if m := Suggest(s.Value, names); m != "" {
				DidYouMean(d, d.Span, s.Value, m)
			} else {
				d.Hint = fmt.Sprintf(`declare it: schedule %s = "mon-fri 9-17", or write the hours themselves: hours("mon-fri 9-17")`, s.Value)
			}
			continue
		}
		if raw != "" && raw[0] == '"' {
			c.scheduleSpec(s.Value, raw, off+from)
			continue
		}
		// Single- or back-quoted: the column of the mistake inside
		// is not worth the escaping rules; underline the literal.
		if _, err := schedule.Parse(s.Value); err != nil {
			c.diags.Errorf(c.f.Source.Span(off+from, off+to), CodeSchedule, "bad schedule %q: %v", s.Value, err).Hint = scheduleHint
		}
	}
}

func (c *checker) template(v *syntax.Value) {
	off := syntax.Start(v)
	parts, err := syntax.ParseTemplate(v.Tok, off)
	if err != nil {
		te := err.(*syntax.TemplateError)
		c.diags.Errorf(c.f.Source.Span(te.Offset, te.End), CodeTemplate, "%s", te.Msg)
		return
	}
	c.info.parsed().templates[v] = parts
	for _, p := range parts {
		if p.IsExpr {
			c.expr(p.Text, p.Offset)
		}
	}
}
