package check

import (
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// What check works out once about a file's applet calls, kept in its
// Info for the compiler: each call's arguments bound to the applet's
// signature, each template parsed, each timeout read. The compiler takes
// them from here instead of working them out again.

// Call is one applet call as check bound it.
type Call struct {
	Applet *registry.Applet
	Bound  Bound
}

// parsed is what Info keeps.
type parsed struct {
	calls     map[*syntax.Command]*Call
	templates map[*syntax.Value][]syntax.TemplatePart
	timeouts  map[*syntax.Label]time.Duration
	// reported are statements check found broken and reported whole
	// (`set x == 1`): the compiler says nothing more about them.
	reported map[syntax.Node]bool
}

// Reported reports whether check already reported n as broken as a
// whole, so that a later stage skips it instead of repeating the error.
func (i *Info) Reported(n syntax.Node) bool { return i.parsed().reported[n] }

func (i *Info) markReported(n syntax.Node) {
	p := i.parsed()
	if p.reported == nil {
		p.reported = map[syntax.Node]bool{}
	}
	p.reported[n] = true
}

func (i *Info) parsed() *parsed {
	if i.cache == nil {
		i.cache = &parsed{calls: map[*syntax.Command]*Call{}, templates: map[*syntax.Value][]syntax.TemplatePart{},
			timeouts: map[*syntax.Label]time.Duration{}}
	}
	return i.cache
}

// Call returns the call cmd as check bound it; ok is false for an
// unknown applet. For a command check did not see (an Info built by
// hand, or none), it binds it now.
func (i *Info) Call(cmd *syntax.Command) (c *Call, ok bool) {
	if i != nil && i.cache != nil {
		if c, ok := i.cache.calls[cmd]; ok {
			return c, true
		}
	}
	a, ok := registry.Lookup(cmd.Name.Value)
	if !ok {
		return nil, false
	}
	b, _ := Bind(a, cmd.Args)
	return &Call{Applet: a, Bound: b}, true
}

// Template returns the parts of the template string v, parsed by check
// (or now, for a value check did not see).
func (i *Info) Template(v *syntax.Value) ([]syntax.TemplatePart, error) {
	if i != nil && i.cache != nil {
		if p, ok := i.cache.templates[v]; ok {
			return p, nil
		}
	}
	return syntax.ParseTemplate(v.Tok, syntax.Start(v))
}

// Timeout returns the duration of the timeout label l, read by check
// (or now).
func (i *Info) Timeout(l *syntax.Label) time.Duration {
	if i != nil && i.cache != nil {
		if d, ok := i.cache.timeouts[l]; ok {
			return d
		}
	}
	d, _ := ParseDuration(l.Timeout)
	return d
}

// CallArg is one argument of a call such as lookup(from, "x"): its
// expression text, trimmed, and the byte offset of that text in the file.
type CallArg struct {
	Text   string
	Offset int
}

// CallArgs splits the arguments of the call value v (VCall) at the commas
// outside brackets and strings; empty arguments are left out. check
// validates them as one expression, the compiler compiles each.
func CallArgs(v *syntax.Value) []CallArg {
	if len(v.Call) < 2 {
		return nil
	}
	s := v.Call[1 : len(v.Call)-1]
	off := syntax.Start(v) + len(v.Kind) + len(v.Tok) + 1
	var out []CallArg
	add := func(from, to int) {
		text := strings.TrimSpace(s[from:to])
		if text == "" {
			return
		}
		lead := len(s[from:to]) - len(strings.TrimLeft(s[from:to], " \t\r\n"))
		out = append(out, CallArg{Text: text, Offset: off + from + lead})
	}
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '"', '\'', '`':
			for i++; i < len(s) && s[i] != ch; i++ {
				if s[i] == '\\' && ch != '`' {
					i++
				}
			}
		case ',':
			if depth == 0 {
				add(start, i)
				start = i + 1
			}
		}
	}
	add(start, len(s))
	return out
}
