package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/flowgraph"
	"github.com/flowc-dev/flowc/vm/scenario"
	"github.com/flowc-dev/flowc/vm/sim"
)

// The playground (admins): a deployed flow, or a pasted draft, played
// as `flowc run` plays it: the same pure inbound stage (vm/sim over
// vm/inbound), in memory, with a fake clock; no contact, conversation or
// message of the store is read or written. The conversation lives in the
// page: its events are a hidden field, one .flowtest step a line (`send
// "hi"`, `wait 15m`, `press 2`), parsed by vm/scenario and played again
// from the start at every request, so the server keeps nothing and a
// page reloaded shows the same. The same lines, with the expectations
// the run met, download as a .flowtest.
//
// A pasted draft is code from the page: its size, the events, each
// message and the time of each event are bounded (below); the VM's own
// budgets (vm.DefaultMaxSteps instructions an event, the server's event
// budget for applet calls) apply as on the server; http steps fail (the
// playground sends no request anywhere).

// Bounds of the playground.
const (
	MaxDraftBytes      = 32 << 10 // a pasted draft's source
	MaxPlaygroundSteps = 40       // events a session plays
	MaxMessageBytes    = 1600     // one message (ten SMS segments)
	// playTimeout bounds all the events of one request, on the real
	// clock (the VM's event budget bounds applet time per event).
	playTimeout = 10 * time.Second
)

// playForm is what the playground's forms carry.
type playForm struct {
	Flow   string // a deployed flow's name, when no draft is given
	Draft  string // a pasted source
	At     string // the clock's start, YYYY-MM-DDTHH:MM in the flow's zone
	From   string
	To     string
	Events []string // .flowtest step lines
	Step   int      // the event shown (1-based; 0: the last)
}

func readPlayForm(r *http.Request) playForm {
	f := playForm{Flow: r.FormValue("flow"), Draft: strings.ReplaceAll(r.FormValue("draft"), "\r\n", "\n"),
		At: strings.TrimSpace(r.FormValue("at")), From: strings.TrimSpace(r.FormValue("from")), To: strings.TrimSpace(r.FormValue("to"))}
	for _, l := range strings.Split(r.FormValue("events"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			f.Events = append(f.Events, l)
		}
	}
	f.Step, _ = strconv.Atoi(r.FormValue("step"))
	return f
}

// played is one event and what the stage did with it.
type played struct {
	N       int
	Line    string
	Clock   time.Time
	Outcome string
	Actions []string
	Deliver []string // inbox deliveries with whom they went to
	Errors  []string
	Trace   []TraceStep
	State   string
	acts    []vm.Action
}

type playView struct {
	Form      playForm
	EventsTxt string
	Flows     []Flow
	CSRF      string
	Error     string
	Diags     []diagView
	Prog      *vm.Program
	Voice     bool
	Start     time.Time // the clock's start
	Played    []played
	Shown     *played
	Lines     []srcLine
	Graph     template.HTML
	GraphErr  string
	MaxDraft  int
	MaxEvents int
}

func (c *Console) playground(w http.ResponseWriter, r *http.Request) {
	f := readPlayForm(r)
	if r.Method == http.MethodPost {
		switch r.PostFormValue("add") {
		case "send":
			f.Events = append(f.Events, "send "+quote(r.PostFormValue("message")))
		case "wait":
			f.Events = append(f.Events, "wait "+strings.TrimSpace(r.PostFormValue("wait")))
		case "call":
			f.Events = append(f.Events, strings.TrimSpace(r.PostFormValue("callevent")))
		case "undo":
			if len(f.Events) > 0 {
				f.Events = f.Events[:len(f.Events)-1]
			}
		case "reset":
			f.Events = nil
		}
		if r.PostFormValue("add") != "" {
			f.Step = 0
		}
	}
	v, code := c.play(r.Context(), f)
	v.CSRF = session(r).CSRF
	flows, err := c.b.Flows(r.Context())
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	for _, fl := range flows {
		if fl.Active != "" {
			v.Flows = append(v.Flows, fl)
		}
	}
	if v.Shown != nil && v.Prog != nil {
		hit := map[int]bool{}
		for _, t := range v.Shown.Trace {
			hit[t.Line] = true
		}
		for i := range v.Lines {
			if hit[v.Lines[i].N] {
				v.Lines[i].Diag = "hit"
			}
		}
		svg, err := c.graphs.svg(r.Context(), v.Prog.Version, flowgraph.Build(v.Prog))
		if err != nil {
			v.GraphErr = "The drawing could not be made: " + err.Error()
		}
		v.Graph = markHits(svg, hit)
	}
	c.render(w, r, code, "playground.html", "Playground", v)
}

