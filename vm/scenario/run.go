package scenario

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// Failure is one expectation that did not hold.
type Failure struct {
	Pos      Pos    `json:"-"`
	Where    string `json:"pos"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

// Result is one test's outcome.
type Result struct {
	Name     string        `json:"name"`
	Where    string        `json:"pos"`
	Flow     string        `json:"flow"`
	Pass     bool          `json:"pass"`
	Failures []Failure     `json:"failures,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Test     *Test         `json:"-"`
	Prog     *vm.Program   `json:"-"`
	// Logs is what the applets wrote with console.log and friends, in
	// order; `flowc test` shows it under a failing test.
	Logs []Log `json:"logs,omitempty"`
	// Traces of every VM run, for coverage.
	Traces [][]vm.TraceStep `json:"-"`
}

// Log is one console line of an applet, with the test step (send or
// wait) whose run wrote it.
type Log struct {
	Pos   Pos    `json:"-"`
	Where string `json:"pos"`
	vm.AppletLog
}

func (r *Result) keepLogs(pos Pos, res *vm.Result) {
	for _, l := range res.Logs {
		r.Logs = append(r.Logs, Log{Pos: pos, Where: pos.String(), AppletLog: l})
	}
}

// Run runs one test against its compiled flow.
func Run(ctx context.Context, t *Test, p *vm.Program) *Result { return RunWith(ctx, t, p, nil) }

// Option tunes RunWith.
type Option func(*options)

type options struct {
	eventBudget time.Duration
	http        vm.HTTPDoer // requests no mock answers (WithHTTP, http.go)
	observe     Observer
}

// Observed is one step as the simulator ran it, for an Observer: the
// step, the conversation after it, the step's results (a send's, each
// timer's of a wait, an agent's action's) and, for an agent's action,
// its refusal.
type Observed struct {
	Step    Step
	Conv    *sim.Conversation
	Results []*vm.Result
	Refused error
}

// Observer sees each step of a scenario (not its expectations) after the
// simulator ran it; an error is the step's failure. It is how one
// scenario drives another implementation beside the simulator (the
// server's tests run .flowtest files through the HTTP server with it)
// and compares what each did, so that the two cannot drift apart.
type Observer func(ctx context.Context, o Observed) error

// WithObserver calls observe after each step (WithObserver's doc).
func WithObserver(observe Observer) Option { return func(o *options) { o.observe = observe } }

// WithEventBudget sets the time all applet calls of one event may take
// (vm.Options.EventBudget), as the server's FLOWC_EVENT_BUDGET does.
func WithEventBudget(d time.Duration) Option { return func(o *options) { o.eventBudget = d } }

