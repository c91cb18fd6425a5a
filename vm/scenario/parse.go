// Package scenario reads and runs .flowtest files: offline conversation
// tests kept beside the flows (see docs/testing.md for the format).
//
// A file holds defaults (flow, at, from, to, contact, directory, applet)
// and one or more `test "name"` blocks of steps: `send` (with `media`),
// `wait`, and `expect` lines that check the actions of the step before
// them, or the state after it (assignee, opted-out, tags). Every line
// keeps its file:line so a failure points at it.
//
// The directory is the server's: a `directory` file (read at parse
// time, through the .flowtest's folder only), else directory.json beside
// the flow (read when the test runs, as serve and run find it). A
// team's member is chosen by vm/inbound.Assign, in vm/sim.
package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Pos is a place in a .flowtest file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// File is one parsed .flowtest file.
type File struct {
	Path  string
	Tests []*Test
}

// Test is one scenario.
type Test struct {
	Name    string
	Pos     Pos
	Flow    string // path of the .flow (or compiled .flowc) file
	At      string // start of the fake clock, resolved in the flow's zone when run
	AtPos   Pos
	From    string
	To      string // "" means the flow's first number
	Contact *Contact
	Applets map[string]AppletMock
	HTTP    []HTTPMock // http steps' answers (http.go)
	// Directory is the directory the test's server reads (users and
	// their availability, teams, contacts): the file a `directory` line
	// names, else directory.json beside the flow when there is one
	// (DirectoryPath "" and loaded when the test runs).
	Directory     *directory.Directory
	DirectoryPath string
	// Users and Teams are the test's `user` and `team` lines: they
	// amend its directory (a user or team of the same name is
	// replaced) when the test runs, or make it when there is none.
	Users []directory.User
	Teams []directory.Team
	// Numbers are the test's number lines, for its business number.
	Numbers []NumberSetting
	Steps   []Step
}

// Contact is what the fake directory says about the sender.
type Contact struct {
	Name   string
	Owner  string
	Tags   []string
	Fields map[string]string
}

// AppletMock is an applet's canned answer.
type AppletMock struct {
	Returns any    // JSON value
	Fails   string // error message; non-empty means the call fails
}

// StepKind is a step's verb.
type StepKind int

// Step kinds.
const (
	StepSend StepKind = iota
	StepWait
	StepExpect
)

// Step is one line of a test.
type Step struct {
	Kind  StepKind
	Pos   Pos
	Text  string        // the line as written (trimmed, without comment)
	Body  string        // send
	Media []string      // send … media "URL", …
	Dur   time.Duration // wait
	Exp   Expect        // expect

	History History  // a history line (StepHistory)
	List    string   // list NAME (StepList)
	Entries []string // … its entries

	Agent *AgentLine // an agent or queue line (agent.go)
	Call  *CallLine  // a call's line (voice.go)
}

// ExpectKind is what an expectation checks.
type ExpectKind int

// Expectation kinds.
const (
	ExpReply ExpectKind = iota
	ExpInbox
	ExpForward
	ExpTag
	ExpVar
	ExpWait
	ExpEnd
	ExpError
	ExpNothingElse
	ExpNothing
	ExpAssignee
	ExpOptedOut
	ExpNotOptedOut
	ExpTags
	ExpUntag // expect untag "TAG" (http.go)
	ExpField // expect field "NAME" "VALUE"
)

// Expect is one expectation on the actions of the step before it.
type Expect struct {
	Kind     ExpectKind
	Text     string         // exact text (reply, tag) or target kind:name (inbox, forward)
	Re       *regexp.Regexp // set when matching by regexp (`~ "re"`)
	Strategy string         // inbox … by STRATEGY
	Var      string
	Value    any    // expect var NAME = VALUE (a JSON value)
	Until    string // expect wait until TIME
	Within   time.Duration
	Tags     []string // expect tags "A", "B"
}

// Error is a parse error at a line.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ParseFile reads and parses a .flowtest file.
func ParseFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(b))
}