// play compiles or loads the flow and plays the events: the page's
// view, and its status (400 for input the playground refuses).
func (c *Console) play(ctx context.Context, f playForm) (playView, int) {
	v := playView{Form: f, EventsTxt: strings.Join(f.Events, "\n"), MaxDraft: MaxDraftBytes, MaxEvents: MaxPlaygroundSteps}
	bad := func(msg string) (playView, int) { v.Error = msg; return v, http.StatusBadRequest }
	if f.Flow == "" && strings.TrimSpace(f.Draft) == "" {
		return v, http.StatusOK // the empty form
	}
	if len(f.Draft) > MaxDraftBytes {
		return bad(fmt.Sprintf("draft: the source is %d bytes; the playground takes at most %d.", len(f.Draft), MaxDraftBytes))
	}
	if len(f.Events) > MaxPlaygroundSteps {
		return bad(fmt.Sprintf("events: %d events; a playground session plays at most %d (start over, or save it as a .flowtest and go on with flowc test).", len(f.Events), MaxPlaygroundSteps))
	}
	p, err := c.playProgram(ctx, f, &v)
	if err != nil {
		var ref *Refused
		if errors.As(err, &ref) {
			return bad(ref.Msg)
		}
		v.Error = "The flow could not be loaded: " + err.Error()
		return v, http.StatusServiceUnavailable
	}
	if p == nil {
		return v, http.StatusUnprocessableEntity
	}
	v.Prog, v.Voice = p, p.Channel == "voice"
	v.Lines = highlight(string(p.Source))
	start := c.b.Now().Truncate(time.Minute)
	if f.At != "" {
		t, err := parseClock(f.At, p.Location())
		if err != nil {
			return bad("at: " + err.Error())
		}
		start = t
	}
	from := f.From
	if from == "" {
		from = "+15557654321"
	}
	if !e164(from) {
		return bad(fmt.Sprintf("from: %q is not an E.164 number (+ then digits).", from))
	}
	to := f.To
	if to == "" {
		if len(p.Numbers) > 0 {
			to = p.Numbers[0]
		} else if len(p.CallNumbers) > 0 {
			to = p.CallNumbers[0]
		} else {
			to = "+15550000000"
		}
	}
	if !e164(to) {
		return bad(fmt.Sprintf("to: %q is not an E.164 number (+ then digits).", to))
	}
	v.Form.From, v.Form.To, v.Start = from, to, start
	if v.Voice && (len(f.Events) == 0 || f.Events[0] != "call") {
		f.Events = append([]string{"call"}, f.Events...) // a call flow is called first, as flowc run does
		v.Form.Events, v.EventsTxt = f.Events, strings.Join(f.Events, "\n")
	}
	steps, msg := parseEvents(f.Events)
	if msg != "" {
		return bad(msg)
	}
	env := c.admin().Playground()
	conv := &sim.Conversation{Prog: p, From: from, To: to, Trace: true,
		Env: &sim.Env{Clock: start, Applets: env.Applets, EventBudget: env.EventBudget, Directory: env.Directory}}
	ctx, cancel := context.WithTimeout(ctx, playTimeout)
	defer cancel()
	for i, st := range steps {
		pl := played{N: i + 1, Line: f.Events[i]}
		var results []*vm.Result
		var err error
		for _, l := range st.Media {
			if len(l) > 2048 {
				err = fmt.Errorf("a media URL is longer than 2048 bytes")
			}
		}
		switch {
		case err != nil:
		case ctx.Err() != nil:
			err = fmt.Errorf("the playground stopped: its %s were spent", playTimeout)
		case st.Kind == scenario.StepSend:
			var res *vm.Result
			res, err = conv.SendMessage(ctx, vm.Message{Body: st.Body, Media: st.Media})
			results = append(results, res)
		case st.Kind == scenario.StepWait:
			results, err = conv.Wait(ctx, st.Dur)
		default: // a call's line
			var res *vm.Result
			res, err = scenario.RunCall(ctx, conv, st)
			results = append(results, res)
		}
		pl.Clock = conv.Env.Clock
		if conv.Last != nil {
			pl.Outcome = conv.Last.Outcome
		}
		for _, res := range results {
			if res == nil {
				continue
			}
			for _, a := range res.Actions {
				pl.acts = append(pl.acts, a)
				pl.Actions = append(pl.Actions, describeAct(a, p.Location()))
			}
			pl.Errors = append(pl.Errors, res.Errors...)
			for _, t := range res.Trace {
				pl.Trace = append(pl.Trace, TraceStep{Loc: fmt.Sprintf("%s:%d:%d", p.File, t.Loc.Line, t.Loc.Col), Line: t.Loc.Line,
					Op: strings.ToLower(t.Op.String()), Note: t.Note})
			}
		}
		for _, d := range conv.Delivered {
			to := "waits in the team's inbox for any member (no strategy, or no member available)"
			if d.Assignee != "" {
				to = "to " + d.Assignee
			}
			pl.Deliver = append(pl.Deliver, d.Target.String()+" "+to)
		}
		if err != nil {
			pl.Errors = append(pl.Errors, err.Error())
		}
		pl.State = describeConv(p, conv)
		v.Played = append(v.Played, pl)
	}
	if n := len(v.Played); n > 0 {
		i := n - 1
		if f.Step >= 1 && f.Step <= n {
			i = f.Step - 1
		}
		v.Shown = &v.Played[i]
		v.Form.Step = i + 1
	}
	return v, http.StatusOK
}