// RunWith is Run with a runner for the applets the test does not mock
// (nil: an unmocked applet is an error).
func RunWith(ctx context.Context, t *Test, p *vm.Program, real sim.AppletFunc, opts ...Option) *Result {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	start := time.Now()
	r := &Result{Name: t.Name, Where: t.Pos.String(), Flow: t.Flow, Test: t, Prog: p}
	defer func() { r.Pass = len(r.Failures) == 0; r.Elapsed = time.Since(start) }()
	fail := func(pos Pos, expected, got string) {
		r.Failures = append(r.Failures, Failure{Pos: pos, Where: pos.String(), Expected: expected, Got: got})
	}
	loc := p.Location()
	clock := time.Now()
	if t.At != "" {
		c, err := ParseTime(t.At, loc)
		if err != nil {
			fail(t.AtPos, "a valid time", err.Error())
			return r
		}
		clock = c
	}
	to := t.To
	if to == "" && len(p.Numbers) > 0 {
		to = p.Numbers[0]
	}
	if to == "" && len(p.CallNumbers) > 0 {
		to = p.CallNumbers[0] // a call flow's (voice.go)
	}
	dir, err := testDirectory(t)
	if err != nil {
		fail(t.Pos, "the directory to load", err.Error())
		return r
	}
	dir = withNumber(dir, to, t.Numbers)
	env := &sim.Env{Clock: clock, Contacts: map[string]runtime.Contact{}, Directory: dir, Applets: mockApplets(t.Applets, real), EventBudget: o.eventBudget}
	env.HTTP = &mockHTTP{mocks: t.HTTP, env: env, real: o.http} // http.go
	if c := t.Contact; c != nil {
		env.Contacts[t.From] = runtime.KnownContact(c.Name, c.Owner, c.Tags, c.Fields)
	}
	conv := &sim.Conversation{Prog: p, Env: env, From: t.From, To: to, Trace: true}

	var (
		step     *stepState // the actions of the last send or wait
		vars     = map[string]any{}
		stepFail bool
	)
	for _, s := range t.Steps {
		if s.Kind != StepExpect && stepFail {
			break // later steps would only cascade
		}
		observed := Observed{Step: s, Conv: conv}
		switch s.Kind {
		case StepHistory:
			applyHistory(env, t.From, to, s.History, env.Clock)
		case StepList:
			applyList(env, s.List, s.Entries)
		case StepSend:
			if p.Channel == "voice" { // voice.go
				fail(s.Pos, "a text to an SMS flow", p.Name+" is a call flow: place a call with `call`, then press, ringing, record")
				return r
			}
			res, err := conv.SendMessage(ctx, vm.Message{Body: s.Body, Media: s.Media})
			if err != nil {
				fail(s.Pos, "the message to run", err.Error())
				return r
			}
			step = newStep(res)
			step.delivered = conv.Delivered
			r.Traces = append(r.Traces, res.Trace)
			r.keepLogs(s.Pos, res)
			observed.Results = []*vm.Result{res}
		case StepWait:
			results, err := conv.Wait(ctx, s.Dur)
			if err != nil {
				fail(s.Pos, "the timers to fire", err.Error())
				return r
			}
			step = newStep(results...)
			if len(results) > 0 {
				step.delivered = conv.Delivered // every timer's
			}
			for _, res := range results {
				r.Traces = append(r.Traces, res.Trace)
				r.keepLogs(s.Pos, res)
			}
			observed.Results = results
		case StepAgent, StepAvailability, StepQueueWaiting:
			res, refused, err := runAgentLine(ctx, conv, s)
			if err != nil {
				fail(s.Pos, "the agent's action to run", err.Error())
				return r
			}
			if s.Kind == StepAgent {
				step = newStep()
				if res != nil {
					step = newStep(res)
				}
				step.refused = refused
				if res != nil {
					r.Traces = append(r.Traces, res.Trace)
					observed.Results = []*vm.Result{res}
				}
				observed.Refused = refused
			}
		case StepCall, StepPress, StepRinging, StepRecord, StepCallerHangsUp:
			res, err := runCallLine(ctx, conv, s) // voice.go
			if err != nil {
				fail(s.Pos, "the call's event to run", err.Error())
				return r
			}
			step = newStep(res)
			step.delivered = conv.Delivered
			r.Traces = append(r.Traces, res.Trace)
			observed.Results = []*vm.Result{res}
		case StepExpect:
			for _, a := range step.actions {
				if a.Kind == vm.ActSet {
					vars[a.Var] = a.Value
				}
			}
			if exp, got, ok := step.check(s.Exp, vars, conv, loc); !ok {
				fail(s.Pos, exp, got)
				stepFail = true
			}
			continue
		}
		if o.observe != nil {
			if err := o.observe(ctx, observed); err != nil {
				fail(s.Pos, "the observer to agree with the simulator", err.Error())
				return r
			}
		}
	}
	return r
}

type stepState struct {
	actions []vm.Action
	used    []bool
	errors  []string
	errUsed []bool
	// delivered are the step's inbox items with the member each went to.
	delivered []sim.Delivery
	refused   error // an agent's action that was refused
}

// testDirectory is the directory a test's server reads: the file its
// `directory` line named, else directory.json beside the flow, as
// `flowc serve`, `flowc run` and `flowc check` find it; nil when none.
// The test's user and team lines amend it.
func testDirectory(t *Test) (*directory.Directory, error) {
	d := t.Directory
	if d == nil {
		var err error
		d, err = directory.Load(filepath.Join(filepath.Dir(t.Flow), directory.FileName))
		if errors.Is(err, fs.ErrNotExist) {
			d = nil
		} else if err != nil {
			return nil, err
		}
	}
	return t.amendDirectory(d)
}

