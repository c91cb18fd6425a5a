package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// Bound is a command's arguments matched to its applet's signature.
type Bound struct {
	Applet     *registry.Applet
	Positional []*syntax.Value // by parameter index; nil when omitted
	Tags       map[string]*syntax.Value
	TagNames   map[string]*syntax.Value // the tag keyword itself, for spans
}

// IsOptOutKeyword reports whether a contact's reply of word is one of
// the carrier keywords that the server answers itself before any flow
// runs, so that a menu key of that word can never be chosen: STOP and
// HELP and their synonyms. It classifies with runtime.CarrierKeyword, the
// very function the server's opt-out stage calls, so a key check warns
// about is exactly one the server shadows ("stop." and "OptOut!" too).
// START, YES and UNSTOP are not: from a contact who is not opted out
// they reach the flow (and one who is has no menu waiting: STOP ended
// the conversation).
func IsOptOutKeyword(word string) bool {
	switch runtime.CarrierKeyword(word) {
	case runtime.OptOutKeyword, runtime.HelpKeyword:
		return true
	}
	return false
}

// Bind matches a command's flat argument list against the applet's
// signature: positional parameters first, in order (an optional one is
// skipped when the next value does not fit), then `TAG VALUE` pairs.
// It returns what it could bind and a message for each problem.
func Bind(a *registry.Applet, args []*syntax.Value) (Bound, []ArgProblem) {
	b := Bound{Applet: a, Positional: make([]*syntax.Value, len(a.Params)), Tags: map[string]*syntax.Value{}, TagNames: map[string]*syntax.Value{}}
	var probs []ArgProblem
	mentioned := map[string]bool{} // tags written, with a value or not
	i := 0
	for pi, p := range a.Params {
		if i < len(args) && fits(p, args[i]) && !(args[i].Type() == syntax.VIdent && a.Tag(args[i].Tok) != nil && !p.Optional) {
			b.Positional[pi] = args[i]
			i++
			continue
		}
		if i < len(args) && args[i].Type() == syntax.VIdent && a.Tag(args[i].Tok) != nil && p.Optional {
			continue
		}
		if !p.Optional {
			if i < len(args) {
				probs = append(probs, ArgProblem{Value: args[i], Want: p.Kinds, Msg: fmt.Sprintf("%s: %s must be %s, not %s", a.Name, p.Name, describeKinds(p), describeValue(args[i]))})
				i++
			} else {
				probs = append(probs, ArgProblem{Msg: fmt.Sprintf("%s needs %s (%s)", a.Name, p.Name, describeKinds(p))})
			}
		}
	}
	for i < len(args) {
		v := args[i]
		i++
		if v.Type() != syntax.VIdent || a.Tag(v.Tok) == nil {
			probs = append(probs, ArgProblem{Value: v, Msg: unexpectedArg(a, v)})
			continue
		}
		t := a.Tag(v.Tok)
		mentioned[t.Name] = true
		if w, ok := tagWords(t, args[i:]); !ok {
			// `once 12h`: said once, for the tag, its value still bound.
			probs = append(probs, ArgProblem{Value: v, Msg: fmt.Sprintf("%s: write %s %s %s", a.Name, t.Name, strings.Join(t.Words, " "), strings.ToUpper(t.Value.Name))})
			if i+w >= len(args) || !fits(t.Value, args[i+w]) {
				continue
			}
			i += w
		} else {
			i += w
		}
		if _, dup := b.Tags[t.Name]; dup {
			probs = append(probs, ArgProblem{Value: v, Msg: fmt.Sprintf("%s: %q given twice", a.Name, t.Name)})
		}
		if i >= len(args) {
			probs = append(probs, ArgProblem{Value: v, Msg: fmt.Sprintf("%s: %q needs %s", a.Name, t.Name, describeKinds(t.Value))})
			break
		}
		val := args[i]
		i++
		if !fits(t.Value, val) {
			probs = append(probs, ArgProblem{Value: val, Msg: fmt.Sprintf("%s: %s %s must be %s, not %s", a.Name, t.Name, t.Value.Name, describeKinds(t.Value), describeValue(val))})
			continue
		}
		b.Tags[t.Name] = val
		b.TagNames[t.Name] = v
	}
	for _, t := range a.Tags {
		// A required tag written with a bad or missing value is
		// reported once, for its value.
		if t.Required && !mentioned[t.Name] {
			probs = append(probs, ArgProblem{Msg: fmt.Sprintf("%s needs `%s %s`", a.Name, t.Name, strings.ToUpper(t.Value.Name))})
		}
	}
	return b, probs
}

