package runtime

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/flowc-dev/flowc/lang/schedule"
)

// Env is what an expression sees. Field names in expressions are the
// expr tags: body, from, to, keyword, media, contact, vars, now, message.
type Env struct {
	Body    string         `expr:"body"`    // the inbound message text
	From    string         `expr:"from"`    // the contact's number (E.164)
	To      string         `expr:"to"`      // the business number it was sent to
	Keyword string         `expr:"keyword"` // the first word of body, lower case, without punctuation
	Media   []string       `expr:"media"`   // media URLs (MMS)
	Contact Contact        `expr:"contact"` // what the directory knows of the sender
	Vars    map[string]any `expr:"vars"`    // flow variables (also readable as bare names)
	Now     time.Time      `expr:"now"`     // the clock, in the flow's time zone
	Message Message        `expr:"message"` // what the provider tells about the message and its sender
	Number  Number         `expr:"number"`  // the business number's settings (the directory's "numbers")

	// Budget is the work and memory left to this event's expressions
	// (see budget.go); hidden from expressions. nil: a fresh default
	// budget for each Eval.
	Budget *Budget `expr:"-" json:"-"`
	// Lists reads the operator's lists for list() (history_expr.go);
	// hidden from expressions. nil: every list is empty.
	Lists ListFunc `expr:"-" json:"-"`
}

// Message is what the provider (Twilio) tells about an inbound message
// beyond its body, numbers and media; "" or 0 when it did not say.
type Message struct {
	SID                 string   `expr:"sid"`                   // MessageSid
	AccountSID          string   `expr:"account_sid"`           // AccountSid
	MessagingServiceSID string   `expr:"messaging_service_sid"` // MessagingServiceSid
	Segments            int      `expr:"segments"`              // NumSegments
	MediaTypes          []string `expr:"media_types"`           // MediaContentType0…, one per media URL
	FromCity            string   `expr:"from_city"`             // FromCity
	FromState           string   `expr:"from_state"`            // FromState
	FromCountry         string   `expr:"from_country"`          // FromCountry
	FromZip             string   `expr:"from_zip"`              // FromZip
}

// Contact is the sender as the directory knows it. A missing name, owner
// or field is nil to an expression (write contact.name ?? 'there'); a
// present one is a plain string. Name, Owner and Fields hold pointers only for
// the checker: expressions never see the pointer (see plain.go).
type Contact struct {
	Known  bool               `expr:"known"`  // the number is in the directory
	Name   *string            `expr:"name"`   // nil when unknown: write contact.name ?? 'there'
	Owner  *string            `expr:"owner"`  // the user who owns the contact, nil if none
	Tags   []string           `expr:"tags"`   // e.g. "vip"
	Fields map[string]*string `expr:"fields"` // any other directory fields; missing ones are nil

	// The contact's history (history.go; set by WithHistory).
	LastTextedBy    *string       `expr:"last_texted_by"`   // the user who most recently texted the contact
	LastCalledBy    *string       `expr:"last_called_by"`   // the user who most recently called or answered the contact
	LastInteraction *Interaction  `expr:"last_interaction"` // the newest interaction of any kind, nil if none
	Interactions    []Interaction `expr:"interactions"`     // newest first, at most MaxInteractions
	Campaign        *Campaign     `expr:"campaign"`         // the last campaign message sent to the contact, nil if none
}

// KnownContact is a directory entry as expressions see it. An empty
// name, owner or field value counts as missing, so that
// `contact.fields.x ?? y` falls through for a blank field as for an
// absent one.
func KnownContact(name, owner string, tags []string, fields map[string]string) Contact {
	c := Contact{Known: true, Name: Str(name), Owner: Str(owner), Tags: tags}
	for k, v := range fields {
		if v == "" {
			continue
		}
		if c.Fields == nil {
			c.Fields = make(map[string]*string, len(fields))
		}
		c.Fields[k] = &v
	}
	return c
}

// Value is the contact as plain data, the shape `contact` has as a whole
// value in an expression and `ctx.contact` has in an applet: known,
// name, owner, tags, fields, with nil for what is missing.
func (c Contact) Value() map[string]any {
	tags := []string{}
	if c.Tags != nil {
		tags = c.Tags
	}
	return map[string]any{"known": c.Known, "name": plainString(c.Name), "owner": plainString(c.Owner), "tags": tags, "fields": plainFields(c.Fields)}
}

