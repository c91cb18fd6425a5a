package vm

import (
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/runtime"
)

// Loc is an instruction's place in the .flow file (1-based).
type Loc struct {
	Line, Col, EndLine, EndCol int
}

// Program is one compiled flow.
type Program struct {
	Name      string            // the flow's name
	File      string            // the .flow file it came from
	Source    string            // its text, for listings and traces
	Version   string            // hash of the source and compiler version
	Numbers   []string          // E.164 numbers the flow serves
	Timezone  string            // IANA zone
	Holidays  []string          // YYYY-MM-DD
	Schedules map[string]string // named schedule specs
	Help      string            // the HELP keyword's answer
	Vars      []string          // declared flow variables
	Hosts     []string          // the hosts http steps may call (lower case, port if any)

	// Parallel slices: one entry per instruction.
	Code []Opcode
	Args []int32
	Locs []Loc

	Consts    []string
	Exprs     []Expr
	Templates []Template
	Targets   []Target
	Computed  []Computed
	Sets      []Set
	Menus     []Menu
	Asks      []Ask
	Retries   []Retry
	Runs      []RunCall
	Applets   []Applet
	Fields    []FieldSet // effects.go
	Onces     []Once
	Queues    []Queue
	// A call flow's (voice.go): Channel is "voice" and its numbers are
	// CallNumbers (Numbers, which route texts, is empty).
	Channel     string
	CallNumbers []string
	Says        []Say
	Gathers     []Gather
	Rings       []Ring
	Voicemails  []Voicemail

	cal *runtime.Calendar
}

// Expr is an expr-lang expression; Compiled is rebuilt from Source when a
// serialised program is loaded.
type Expr struct {
	Source   string
	Kind     runtime.ExprKind
	Loc      Loc
	compiled *runtime.Compiled
}

// SetCompiled attaches the compiled form of the expression.
func (e *Expr) SetCompiled(c *runtime.Compiled) { e.compiled = c }

// Compiled returns the compiled form, nil until linked.
func (e *Expr) Compiled() *runtime.Compiled { return e.compiled }

// Template is a reply text: literal parts and expressions (Expr >= 0).
type Template struct {
	Parts []TemplatePart
}

// TemplatePart is a literal (Expr == -1) or an expression index.
type TemplatePart struct {
	Lit  string
	Expr int
}

// Target is where a message goes: user:NAME, team:NAME, email:ADDR or
// webhook:URL, with a strategy for teams.
type Target struct {
	Kind     string
	Name     string
	Strategy string
}

func (t Target) String() string { return t.Kind + ":" + t.Name }

// Computed is a target whose name an expression gives when the step
// runs: `inbox user:(contact.owner)`, `forward email:(number.backup_email)`.
// The VM turns it into a plain Target (target.go).
type Computed struct {
	Kind     string // user, team or email
	Expr     int    // the expression (runtime.Name) that gives the name
	Strategy string // for a team
	ErrorPC  int    // the `on error` branch; -1: none (the step fails and the flow goes on)
}

func (c Computed) String(p *Program) string { return c.Kind + ":(" + p.Exprs[c.Expr].Source + ")" }

// Set is `set NAME = EXPR`.
type Set struct {
	Var  string
	Expr int
}

// Menu is a keypress menu.
type Menu struct {
	Prompt    int // template, -1 for none
	Keys      []MenuKey
	Timeout   time.Duration
	TimeoutPC int // -1 for none
	ElsePC    int // -1 for none
}

// MenuKey maps a normalised reply to a branch.
type MenuKey struct {
	Key string
	PC  int
}

// Ask waits for a free-text reply stored in Var.
type Ask struct {
	Prompt    int
	Var       string
	Timeout   time.Duration
	TimeoutPC int
}

// Retry re-runs the suspending instruction at PC at most Times times.
type Retry struct {
	Times int
	PC    int
}

// RunCall calls a JavaScript applet.
type RunCall struct {
	Applet  int
	Args    []int // exprs
	As      string
	ErrorPC int // -1: end the conversation on error
	// Routes are the branches the flow names for the applet's result
	// (`"vip" -> …`, `else -> …`). The applet only picks one of them by
	// its result's route key (see RouteKey): every target is in the
	// flow's text. No routes: the call just continues (the zero value,
	// so programs encoded before routes existed run as they did).
	Routes []Route
}

// Route is one branch of a run block: a key (normalised like a menu
// key), or the else branch.
type Route struct {
	Key  string
	Else bool
	PC   int
}

// Applet is a JavaScript applet's source, embedded in the program so a
// deployed version never changes under a running conversation.
type Applet struct {
	Name   string
	Path   string
	Source []byte
	HTTP   *HTTPSpec // an http step, not JavaScript (http.go)
}

// Calendar is the program's time settings, bound to hours().
func (p *Program) Calendar() *runtime.Calendar { return p.cal }

// SetCalendar is used by the compiler and the loader.
func (p *Program) SetCalendar(c *runtime.Calendar) { p.cal = c }

// Location is the flow's time zone.
func (p *Program) Location() *time.Location {
	if p.cal != nil && p.cal.Location != nil {
		return p.cal.Location
	}
	return time.UTC
}

// LocString renders pc's location as file:line:col.
func (p *Program) LocString(pc int) string {
	if pc < 0 || pc >= len(p.Locs) {
		return p.File
	}
	l := p.Locs[pc]
	return fmt.Sprintf("%s:%d:%d", p.File, l.Line, l.Col)
}

// SourceLine returns line n of the source.
func (p *Program) SourceLine(n int) string {
	line := 1
	start := 0
	for i := 0; i < len(p.Source); i++ {
		if p.Source[i] == '\n' {
			if line == n {
				return p.Source[start:i]
			}
			line++
			start = i + 1
		}
	}
	if line == n {
		return p.Source[start:]
	}
	return ""
}

// Reads is what of the world beyond the message and the conversation a
// program may read when it runs, so that a server reads only that
// (server/commit.go's readStep): each part it leaves out is a statement
// per message saved.
type Reads struct {
	History bool // the contact's history (runtime.ReadsHistory), or the whole contact (an applet's ctx.contact, `{{contact}}`)
	Edits   bool // the contact's tags or fields as flows edited them, or a once-per-period reply's marks
	Lists   bool // an operator's list (list("blocked"))
}

// Reads is derived from the program's compiled expressions (the compiler
// analyses each, runtime.Compiled.ContactReads), its applets and its
// once-per-period replies, so it needs no place in the encoding: a
// decoded program has it once linked. An unlinked expression may read
// anything.
func (p *Program) Reads() Reads {
	var r Reads
	for _, run := range p.Runs {
		if run.Applet < 0 || run.Applet >= len(p.Applets) || p.Applets[run.Applet].HTTP == nil {
			r.History, r.Edits = true, true // a JavaScript applet gets the whole contact (ctx.contact)
		}
	}
	if len(p.Onces) > 0 {
		r.Edits = true
	}
	for i := range p.Exprs {
		c := p.Exprs[i].compiled
		cr := c.ContactReads()
		r.History = r.History || cr&runtime.ReadsHistory != 0
		r.Edits = r.Edits || cr&runtime.ReadsEdits != 0
		r.Lists = r.Lists || c == nil || c.ReadsList()
	}
	return r
}

// Union is what either r or o may read.
func (r Reads) Union(o Reads) Reads {
	return Reads{History: r.History || o.History, Edits: r.Edits || o.Edits, Lists: r.Lists || o.Lists}
}