// playProgram is the draft compiled (nil with v.Diags when it does not
// compile), or the deployed flow's active version.
func (c *Console) playProgram(ctx context.Context, f playForm, v *playView) (*vm.Program, error) {
	if strings.TrimSpace(f.Draft) != "" {
		p, diags := c.admin().CompileDraft("playground.flow", f.Draft)
		for _, d := range diags {
			line := 0
			if d.Span.Source != nil {
				line = d.Span.Source.Pos(d.Span.Start).Line
			}
			sev := "warning"
			if d.Severity == diag.Error {
				sev = "error"
			}
			v.Diags = append(v.Diags, diagView{Severity: sev, Code: d.Code, Message: d.Message, Hint: d.Hint, Line: line})
		}
		if p == nil {
			v.Error = "The draft does not compile: see its diagnostics."
		}
		return p, nil
	}
	vs, err := c.b.Versions(ctx, f.Flow)
	if err != nil {
		return nil, err
	}
	active := activeOf(vs)
	if active == "" {
		return nil, &Refused{Code: http.StatusNotFound, Msg: fmt.Sprintf("flow: no flow named %q is deployed.", f.Flow)}
	}
	return c.b.Program(ctx, active)
}

// parseEvents reads the events as the steps of a .flowtest test: the
// playground takes sends, waits and a call's lines.
func parseEvents(events []string) ([]scenario.Step, string) {
	var b strings.Builder
	b.WriteString("test \"playground\"\n")
	for i, e := range events {
		if strings.Contains(e, "\n") || strings.HasPrefix(e, "test") {
			return nil, fmt.Sprintf("event %d: %q is not a step", i+1, clipText(e, 80))
		}
		verb, _, _ := strings.Cut(e, " ")
		switch verb {
		case "send", "wait", "call", "press", "ringing", "record", "caller":
		default:
			return nil, fmt.Sprintf("event %d (%s): the playground plays send, wait and a call's lines (call, press, ringing, record, caller hangs up); use flowc test for the rest", i+1, clipText(e, 80))
		}
		if len(e) > 2*MaxMessageBytes+64 { // escaped, a message of MaxMessageBytes fits
			return nil, fmt.Sprintf("event %d: the message is longer than %d bytes", i+1, MaxMessageBytes)
		}
		b.WriteString("  " + e + "\n")
	}
	file, err := scenario.Parse("playground.flowtest", b.String())
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) && se.Pos.Line >= 2 {
			return nil, fmt.Sprintf("event %d (%s): %s", se.Pos.Line-1, clipText(events[se.Pos.Line-2], 80), se.Msg)
		}
		return nil, "events: " + err.Error()
	}
	if len(file.Tests) != 1 || len(file.Tests[0].Steps) != len(events) {
		return nil, "events: want one send, wait or call line per event"
	}
	steps := file.Tests[0].Steps
	for i, st := range steps {
		switch {
		case st.Kind == scenario.StepSend:
			if len(st.Body) > MaxMessageBytes {
				return nil, fmt.Sprintf("event %d: the message is %d bytes; at most %d", i+1, len(st.Body), MaxMessageBytes)
			}
		case st.Kind == scenario.StepWait, st.Call != nil:
		default:
			return nil, fmt.Sprintf("event %d (%s): the playground plays send, wait and a call's lines (call, press, ringing, record, caller hangs up); use flowc test for the rest", i+1, clipText(events[i], 80))
		}
	}
	return steps, ""
}