func plainString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// Str returns a pointer to s, or nil for "" (for Contact fields).
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Keyword returns the first word of body, lower-cased, with surrounding
// punctuation removed: "STOP!" → "stop", " 2. " → "2".
func Keyword(body string) string {
	var word string
	if isASCII(body) {
		// Every message computes it: the same steps by bytes (keyword.go's
		// tables), without decoding runes.
		i := 0
		for i < len(body) && asciiSpace[body[i]] {
			i++
		}
		j := i
		for j < len(body) && !asciiSpace[body[j]] {
			j++
		}
		for i < j && !asciiWord[body[i]] {
			i++
		}
		for j > i && !asciiWord[body[j-1]] {
			j--
		}
		word = body[i:j]
	} else {
		body = strings.TrimLeftFunc(body, unicode.IsSpace)
		if i := strings.IndexFunc(body, unicode.IsSpace); i >= 0 {
			body = body[:i]
		}
		word = strings.TrimFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	}
	for i := 0; i < len(word); i++ {
		if c := word[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(word)
		}
	}
	return word // already lower case: no allocation
}

// Names are the top-level names of Env, which variables may not shadow.
var Names = func() map[string]bool {
	m := map[string]bool{"hours": true, "holiday": true, fnList: true}
	t := reflect.TypeOf(Env{})
	for i := 0; i < t.NumField(); i++ {
		m[t.Field(i).Tag.Get("expr")] = true
	}
	return m
}()

// Calendar is a flow's time settings: its zone, holidays and named
// schedules. hours() and holiday() are bound to it.
type Calendar struct {
	Location  *time.Location
	Holidays  schedule.Holidays
	Schedules map[string]*schedule.Schedule

	mu    sync.RWMutex
	specs map[string]*schedule.Schedule // hours() specs seen, parsed once
}

// Hours reports whether t is inside spec (a schedule name or a spec) and
// not on a holiday.
func (c *Calendar) Hours(spec string, t time.Time) (bool, error) {
	s, err := c.lookup(spec)
	if err != nil {
		return false, err
	}
	return schedule.Calendar{Schedule: s, Holidays: c.Holidays}.Open(t.In(c.loc())), nil
}

// Holiday reports whether t's date is a holiday in the flow's zone.
func (c *Calendar) Holiday(t time.Time) bool { return c.Holidays.Contains(t.In(c.loc())) }

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c *Calendar) lookup(spec string) (*schedule.Schedule, error) {
	if s, ok := c.Schedules[spec]; ok {
		return s, nil
	}
	c.mu.RLock()
	s, ok := c.specs[spec]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	s, err := schedule.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("hours(%q): %v", spec, err)
	}
	c.mu.Lock()
	if c.specs == nil {
		c.specs = map[string]*schedule.Schedule{}
	}
	c.specs[spec] = s
	c.mu.Unlock()
	return s, nil
}

// ExprKind says what an expression is used for, which decides its
// expected type.
type ExprKind int

const (
	Condition ExprKind = iota // must be bool
	Value                     // anything (set, applet arguments)
	Text                      // anything; rendered into a template
	Name                      // a string or nil: a computed target's name (inbox user:(EXPR))
)

// Limits bound what one expression may do.
const (
	MaxNodes     = 2000    // AST nodes per expression
	MemoryBudget = 100_000 // expr VM memory units per run
)

// Compiler compiles expressions for one flow.
type Compiler struct {
	Cal  *Calendar
	Vars map[string]bool // declared flow variables

	scopeOnce sync.Once // scopeKey: see scope (cache.go)
	scopeKey  string
}

// Compiled is one compiled expression and the variables it reads.
type Compiled struct {
	Source  string
	Kind    ExprKind
	Program *vm.Program
	Reads   []string

	// Warnings are the constructs likely to exceed the step budget
	// (see cost.go), located inside Source as expr errors are.
	Warnings []*file.Error

	native *nativeForm // the same evaluation without expr's VM, for the commonest shapes (native.go); nil: run Program

	noContact   bool // see ReadsContact
	readsList   bool // see ReadsList
	readsNumber bool // see ReadsNumber
	noKeyword   bool // see ReadsKeyword

	contactReads ContactReads // see ContactReads (reads.go)
}

// Compile compiles src. Errors are expr's *file.Error, whose From/To
// locate the problem inside src.
// With CacheCompiled on, the same source compiled again for the same
// variables and calendar is the kept result (cache.go).
func (c *Compiler) Compile(src string, kind ExprKind) (*Compiled, error) {
	x := compiledCache.Load()
	if x == nil {
		return c.compile(src, kind)
	}
	cal, vars := c.scope(src)
	k := exprKey{cal: cal, vars: vars, src: src, kind: kind}
	if v, ok := x.get(k); ok {
		return v.out()
	}
	ce, err := c.compile(src, kind)
	v := cached{c: ce, err: err}
	x.put(k, v)
	return v.out()
}

