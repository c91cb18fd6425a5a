package check

import (
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