func describeAct(a vm.Action, loc *time.Location) string {
	if a.Kind == vm.ActWait && !a.Deadline.IsZero() {
		return "wait until " + a.Deadline.In(loc).Format("Mon 2006-01-02 15:04:05")
	}
	return a.String()
}

func describeConv(p *vm.Program, conv *sim.Conversation) string {
	st := conv.State
	if st == nil {
		if conv.OptedOut {
			return "no conversation; the contact opted out (START opts back in)"
		}
		return "no conversation (the next message starts the flow)"
	}
	if st.PC < 0 {
		if q := st.Queue; q != nil {
			return fmt.Sprintf("held by %s", q.Assignee)
		}
		return "waiting"
	}
	s := "waiting at " + p.LocString(st.PC)
	if !st.Deadline.IsZero() {
		s += " until " + st.Deadline.In(p.Location()).Format("Mon 15:04:05")
	}
	if q := st.Queue; q != nil {
		s += fmt.Sprintf(" in the queue of team:%s (%s)", q.Team, q.Status)
	}
	if r := conv.Ringing(); r != nil {
		s += ", ringing " + strings.Join(r, ", ")
	}
	return s
}

// parseClock reads YYYY-MM-DDTHH:MM in loc (a datetime-local field), or
// RFC 3339.
func parseClock(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want YYYY-MM-DDTHH:MM (the flow's zone) or RFC 3339", clipText(s, 40))
}

func e164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// quote is a .flowtest string: double-quoted with \" \\ \n \t escapes.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

var (
	svgNode = regexp.MustCompile(`<g id="node\d+" class="node([^"]*)"`)
	svgLine = regexp.MustCompile(`xlink:href="#L(\d+)"`)
)

// markHits adds the class "hit" to the drawing's nodes of the lines hit
// (not to the missing branches and dead ends drawn beside them).
func markHits(svg template.HTML, hit map[int]bool) template.HTML {
	s := string(svg)
	idx := svgNode.FindAllStringSubmatchIndex(s, -1)
	var b strings.Builder
	at := 0
	for i, m := range idx {
		end := len(s)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		lm := svgLine.FindStringSubmatch(s[m[1]:end])
		if class := s[m[2]:m[3]]; lm == nil || strings.Contains(class, "missing") || strings.Contains(class, "dead-end") {
			continue
		}
		if n, _ := strconv.Atoi(lm[1]); !hit[n] {
			continue
		}
		b.WriteString(s[at:m[3]])
		b.WriteString(" hit")
		at = m[3]
	}
	b.WriteString(s[at:])
	return template.HTML(b.String()) // Graphviz's own output, with a class added
}