// Parse parses a .flowtest file's text. Relative flow paths are resolved
// against the file's directory.
func Parse(path, src string) (*File, error) {
	f := &File{Path: path}
	dir := filepath.Dir(path)
	defaults := &Test{From: "+15557654321", Applets: map[string]AppletMock{}}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if i := strings.IndexByte(base, '_'); i > 0 {
		base = base[:i] // sales_menu.flowtest tests sales.flow
	}
	defaults.Flow = filepath.Join(dir, base+".flow")
	var cur *Test
	target := func() *Test {
		if cur != nil {
			return cur
		}
		return defaults
	}
	for i, raw := range strings.Split(src, "\n") {
		pos := Pos{path, i + 1}
		toks, err := tokenize(raw)
		if err != nil {
			return nil, &Error{pos, err.Error()}
		}
		if len(toks) == 0 {
			continue
		}
		text := strings.TrimSpace(stripComment(raw))
		perr := func(format string, a ...any) error { return &Error{pos, fmt.Sprintf(format, a...)} }
		switch toks[0].s {
		case "test":
			if len(toks) != 2 || !toks[1].quoted {
				return nil, perr(`want: test "NAME"`)
			}
			cur = cloneDefaults(defaults)
			cur.Name, cur.Pos = toks[1].s, pos
			cur.Steps = slices.Clone(defaults.Steps) // the file's history and list lines come first
			f.Tests = append(f.Tests, cur)
		case "flow":
			if len(toks) != 2 {
				return nil, perr("want: flow PATH")
			}
			p := toks[1].s
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			target().Flow = p
		case "at":
			if len(toks) < 2 {
				return nil, perr("want: at YYYY-MM-DDTHH:MM (or RFC 3339)")
			}
			at := strings.Join(words(toks[1:]), " ")
			if _, err := ParseTime(at, time.UTC); err != nil {
				return nil, perr("%v", err)
			}
			target().At, target().AtPos = at, pos
		case "from", "to":
			if len(toks) != 2 {
				return nil, perr("want: %s NUMBER", toks[0].s)
			}
			if toks[0].s == "from" {
				target().From = toks[1].s
			} else {
				target().To = toks[1].s
			}
		case "contact":
			if len(toks) > 1 && (toks[1].s == "texted" || toks[1].s == "called") && !toks[1].quoted {
				h, err := parseHistory(toks)
				if err != nil {
					return nil, perr("%v", err)
				}
				t := target()
				t.Steps = append(t.Steps, Step{Kind: StepHistory, Pos: pos, Text: text, History: h})
				break
			}
			c, err := parseContact(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			target().Contact = c
		case "directory":
			if len(toks) != 2 || !toks[1].quoted {
				return nil, perr(`want: directory "FILE.json" (relative to this file's directory)`)
			}
			d, err := loadDirectory(dir, toks[1].s)
			if err != nil {
				return nil, perr("%v", err)
			}
			target().Directory, target().DirectoryPath = d, filepath.Join(dir, toks[1].s)
		case "user":
			u, err := parseUser(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			target().Users = append(target().Users, u)
		case "team":
			tm, err := parseTeam(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			target().Teams = append(target().Teams, tm)
		case "applet":
			name, m, err := parseApplet(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			t := target()
			t.Applets[name] = m
		case "http":
			m, err := parseHTTPMock(pos, toks[1:]) // http.go
			if err != nil {
				return nil, perr("%v", err)
			}
			target().HTTP = append(target().HTTP, m)
		case "send":
			if cur == nil {
				return nil, perr(`send outside a test (start one with: test "NAME")`)
			}
			media, err := parseSend(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			cur.Steps = append(cur.Steps, Step{Kind: StepSend, Pos: pos, Text: text, Body: toks[1].s, Media: media})
		case "wait":
			if cur == nil {
				return nil, perr("wait outside a test")
			}
			if len(toks) != 2 {
				return nil, perr("want: wait DURATION (e.g. 15m)")
			}
			d, err := check.ParseDuration(toks[1].s)
			if err != nil {
				return nil, perr("%v", err)
			}
			cur.Steps = append(cur.Steps, Step{Kind: StepWait, Pos: pos, Text: text, Dur: d})
		case "expect":
			if cur == nil {
				return nil, perr("expect outside a test")
			}
			if len(cur.Steps) == 0 || firstAction(cur.Steps) {
				return nil, perr("expect before any send or wait")
			}
			e, err := parseExpect(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			cur.Steps = append(cur.Steps, Step{Kind: StepExpect, Pos: pos, Text: text, Exp: e})
		case "call", "press", "ringing", "record", "caller":
			st, ok, err := parseCallLine(toks, text) // voice.go
			if err != nil {
				return nil, perr("%v", err)
			}
			if ok {
				if cur == nil {
					return nil, perr(`%s outside a test (start one with: test "NAME")`, toks[0].s)
				}
				st.Pos = pos
				cur.Steps = append(cur.Steps, st)
				break
			}
			fallthrough
		case "texted", "called", "campaign":
			h, err := parseHistory(toks)
			if err != nil {
				return nil, perr("%v", err)
			}
			t := target()
			t.Steps = append(t.Steps, Step{Kind: StepHistory, Pos: pos, Text: text, History: h})
		case "list":
			name, entries, err := parseList(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			t := target()
			t.Steps = append(t.Steps, Step{Kind: StepList, Pos: pos, Text: text, List: name, Entries: entries})
		case "agent", "queue":
			st, err := parseAgentLine(toks, text)
			if err != nil {
				return nil, perr("%v", err)
			}
			st.Pos = pos
			if isQueueSetup(st.Kind) {
				t := target()
				t.Steps = append(t.Steps, st)
				break
			}
			if cur == nil {
				return nil, perr(`agent outside a test (start one with: test "NAME")`)
			}
			cur.Steps = append(cur.Steps, st)
		case "number":
			ns, err := parseNumber(toks[1:])
			if err != nil {
				return nil, perr("%v", err)
			}
			t := target()
			t.Numbers = append(t.Numbers, ns)
		default:
			return nil, perr("unknown line %q (want test, flow, at, from, to, contact, directory, user, team, applet, texted, called, call, campaign, list, number, http, agent, queue, press, ringing, record, caller, send, wait or expect)", toks[0].s)
		}
	}
	if len(f.Tests) == 0 {
		return nil, &Error{Pos{path, 1}, `no tests (start one with: test "NAME")`}
	}
	seen := map[string]Pos{}
	for _, t := range f.Tests {
		if p, dup := seen[t.Name]; dup {
			return nil, &Error{t.Pos, fmt.Sprintf("test %q already defined at %s", t.Name, p)}
		}
		seen[t.Name] = t.Pos
		if !slices.ContainsFunc(t.Steps, func(s Step) bool { return s.Kind == StepSend || s.Kind == StepWait || s.Kind == StepCall }) {
			return nil, &Error{t.Pos, fmt.Sprintf("test %q has no steps", t.Name)}
		}

	}
	return f, nil
}

func firstAction(steps []Step) bool {
	for _, s := range steps {
		if s.Kind != StepExpect && !isSetupStep(s.Kind) {
			return false
		}
	}
	return true
}

func cloneDefaults(d *Test) *Test {
	t := *d
	t.Users = slices.Clone(d.Users)
	t.Teams = slices.Clone(d.Teams)
	t.Numbers = slices.Clone(d.Numbers)
	t.HTTP = slices.Clone(d.HTTP)
	t.Applets = map[string]AppletMock{}
	for k, v := range d.Applets {
		t.Applets[k] = v
	}
	return &t
}

func words(toks []token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.s
	}
	return out
}

func parseContact(toks []token) (*Contact, error) {
	c := &Contact{Fields: map[string]string{}}
	for i := 0; i < len(toks); i++ {
		switch toks[i].s {
		case "name", "owner":
			if i+1 >= len(toks) || !toks[i+1].quoted {
				return nil, fmt.Errorf(`want: contact %s "VALUE"`, toks[i].s)
			}
			if toks[i].s == "name" {
				c.Name = toks[i+1].s
			} else {
				c.Owner = toks[i+1].s
			}
			i++
		case "tags":
			n := 0
			for i+1 < len(toks) && (toks[i+1].quoted || toks[i+1].s == ",") {
				if toks[i+1].quoted {
					c.Tags = append(c.Tags, toks[i+1].s)
					n++
				}
				i++
			}
			if n == 0 {
				return nil, fmt.Errorf(`want: contact tags "TAG" "TAG"…`)
			}
		case "field":
			if i+2 >= len(toks) || !toks[i+2].quoted {
				return nil, fmt.Errorf(`want: contact field KEY "VALUE"`)
			}
			c.Fields[toks[i+1].s] = toks[i+2].s
			i += 2
		case "known":
		default:
			return nil, fmt.Errorf("unknown contact attribute %q (want name, owner, tags, field or known)", toks[i].s)
		}
	}
	return c, nil
}

// parseUser reads `user NAME [away|available]`.
func parseUser(toks []token) (directory.User, error) {
	const want = "want: user NAME, or user NAME away"
	if len(toks) == 0 || len(toks) > 2 || toks[0].quoted && toks[0].s == "" {
		return directory.User{}, errors.New(want)
	}
	u := directory.User{Name: toks[0].s}
	if len(toks) == 2 {
		switch toks[1].s {
		case "away":
			u.Available = new(bool)
		case "available":
		default:
			return u, errors.New(want)
		}
	}
	return u, nil
}

// parseTeam reads `team NAME MEMBER, MEMBER…` (members in turn order).
func parseTeam(toks []token) (directory.Team, error) {
	const want = "want: team NAME USER, USER… (the members, in the directory's order)"
	if len(toks) < 2 || toks[0].s == "," {
		return directory.Team{}, errors.New(want)
	}
	tm := directory.Team{Name: toks[0].s, Members: []string{}}
	for _, t := range toks[1:] {
		if t.quoted {
			tm.Members = append(tm.Members, t.s)
			continue
		}
		for _, m := range strings.Split(t.s, ",") { // erin, bob or erin,bob
			if m != "" {
				tm.Members = append(tm.Members, m)
			}
		}
	}
	if len(tm.Members) == 0 {
		return tm, errors.New(want)
	}
	return tm, nil
}

// amendDirectory applies the test's user and team lines to base (not
// changed: the file's directory is shared by the tests), and checks the
// result as the server checks directory.json.
func (t *Test) amendDirectory(base *directory.Directory) (*directory.Directory, error) {
	if len(t.Users) == 0 && len(t.Teams) == 0 {
		return base, nil
	}
	d := &directory.Directory{}
	if base != nil {
		d.Users, d.Teams, d.Contacts = slices.Clone(base.Users), slices.Clone(base.Teams), base.Contacts
	}
	for _, u := range t.Users {
		if i := slices.IndexFunc(d.Users, func(x directory.User) bool { return x.Name == u.Name }); i >= 0 {
			d.Users[i] = u
		} else {
			d.Users = append(d.Users, u)
		}
	}
	for _, tm := range t.Teams {
		if i := slices.IndexFunc(d.Teams, func(x directory.Team) bool { return x.Name == tm.Name }); i >= 0 {
			d.Teams[i] = tm
		} else {
			d.Teams = append(d.Teams, tm)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("the directory with the test's user and team lines: %v", err)
	}
	return d, nil
}

// parseSend reads `send "TEXT" [media "URL", "URL"…]`.
func parseSend(toks []token) ([]string, error) {
	const want = `want: send "TEXT", or send "TEXT" media "URL", "URL"…`
	if len(toks) == 0 || !toks[0].quoted {
		return nil, errors.New(want)
	}
	if len(toks) == 1 {
		return nil, nil
	}
	if toks[1].s != "media" || toks[1].quoted {
		return nil, errors.New(want)
	}
	media, err := quotedList(toks[2:], want)
	if err != nil {
		return nil, err
	}
	if len(media) == 0 {
		return nil, errors.New(want)
	}
	if len(media) > inbound.MaxMedia {
		return nil, fmt.Errorf("more than %d media URLs (the carrier's limit)", inbound.MaxMedia)
	}
	for _, u := range media {
		if err := inbound.CheckMediaURL(u); err != nil {
			return nil, err
		}
	}
	return media, nil
}

// quotedList reads "A", "B"… (commas optional); an unquoted word is an error.
func quotedList(toks []token, want string) ([]string, error) {
	out := []string{}
	for _, t := range toks {
		switch {
		case t.quoted:
			out = append(out, t.s)
		case t.s == ",":
		default:
			return nil, fmt.Errorf("%s", want)
		}
	}
	return out, nil
}

// loadDirectory reads a directory file named relative to the .flowtest's
// directory, through that directory only (os.Root): a test cannot read a
// file outside the folder it is kept in.
func loadDirectory(dir, name string) (*directory.Directory, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	b, err := root.ReadFile(filepath.FromSlash(name))
	if err != nil {
		return nil, fmt.Errorf("directory %q: %v", name, err)
	}
	d, err := directory.Parse(filepath.Join(dir, name), b)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func parseApplet(toks []token) (string, AppletMock, error) {
	if len(toks) != 3 || (toks[1].s != "returns" && toks[1].s != "fails") {
		return "", AppletMock{}, fmt.Errorf(`want: applet NAME returns JSON, or applet NAME fails "MESSAGE"`)
	}
	if toks[1].s == "fails" {
		return toks[0].s, AppletMock{Fails: toks[2].s}, nil
	}
	v, err := parseValue(toks[2])
	if err != nil {
		return "", AppletMock{}, err
	}
	return toks[0].s, AppletMock{Returns: v}, nil
}

// parseValue reads a quoted string or a JSON literal.
func parseValue(t token) (any, error) {
	if t.quoted {
		return t.s, nil
	}
	var v any
	if err := json.Unmarshal([]byte(t.s), &v); err != nil {
		return nil, fmt.Errorf("cannot read %s as a value (use \"text\", a number, true, false, null or JSON)", t.s)
	}
	return v, nil
}

func parseText(toks []token, what string) (string, *regexp.Regexp, error) {
	if len(toks) == 2 && toks[0].s == "~" && !toks[0].quoted && toks[1].quoted {
		re, err := regexp.Compile(toks[1].s)
		if err != nil {
			return "", nil, fmt.Errorf("bad regexp: %v", err)
		}
		return toks[1].s, re, nil
	}
	if len(toks) == 1 && toks[0].quoted {
		return toks[0].s, nil, nil
	}
	return "", nil, fmt.Errorf(`want: expect %s "TEXT" or expect %s ~ "REGEXP"`, what, what)
}

func parseExpect(toks []token) (Expect, error) {
	if len(toks) == 0 {
		return Expect{}, fmt.Errorf("want: expect reply|inbox|forward|tag|var|wait|end|error|nothing|assignee|opted-out|not opted-out|tags …")
	}
	rest := toks[1:]
	var e Expect
	var err error
	switch toks[0].s {
	case "reply", "tag", "error":
		e.Kind = map[string]ExpectKind{"reply": ExpReply, "tag": ExpTag, "error": ExpError}[toks[0].s]
		e.Text, e.Re, err = parseText(rest, toks[0].s)
	case "inbox", "forward":
		e.Kind = ExpInbox
		if toks[0].s == "forward" {
			e.Kind = ExpForward
		}
		switch {
		case len(rest) == 1:
		case len(rest) == 3 && rest[1].s == "by" && e.Kind == ExpInbox:
			e.Strategy = rest[2].s
		default:
			return e, fmt.Errorf("want: expect %s KIND:NAME%s", toks[0].s, map[bool]string{true: " [by STRATEGY]"}[e.Kind == ExpInbox])
		}
		if !strings.Contains(rest[0].s, ":") {
			return e, fmt.Errorf("want a target KIND:NAME (team:sales, user:ann, email:a@b.c, webhook:URL), not %q", rest[0].s)
		}
		e.Text = rest[0].s
	case "var":
		if len(rest) != 3 || rest[1].s != "=" {
			return e, fmt.Errorf(`want: expect var NAME = VALUE`)
		}
		e.Kind, e.Var = ExpVar, rest[0].s
		e.Value, err = parseValue(rest[2])
	case "wait", "waiting":
		e.Kind = ExpWait
		switch {
		case len(rest) == 0:
		case len(rest) >= 2 && rest[0].s == "until":
			e.Until = strings.Join(words(rest[1:]), " ")
			if _, err := ParseTime(e.Until, time.UTC); err != nil {
				return e, err
			}
		case len(rest) == 1:
			e.Within, err = check.ParseDuration(rest[0].s)
		default:
			return e, fmt.Errorf("want: expect wait, expect wait DURATION or expect wait until TIME")
		}
	case "end":
		e.Kind = ExpEnd
		if len(rest) != 0 {
			return e, fmt.Errorf("want: expect end")
		}
	case "assignee":
		if len(rest) != 1 || rest[0].s == "," {
			return e, fmt.Errorf("want: expect assignee USER (the member the last team delivery went to)")
		}
		e.Kind, e.Text = ExpAssignee, rest[0].s
	case "opted-out":
		e.Kind = ExpOptedOut
		if len(rest) != 0 {
			return e, fmt.Errorf("want: expect opted-out")
		}
	case "not":
		e.Kind = ExpNotOptedOut
		if len(rest) != 1 || rest[0].s != "opted-out" {
			return e, fmt.Errorf("want: expect not opted-out")
		}
	case "tags":
		e.Kind = ExpTags
		e.Tags, err = quotedList(rest, `want: expect tags "TAG", "TAG"… (every tag of the contact; none: expect tags)`)
	case "nothing":
		e.Kind = ExpNothing
		if len(rest) == 1 && rest[0].s == "else" {
			e.Kind = ExpNothingElse
		} else if len(rest) != 0 {
			return e, fmt.Errorf("want: expect nothing, or expect nothing else")
		}
	case "untag", "field":
		return parseEffectExpect(e, toks[0].s, rest) // http.go
	default:
		if ce, ok, err := parseCallExpect(toks); ok { // voice.go
			return ce, err
		}
		if qe, ok, err := parseQueueExpect(toks); ok {
			return qe, err
		}
		return e, fmt.Errorf("unknown expectation %q (want reply, inbox, forward, tag, untag, field, var, wait, end, error, nothing, assignee, opted-out, not opted-out, tags, queue, refused, say, gather, play, ring, voicemail, hangup, text)", toks[0].s)
	}
	return e, err
}

// ParseTime reads RFC 3339 or YYYY-MM-DDTHH:MM in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use YYYY-MM-DDTHH:MM in the flow's zone, or RFC 3339)", s)
}

type token struct {
	s      string
	quoted bool // the whole token was a quoted string
}

func stripComment(line string) string {
	inQ := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQ != 0:
			if c == '\\' && inQ == '"' {
				i++
			} else if c == inQ {
				inQ = 0
			}
		case c == '"' || c == '`':
			inQ = c
		case c == '#':
			return line[:i]
		}
	}
	return line
}

// tokenize splits a line into words and quoted strings ("Go syntax" or
// `raw`); a quote inside a word (webhook:"https://…") is unquoted in place.
// `#` outside quotes starts a comment.
func tokenize(line string) ([]token, error) {
	var out []token
	i := 0
	for i < len(line) {
		c := line[i]
		if unicode.IsSpace(rune(c)) {
			i++
			continue
		}
		if c == '#' {
			break
		}
		if c == '{' || c == '[' {
			// A JSON object or array: the rest of the line, as written.
			out = append(out, token{s: strings.TrimSpace(stripComment(line[i:]))})
			break
		}
		if c == ',' {
			out = append(out, token{s: ","})
			i++
			continue
		}
		var b strings.Builder
		quoted := c == '"' || c == '`'
		for i < len(line) && !unicode.IsSpace(rune(line[i])) {
			if line[i] == '"' || line[i] == '`' {
				q, n, err := readQuoted(line[i:])
				if err != nil {
					return nil, err
				}
				b.WriteString(q)
				i += n
				continue
			}
			if quoted && (line[i] == ',' || line[i] == '#') {
				break // "a", "b" lists; a comment right after a string
			}
			quoted = false
			b.WriteByte(line[i])
			i++
		}
		out = append(out, token{b.String(), quoted})
	}
	return out, nil
}

func readQuoted(s string) (string, int, error) {
	if s[0] == '`' {
		end := strings.IndexByte(s[1:], '`')
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated `raw string`")
		}
		return s[1 : 1+end], end + 2, nil
	}
	// Go-like escapes (\" \\ \n \t); any other backslash is kept as
	// written, so "^Reply \d" is the regexp it looks like.
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch s[i] {
			case '"', '\\':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}