// ArgProblem is one argument that does not fit; Value is nil when the
// problem is something missing.
type ArgProblem struct {
	Value *syntax.Value
	Want  registry.Kinds // for a positional argument of the wrong kind, the kinds it takes
	Msg   string
}

func unexpectedArg(a *registry.Applet, v *syntax.Value) string {
	msg := fmt.Sprintf("%s: unexpected argument %s", a.Name, v.String())
	if len(a.Tags) > 0 {
		var names []string
		for _, t := range a.Tags {
			names = append(names, t.Name)
		}
		msg += fmt.Sprintf(" (tags: %s)", strings.Join(names, ", "))
	}
	return msg
}

// fits reports whether v can be the value of p.
func fits(p registry.Param, v *syntax.Value) bool {
	k := p.Kinds
	switch v.Type() {
	case syntax.VString:
		return k&(registry.String|registry.Template) != 0
	case syntax.VNumber:
		return k&registry.Number != 0
	case syntax.VDuration:
		return k&registry.Duration != 0
	case syntax.VIdent:
		if k&registry.Ident == 0 {
			return false
		}
		if len(p.Enum) == 0 {
			return true
		}
		for _, e := range p.Enum {
			if e == v.Tok {
				return true
			}
		}
		return false
	case syntax.VTarget:
		if k&registry.Target == 0 {
			return false
		}
		kinds := p.Targets
		if v.Computed() {
			kinds = p.Computed
		}
		for _, t := range kinds {
			if t == v.TargetKind() {
				return true
			}
		}
		return false
	case syntax.VCall:
		return k&registry.Call != 0
	}
	return false
}

func describeKinds(p registry.Param) string {
	var alts []string
	k := p.Kinds
	if k&registry.Template != 0 {
		alts = append(alts, "a string")
	} else if k&registry.String != 0 {
		alts = append(alts, "a string")
	}
	if k&registry.Number != 0 {
		alts = append(alts, "a number")
	}
	if k&registry.Duration != 0 {
		alts = append(alts, "a duration such as 10m")
	}
	if k&registry.Ident != 0 {
		if len(p.Enum) > 0 {
			alts = append(alts, "one of "+strings.Join(p.Enum, ", "))
		} else {
			alts = append(alts, "a name")
		}
	}
	if k&registry.Target != 0 {
		var ts []string
		for _, t := range p.Targets {
			ts = append(ts, t+":NAME")
		}
		alts = append(alts, strings.Join(ts, " or "))
	}
	if k&registry.Call != 0 {
		alts = append(alts, "an applet call NAME(args…)")
	}
	return strings.Join(alts, " or ")
}

func describeValue(v *syntax.Value) string {
	switch v.Type() {
	case syntax.VString:
		return "a string"
	case syntax.VNumber:
		return "the number " + v.Tok
	case syntax.VDuration:
		return "the duration " + v.Tok
	case syntax.VIdent:
		return fmt.Sprintf("%q", v.Tok)
	case syntax.VTarget:
		return v.String()
	case syntax.VCall:
		return "a call"
	case syntax.VExpr:
		return "an expression"
	}
	return v.String()
}

// commentAfter returns the word of a comment that directly follows cmd
// on its line (`tag #vip` gives "#vip"), or "".
func commentAfter(text string, cmd *syntax.Command) string {
	_, end := cmd.Pos()
	rest := text[min(end, len(text)):]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimLeft(rest, " \t")
	if !strings.HasPrefix(rest, "#") || len(rest) < 2 || rest[1] == ' ' || rest[1] == '#' {
		return ""
	}
	return strings.Fields(rest)[0]
}

// branchKinds says in words which branches a block takes.
func branchKinds(b registry.Branches) string {
	var kinds []string
	if b.Keys {
		kinds = append(kinds, "reply keys (1 -> …)")
	}
	if b.Timeout {
		kinds = append(kinds, "timeout DURATION -> …")
	}
	if b.Else {
		kinds = append(kinds, "else -> …")
	}
	for _, e := range b.On {
		kinds = append(kinds, "on "+e+" -> …")
	}
	return strings.Join(kinds, ", ")
}