func newStep(results ...*vm.Result) *stepState {
	s := &stepState{}
	for _, r := range results {
		s.actions = append(s.actions, r.Actions...)
		s.errors = append(s.errors, r.Errors...)
	}
	s.used = make([]bool, len(s.actions))
	s.errUsed = make([]bool, len(s.errors))
	return s
}

func (s *stepState) describe(loc *time.Location) string {
	var parts []string
	for _, a := range s.actions {
		parts = append(parts, describeAction(a, loc))
	}
	for _, e := range s.errors {
		parts = append(parts, "error "+e)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

func (s *stepState) leftover(loc *time.Location) string {
	var parts []string
	for i, a := range s.actions {
		if !s.used[i] {
			parts = append(parts, describeAction(a, loc))
		}
	}
	for i, e := range s.errors {
		if !s.errUsed[i] {
			parts = append(parts, "error "+e)
		}
	}
	return strings.Join(parts, ", ")
}

func describeAction(a vm.Action, loc *time.Location) string {
	switch a.Kind {
	case vm.ActWait:
		if !a.Deadline.IsZero() {
			return "wait until " + a.Deadline.In(loc).Format("2006-01-02T15:04")
		}
		return "wait"
	case vm.ActForward:
		return "forward " + a.Target.String()
	}
	return a.String()
}

func (s *stepState) take(match func(a vm.Action) bool) bool {
	for i, a := range s.actions {
		if !s.used[i] && match(a) {
			s.used[i] = true
			return true
		}
	}
	return false
}

func textMatches(e Expect, got string) bool {
	if e.Re != nil {
		return e.Re.MatchString(got)
	}
	return e.Text == got
}

func describeExpect(e Expect) string {
	text := fmt.Sprintf("%q", e.Text)
	if e.Re != nil {
		text = fmt.Sprintf("~ %q", e.Text)
	}
	switch e.Kind {
	case ExpReply:
		return "reply " + text
	case ExpTag:
		return "tag " + text
	case ExpError:
		return "error " + text
	case ExpInbox:
		if e.Strategy != "" {
			return "inbox " + e.Text + " by " + e.Strategy
		}
		return "inbox " + e.Text
	case ExpForward:
		return "forward " + e.Text
	case ExpVar:
		return fmt.Sprintf("var %s = %s", e.Var, formatValue(e.Value))
	case ExpWait:
		switch {
		case e.Until != "":
			return "wait until " + e.Until
		case e.Within != 0:
			return "wait " + vm.FormatDuration(e.Within)
		}
		return "wait"
	case ExpEnd:
		return "end"
	case ExpNothingElse:
		return "nothing else"
	case ExpNothing:
		return "nothing"
	case ExpAssignee:
		return "assignee " + e.Text
	case ExpOptedOut:
		return "opted-out"
	case ExpNotOptedOut:
		return "not opted-out"
	case ExpTags:
		return "tags " + quoteList(e.Tags)
	case ExpUntag:
		return "untag " + text
	case ExpField:
		return fmt.Sprintf("field %q %s", e.Var, text)
	}
	if d, ok := describeCallExpect(e); ok { // voice.go
		return d
	}
	return describeQueueExpect(e)
}

func formatValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if v == nil {
		return "null"
	}
	return fmt.Sprint(v)
}

func sameTarget(want string, t vm.Target) bool {
	return want == t.String()
}

// check tests one expectation, consuming the action it matched.
func (s *stepState) check(e Expect, vars map[string]any, conv *sim.Conversation, loc *time.Location) (expected, got string, ok bool) {
	expected = describeExpect(e)
	got = s.describe(loc)
	switch e.Kind {
	case ExpReply:
		ok = s.take(func(a vm.Action) bool { return a.Kind == vm.ActReply && textMatches(e, a.Text) })
	case ExpTag:
		ok = s.take(func(a vm.Action) bool { return a.Kind == vm.ActTag && textMatches(e, a.Text) })
	case ExpInbox:
		ok = s.take(func(a vm.Action) bool {
			return a.Kind == vm.ActDeliver && sameTarget(e.Text, a.Target) && (e.Strategy == "" || e.Strategy == a.Target.Strategy)
		})
	case ExpForward:
		ok = s.take(func(a vm.Action) bool { return a.Kind == vm.ActForward && sameTarget(e.Text, a.Target) })
	case ExpEnd:
		ok = s.take(func(a vm.Action) bool { return a.Kind == vm.ActEnd })
	case ExpWait:
		ok = s.take(func(a vm.Action) bool {
			if a.Kind != vm.ActWait {
				return false
			}
			switch {
			case e.Until != "":
				t, err := ParseTime(e.Until, loc)
				return err == nil && a.Deadline.Equal(t)
			case e.Within != 0:
				return !a.Deadline.IsZero() && a.Deadline.Equal(conv.Env.Clock.Add(e.Within))
			}
			return true
		})
	case ExpError:
		for i, msg := range s.errors {
			if !s.errUsed[i] && textMatches(e, msg) {
				s.errUsed[i], ok = true, true
				break
			}
		}
	case ExpVar:
		v, set := vars[e.Var]
		if conv.State != nil {
			if sv, in := conv.State.Vars[e.Var]; in {
				v, set = sv, true
			}
		}
		got = "unset"
		if set {
			got = formatValue(v)
		}
		ok = set && equalValues(v, e.Value)
		if ok {
			s.take(func(a vm.Action) bool { return a.Kind == vm.ActSet && a.Var == e.Var })
		}
	case ExpNothingElse:
		left := s.leftover(loc)
		ok = left == ""
		got = left
	case ExpNothing:
		ok = len(s.actions) == 0 && len(s.errors) == 0
	case ExpAssignee:
		got = "no team delivery"
		for _, d := range s.delivered {
			if d.Target.Kind != "team" {
				continue
			}
			got = "assignee " + d.Assignee
			switch {
			case d.Assignee != "":
			case d.Target.Strategy == "" || d.Target.Strategy == "all":
				got = "nobody (" + d.Target.String() + " goes to the whole team: name a strategy, inbox " + d.Target.String() + " by round-robin)"
			default:
				got = "nobody (" + d.Target.String() + " has no available member in the directory)"
			}
		}
		ok = got == expected
	case ExpOptedOut, ExpNotOptedOut:
		got = map[bool]string{true: "opted-out", false: "not opted-out"}[conv.OptedOut]
		ok = got == expected
	case ExpUntag, ExpField:
		ok = s.take(func(a vm.Action) bool { return effectMatches(e, a) }) // http.go
	case ExpTags:
		c, _ := conv.Env.Contact(context.Background(), conv.From)
		have := slices.Clone(c.Tags)
		got = "tags " + quoteList(have)
		want := slices.Clone(e.Tags)
		slices.Sort(have)
		slices.Sort(want)
		ok = slices.Equal(slices.Compact(have), slices.Compact(want))
	default:
		var handled bool
		if ok, handled = s.checkCall(e); handled { // voice.go
			break
		}
		var g string
		if g, ok = s.checkQueue(e, conv); g != "" {
			got = g
		}
	}
	return expected, got, ok
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func equalValues(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	// JSON numbers are float64; flow values may be ints.
	return fmt.Sprint(a) == fmt.Sprint(b) && reflect.TypeOf(a) != reflect.TypeOf("") && reflect.TypeOf(b) != reflect.TypeOf("")
}

func mockApplets(m map[string]AppletMock, real sim.AppletFunc) sim.AppletFunc {
	return func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
		mock, ok := m[a.Name]
		if !ok && real != nil {
			return real(ctx, a, in)
		}
		if !ok {
			return nil, fmt.Errorf("no mock for applet %s in the test (add: applet %s returns JSON)", a.Name, a.Name)
		}
		if mock.Fails != "" {
			return nil, fmt.Errorf("%s", mock.Fails)
		}
		return mock.Returns, nil
	}
}