func (c *Compiler) compile(src string, kind ExprKind) (*Compiled, error) {
	p := &varPatcher{vars: c.Vars}
	opts := []expr.Option{
		expr.Env(Env{}), // a struct, not a pointer: fields then compile to loads by index (OpLoadField), not by name
		expr.Patch(p),
		expr.MaxNodes(MaxNodes),
		expr.Function("hours", func(params ...any) (any, error) {
			return c.Cal.Hours(params[0].(string), params[1].(time.Time))
		}, new(func(string, time.Time) bool)),
		expr.Function("holiday", func(params ...any) (any, error) {
			return c.Cal.Holiday(params[0].(time.Time)), nil
		}, new(func(time.Time) bool)),
	}
	if kind == Condition {
		opts = append(opts, expr.AsBool())
	}
	if i := strings.Index(src, internalPrefix); i >= 0 {
		return nil, &file.Error{Location: file.Location{From: utf8.RuneCountInString(src[:i]), To: utf8.RuneCountInString(src[:i+len(internalPrefix)])},
			Message: "names starting with " + internalPrefix + " are reserved"}
	}
	opts = append(opts, guardOption, plainOption, listOption)
	plain := &plainPatcher{}
	// The guard runs last, on the checked tree (see guard.go).
	opts = append(opts, expr.Patch(plain), expr.Patch(envPatcher{}), expr.Patch(guardPatcher{}))
	prog, err := expr.Compile(src, opts...)
	if err == nil {
		err = p.listErr
	}
	if err == nil {
		err = plain.err()
	}
	if err == nil && kind == Name {
		if e := nameError(prog.Node().Type()); e != nil {
			err = &file.Error{Location: file.Location{From: 0, To: utf8.RuneCountInString(src)}, Message: e.Error()}
		}
	}
	if err != nil {
		if fe, ok := err.(*file.Error); ok {
			fe.Message = CompileMessage(fe.Message) // flowc's words, not Go's types (words.go)
		} else {
			err = errors.New(CompileMessage(err.Error()))
		}
		return nil, err
	}
	reads := make([]string, 0, len(p.reads))
	for v := range p.reads {
		reads = append(reads, v)
	}
	sort.Strings(reads)
	// One parse of src serves both readers of its plain tree (expr.Compile
	// parsed and patched a tree of its own).
	ce := &Compiled{Source: src, Kind: kind, Program: prog, Reads: reads, readsList: p.listed, readsNumber: strings.Contains(src, "number")}
	ce.contactReads = readsWhole
	if tree, err := parser.Parse(src); err == nil {
		ce.Warnings = c.warnings(tree)
		ce.native = c.native(tree, kind)
		ce.contactReads = contactReads(tree)
	}
	// A native form reads the contact only through a `contact` path, which
	// its source then names (a false positive only costs a look-up).
	ce.noContact = ce.native != nil && !strings.Contains(src, "contact")
	ce.noKeyword = ce.native != nil && (ce.native.op != nativeString || ce.native.field != fKeyword)
	return ce, nil
}

// varPatcher rewrites a bare variable name to vars["name"], and
// hours(spec) / holiday() to pass `now`, so the functions stay pure.
type varPatcher struct {
	vars  map[string]bool
	reads map[string]bool

	listed  bool  // a list() call was seen
	listErr error // a list() call that does not name its list
}

func (p *varPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if p.vars[n.Value] && !Names[n.Value] {
			if p.reads == nil {
				p.reads = map[string]bool{}
			}
			p.reads[n.Value] = true
			m := &ast.MemberNode{Node: &ast.IdentifierNode{Value: "vars"}, Property: &ast.StringNode{Value: n.Value}}
			ast.Patch(node, m)
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == fnList {
			// The guard makes it list(NAME, $env) (history_expr.go).
			p.listed = true
			if err := listArgs(n); err != nil && p.listErr == nil {
				p.listErr = err
			}
		}
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && (id.Value == "hours" || id.Value == "holiday") {
			if (id.Value == "hours" && len(n.Arguments) == 1) || (id.Value == "holiday" && len(n.Arguments) == 0) {
				n.Arguments = append(n.Arguments, &ast.IdentifierNode{Value: "now"})
			}
		}
	}
}

// machines recycles expr VMs: a VM keeps its stack between runs, so
// reusing one saves allocations on the per-message path.
var machines = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: MemoryBudget} }}

// Eval runs a compiled expression against env.
func Eval(c *Compiled, env *Env) (any, error) {
	if env.Budget == nil {
		e := *env
		e.Budget = NewBudget()
		env = &e
	}
	env.Budget.evalSteps, env.Budget.evalBytes = 0, 0
	if c.native != nil {
		v := c.native.eval(env)
		if err := checkResult(c.Kind, v, env.Budget); err != nil {
			return nil, err
		}
		return v, nil
	}
	m := machines.Get().(*vm.VM)
	m.MemoryBudget = MemoryBudget
	v, err := m.Run(c.Program, env)
	machines.Put(m)
	if err != nil {
		return nil, evalError(c, env, err)
	}
	if err = checkResult(c.Kind, v, env.Budget); err != nil {
		return nil, err
	}
	return v, nil
}