// builderApplets are the names GUI flow builders give their applets,
// and how flowc writes each.
var builderApplets = map[string]string{
	"save-and-reply": `the Save & Reply applet is written ask "QUESTION" as NAME: it sends the question and saves the reply in NAME`,
	"save-reply":     `the Save & Reply applet is written ask "QUESTION" as NAME: it sends the question and saves the reply in NAME`,
	"send-message":   `a message is sent with reply "TEXT"`,
	"send-sms":       `a message is sent with reply "TEXT"`,
	"sms-inbox":      `the SMS Inbox applet is written inbox team:NAME or inbox user:NAME`,
	"business-hours": `business hours are a condition: when hours("9-5") < … > else …`,
	"forward-email":  `forwarding is written forward email:"ADDRESS"`,
}

// durationUnitWords are units written out, and the unit flowc writes.
var durationUnitWords = map[string]string{
	"sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"day": "d", "days": "d",
}

// durationError reports the problem ParseDuration found in the duration
// text written at byte offset off, at the part that is wrong: an unknown
// unit at the unit (with the fix when the unit is a word for s, m, h or
// d), a zero duration at its number.
func (c *checker) durationError(text string, off int, err error) {
	src := c.f.Source
	span := src.Span(off, off+len(text))
	var fix *diag.Fix
	hint := "write durations as a number and a unit: 30s, 10m, 4h, 2d or 1h30m"
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		k := j
		for k < len(text) && (text[k] < '0' || text[k] > '9') {
			k++
		}
		unit := text[j:k]
		if unit != "s" && unit != "m" && unit != "h" && unit != "d" && unit != "" {
			span = src.Span(off+j, off+k)
			if u, ok := durationUnitWords[strings.ToLower(unit)]; ok {
				meant := text[:j] + u + text[k:]
				hint = fmt.Sprintf("write %s", meant)
				fix = &diag.Fix{Title: "write " + meant, Edits: []diag.Edit{{Span: span, New: u}}}
			}
			break
		}
		i = k
	}
	if strings.Contains(err.Error(), "more than zero") {
		hint = "a duration of zero would be over at once; give a length such as 30s or 10m"
	}
	d := c.diags.Errorf(span, CodeDuration, "%v", err)
	d.Hint = hint
	if fix != nil {
		d.Fixes = []diag.Fix{*fix}
	}
}

// ParseDuration reads 30s, 10m, 4h, 2d and combinations such as 1h30m.
func ParseDuration(s string) (time.Duration, error) {
	total := time.Duration(0)
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("malformed duration %q", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("malformed duration %q", s)
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[rest[i:j]]
		if unit == 0 {
			return 0, fmt.Errorf("unknown unit %q in duration %q (use s, m, h or d)", rest[i:j], s)
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration %q must be more than zero", s)
	}
	return total, nil
}

func (c *checker) command(cmd *syntax.Command) {
	name := cmd.Name.Value
	a, ok := registry.Lookup(name)
	if !ok {
		d := c.diags.Errorf(c.f.Span(cmd.Name), CodeApplet, "unknown applet %q", name)
		if h, ok := c.condHints[cmd]; ok {
			d.Hint = h
		} else if s := Suggest(name, registry.Names()); s != "" {
			DidYouMean(d, d.Span, name, s)
		} else {
			d.Hint = "applets are: " + strings.Join(registry.Names(), ", ")
		}

		if h, ok := builderApplets[strings.ToLower(name)]; ok {
			d.Hint = h
		}
		return
	}
	for _, v := range cmd.Args {
		switch v.Type() {
		case syntax.VBad:
			c.diags.Errorf(c.f.Span(v), CodeArgs, "malformed argument %s", v.String()).Hint =
				`write targets as kind:name (team:sales) or kind:"text" (email:"a@b.c"), and calls as name(args)`
		case syntax.VDuration:
			if _, err := ParseDuration(v.Tok); err != nil {
				c.durationError(v.Tok, syntax.Start(v), err)
			}
		case syntax.VExpr:
			c.expr(v.Tok, syntax.Start(v)) // parentheses included: still one expression
		case syntax.VTarget:
			if v.Computed() {
				c.expr(v.Tok, syntax.Start(v)+len(v.Kind))
			}
		case syntax.VCall:
			inner := v.Call[1 : len(v.Call)-1]
			callOff := syntax.Start(v) + len(v.Kind) + len(v.Tok)
			if strings.TrimSpace(inner) != "" {
				c.expr("["+inner+"]", callOff) // the '[' stands where '(' is
			}
		}
	}
	templated := map[*syntax.Value]bool{}
	b, probs := Bind(a, cmd.Args)
	c.info.parsed().calls[cmd] = &Call{Applet: a, Bound: b}
	c.channelFit(cmd, a, b) // voice.go
	probs = c.computedTargets(cmd, a, b, probs)
	// `reply "Hi" inbox team:sales`: an argument that does not fit and
	// names an applet is the next step, its `then` left out. That is one
	// mistake: what follows it is not reported as arguments too.
	stepAt := -1
	for _, p := range probs {
		if v := p.Value; v != nil && v.Type() == syntax.VIdent && v != cmd.Args[0] {
			if _, ok := registry.Lookup(v.Tok); ok {
				stepAt = syntax.Start(v)
				at := c.f.Source.Span(stepAt, stepAt)
				d := c.diags.Errorf(c.f.Span(v), CodeArgs, "missing \"then\" before %s: %s takes no argument %s", v.Tok, a.Name, v.Tok)
				d.Hint = fmt.Sprintf("steps of a statement are joined with then: … then %s …", v.Tok)
				d.Fixes = []diag.Fix{{Title: `insert "then"`, Edits: []diag.Edit{{Span: at, New: "then "}}}}
				break
			}
		}
	}
	words := c.unquotedWords(cmd, a, probs)
	for _, p := range probs {
		if words {
			break
		}
		sp := c.f.Span(cmd.Name)
		if p.Value != nil {
			if p.Value.Type() == syntax.VBad || stepAt >= 0 && syntax.Start(p.Value) >= stepAt {
				continue // reported above as malformed, or as the missing then
			}
			sp = c.f.Span(p.Value)
		}
		d := c.diags.Errorf(sp, CodeArgs, "%s", p.Msg)
		d.Hint = "usage: " + a.Syntax
		if p.Value == nil {
			if w := commentAfter(c.f.Source.Text, cmd); w != "" {
				// `tag #vip`: the argument was read as a comment.
				d.Hint = fmt.Sprintf("%q starts a comment; write it in quotes: %s \"%s\"", "#", a.Name, w)
			}
		}
	}
	for i, p := range a.Params {
		if v := b.Positional[i]; v != nil && p.Kinds&registry.Template != 0 && v.Type() == syntax.VString {
			c.template(v)
			templated[v] = true
		}
	}
	// Other string literals (plain string parameters, email:"…",
	// misplaced strings) are decoded as Go strings: report bad escapes
	// rather than using the text with its quotes.
	for _, v := range cmd.Args {
		if (v.Type() == syntax.VString || v.Type() == syntax.VTarget) && !templated[v] {
			c.stringEscapes(v.Tok, syntax.Start(v)+len(v.Kind), CodeArgs)
		}
	}
	if v := b.Positional[0:]; len(v) > 0 && a.Name == "run" && v[0] != nil {
		if _, ok := c.info.Applets[v[0].Tok]; !ok {
			d := c.diags.Errorf(c.f.Span(v[0]), CodeApplet, "applet %q is not declared", v[0].Tok)
			declared := make([]string, 0, len(c.info.Applets))
			for n := range c.info.Applets {
				declared = append(declared, n)
			}
			if s := Suggest(v[0].Tok, declared); s != "" {
				DidYouMean(d, d.Span.Source.Span(d.Span.Start, d.Span.Start+len(v[0].Tok)), v[0].Tok, s) // the name, not its arguments
			} else {
				d.Hint = fmt.Sprintf(`declare it at the top of the file: applet %s = "%s.js"`, v[0].Tok, v[0].Tok)
			}
		}
	}
	c.effectCommand(a.Name, b) // http.go
	c.branches(cmd, a)
}

func (c *checker) branches(cmd *syntax.Command, a *registry.Applet) {
	if cmd.Block == nil {
		if a.Block.Required {
			c.diags.Errorf(c.f.Span(cmd), CodeBranch, "%s needs a block of branches: %s", a.Name, a.Syntax)
		}
		return
	}
	if !a.Block.Any() {
		c.diags.Errorf(c.f.Span(cmd.Block), CodeBranch, "%s takes no block", a.Name).Hint = "usage: " + a.Syntax
		c.block(cmd.Block, true)
		return
	}
	keys := map[string]string{}
	var elseSeen, timeoutSeen bool
	for _, it := range cmd.Block.Stmts {
		br, ok := it.(*syntax.Branch)
		if !ok {
			ch := it.(*syntax.Chain)
			// A line the parser gave up on is already reported.
			if !hasBad(ch) {
				c.diags.Errorf(c.f.Span(ch), CodeBranch, "a %s block holds branches (LABEL -> …), not statements", a.Name).Hint = "usage: " + a.Syntax
			}
			c.chain(ch)
			continue
		}
		l := br.Label
		lsp := c.f.Span(l)
		switch {
		case l.Else:
			if !a.Block.Else {
				c.diags.Errorf(lsp, CodeBranch, "%s has no else branch", a.Name)
			} else if elseSeen {
				c.diags.Errorf(lsp, CodeBranch, "duplicate else branch")
			}
			elseSeen = true
		case l.Timeout != "":
			if !a.Block.Timeout {
				c.diags.Errorf(lsp, CodeBranch, "%s has no timeout branch", a.Name)
			} else if timeoutSeen {
				c.diags.Errorf(lsp, CodeBranch, "duplicate timeout branch")
			}
			timeoutSeen = true
			if d, err := ParseDuration(l.Timeout); err != nil {
				c.durationError(l.Timeout, l.ArgStart, err)
			} else {
				c.info.parsed().timeouts[l] = d
			}
		case l.On != "":
			ok := false
			for _, e := range a.Block.On {
				ok = ok || e == l.On
			}
			if !ok {
				msg := fmt.Sprintf("%s has no `on %s` branch", a.Name, l.On)
				if len(a.Block.On) > 0 {
					msg += fmt.Sprintf(" (events: %s)", strings.Join(a.Block.On, ", "))
				}
				// At the event's name when the applet has events (a
				// misspelt one), else at the whole label.
				esp := lsp
				if len(a.Block.On) > 0 {
					esp = c.f.Source.Span(l.ArgStart, l.ArgEnd)
				}
				d := c.diags.Errorf(esp, CodeBranch, "%s", msg)
				if s := Suggest(l.On, a.Block.On); s != "" {
					d.Hint = fmt.Sprintf("did you mean `on %s`?", s)
					d.Fixes = []diag.Fix{{Title: fmt.Sprintf("replace with %q", s), Edits: []diag.Edit{{Span: esp, New: s}}}}
				} else if len(a.Block.On) == 0 {
					d.Hint = fmt.Sprintf("a %s block's branches are %s", a.Name, branchKinds(a.Block))
				}
			}
		default:
			if !a.Block.Keys {
				c.diags.Errorf(lsp, CodeBranch, "%s takes no reply keys", a.Name).Hint = "usage: " + a.Syntax
				break
			}
			key := l.Key
			if key != "" && key[0] == '"' {
				c.stringEscapes(key, syntax.Start(l), CodeBranch)
				key, _ = strconv.Unquote(key)
			}
			// Compared as the VM compares them, so that "2." and 2 are
			// the duplicates they are at run time.
			norm := vm.NormaliseKey(key)
			what := "menu key"
			if a.Name == "run" {
				what = "route"
				if norm == "" {
					c.diags.Errorf(lsp, CodeBranch, "route %s can never be chosen: an applet's result is compared trimmed, in lower case and without surrounding punctuation", l.Key)
				}
			}
			if prev, ok := keys[norm]; ok {
				c.diags.Errorf(lsp, CodeBranch, "duplicate %s %q (first at %s)", what, key, prev)
			} else {
				keys[norm] = lsp.String()
			}
			if a.Name == "menu" && IsOptOutKeyword(norm) {
				c.diags.Warnf(lsp, CodeOptOut, "menu key %q can never be chosen: %s is answered by the opt-out handling before the flow runs", key, strings.ToUpper(norm)).Hint =
					"use another key (a number, or a word such as NO) and name it in the prompt: a contact who replies " + strings.ToUpper(norm) + " is unsubscribed or sent the HELP text, never this branch"
			}
		}
		c.chain(br.Body)
	}
}

// hasBad reports whether ch holds a line the parser gave up on.
func hasBad(ch *syntax.Chain) bool {
	for _, st := range ch.Steps {
		if _, bad := st.(*syntax.BadStep); bad {
			return true
		}
	}
	return false
}

// stringEscapes reports the first invalid escape in raw, a string
// literal token (with its quotes) at byte offset off. Tokens that are not
// string literals are ignored.
func (c *checker) stringEscapes(raw string, off int, code string) {
	if len(raw) < 2 || raw[0] != '"' {
		return
	}
	body := raw[1 : len(raw)-1]
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			i++
			continue
		}
		_, _, tail, err := strconv.UnquoteChar(body[i:], '"')
		if err != nil {
			end := min(i+2, len(body))
			c.diags.Errorf(c.f.Source.Span(off+1+i, off+1+end), code, "invalid escape %s in string", body[i:end]).Hint =
				`use \\ for a backslash and \" for a quote`
			return
		}
		i = len(body) - len(tail)
	}
}

// unquotedWords reports `tag after hours`: bare words where a string is
// wanted, the rest of the arguments bare words too, all on one line: one
// string meant, written without its quotes. It is one mistake, at the
// first word, fixed by quoting them; it reports whether it was this.
func (c *checker) unquotedWords(cmd *syntax.Command, a *registry.Applet, probs []ArgProblem) bool {
	if len(probs) == 0 {
		return false
	}
	p := probs[0]
	if p.Value == nil || p.Value.Type() != syntax.VIdent || p.Want&(registry.String|registry.Template) == 0 {
		return false
	}
	k := slices.Index(cmd.Args, p.Value)
	if k < 0 || len(cmd.Args)-k < 2 {
		return false
	}
	words := cmd.Args[k:]
	for _, w := range words {
		if _, applet := registry.Lookup(w.Tok); w.Type() != syntax.VIdent || a.Tag(w.Tok) != nil || applet {
			return false
		}
	}
	start, end := c.f.Span(words[0]).Start, c.f.Span(words[len(words)-1]).End
	phrase := c.f.Source.Text[start:end]
	if strings.ContainsAny(phrase, "\n#;") {
		return false
	}
	d := c.diags.Errorf(c.f.Source.Span(start, end), CodeArgs, "%s: %q is several words: a string is written in quotes", a.Name, phrase)
	d.Hint = fmt.Sprintf("write %s %q", a.Name, phrase)
	d.Fixes = []diag.Fix{{Title: "quote the words", Edits: []diag.Edit{
		{Span: c.f.Source.Span(start, start), New: `"`},
		{Span: c.f.Source.Span(end, end), New: `"`},
	}}}
	return true
}

// computedTargets reports what is wrong with a computed target
// (user:(EXPR)) that Bind cannot say well: a kind that is never computed
// (webhook:(…)), and an `on error` branch on a step whose target is
// written out, which cannot fail. It returns probs without the problem
// it reported itself.
func (c *checker) computedTargets(cmd *syntax.Command, a *registry.Applet, b Bound, probs []ArgProblem) []ArgProblem {
	if len(a.Params) == 0 || a.Params[0].Kinds&registry.Target == 0 {
		return probs
	}
	p := a.Params[0]
	out := probs[:0:0]
	for _, pr := range probs {
		v := pr.Value
		if v != nil && v.Computed() && slices.Contains(p.Targets, v.TargetKind()) && !slices.Contains(p.Computed, v.TargetKind()) {
			d := c.diags.Errorf(c.f.Span(v), CodeArgs, "%s: a %s target cannot be computed", a.Name, v.TargetKind())
			d.Hint = fmt.Sprintf("write the %s in the file, in quotes: %s%s\"…\"; only %s can be computed", v.TargetKind(), a.Name+" ", v.Kind, strings.Join(p.Computed, ", "))
			continue
		}
		out = append(out, pr)
	}
	target := b.Positional[0]
	if cmd.Block == nil || target == nil || target.Computed() {
		return out
	}
	for _, it := range cmd.Block.Stmts {
		if br, ok := it.(*syntax.Branch); ok && br.Label.On == "error" {
			d := c.diags.Errorf(c.f.Span(br.Label), CodeBranch, "%s %s cannot fail: only a computed target has an `on error` branch", a.Name, target.String())
			d.Hint = fmt.Sprintf("compute the target, as in %suser:(contact.owner) < on error -> … >, or remove the branch", a.Name+" ")
		}
	}
	return out
}
