package vm

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/flowc-dev/flowc/runtime"
)

// appletMessage is an applet's ctx.message: what a flow reads, by the
// same names (body, from, to, keyword, media, and message.*'s fields).
func appletMessage(e *runtime.Env) map[string]any {
	mi := &e.Message
	return map[string]any{"body": e.Body, "from": e.From, "to": e.To, "keyword": e.Keyword, "media": toAnySlice(e.Media),
		"sid": mi.SID, "account_sid": mi.AccountSID, "messaging_service_sid": mi.MessagingServiceSID,
		"segments": mi.Segments, "media_types": toAnySlice(mi.MediaTypes),
		"from_city": mi.FromCity, "from_state": mi.FromState, "from_country": mi.FromCountry, "from_zip": mi.FromZip}
}

// run calls an applet. It returns the next pc, or ok=false when the
// conversation must end (an error with no `on error` branch).
//
// The applet's result is data: it lands in the `as` variable and, when
// the run names routes, picks one of them by its route key. It never
// becomes an action of its own (issue #10: a result such as
// {forward: "webhook:…"} used to make the server post anywhere).
func (m *machine) run(pc, arg int) (next int, ok bool) {
	r := &m.p.Runs[arg]
	a := &m.p.Applets[r.Applet]
	if a.HTTP != nil {
		return m.httpRun(pc, r, a.HTTP) // http.go
	}
	args := make([]any, len(r.Args))
	for i, e := range r.Args {
		v, err := m.eval(e)
		if err != nil {
			m.fail(pc, fmt.Errorf("applet %s argument %d: %v", a.Name, i+1, err))
			return m.appletFailed(pc, r)
		}
		args[i] = v
	}
	if m.env == nil {
		m.fail(pc, fmt.Errorf("applet %s: no applet runner", a.Name))
		return m.appletFailed(pc, r)
	}
	ctx, err := m.appletBudget()
	if err != nil {
		if !m.budgetSpent {
			m.budgetSpent = true
			m.fail(pc, err)
		} else {
			m.trace(pc, "error: "+err.Error())
		}
		return m.appletFailed(pc, r)
	}
	m.needContact() // ctx.contact
	if m.failed() != nil {
		return pc, false
	}
	in := AppletInput{
		Message: appletMessage(m.curEnv()),
		Contact: m.curEnv().Contact.Value(),
		Vars:    m.appletVars(),
		Args:    args,
		Now:     m.now,
		Seed:    seed(m.curEnv().From, m.curEnv().Body, m.now.UnixNano()),
	}
	var sink *logSink
	if m.opts.AppletLogs {
		sink = &logSink{}
		in.Log = sink.add
	}
	m.appletCalls++
	v, err := m.env.RunApplet(ctx, a, in)
	if sink != nil {
		for _, l := range sink.close() {
			l.PC, l.Applet = pc, a.Name
			m.out.Logs = append(m.out.Logs, l)
			m.trace(pc, l.String())
		}
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && m.ctx.Err() == nil {
			m.budgetSpent = true
			err = fmt.Errorf("%v (%w)", m.budgetUsedUp(), err)
		}
		m.fail(pc, fmt.Errorf("applet %s (%s): %v", a.Name, a.Path, err))
		return m.appletFailed(pc, r)
	}
	if err := CheckValue(v); err != nil {
		if r.As != "" {
			m.setVar(pc, r.As, nil)
		}
		m.fail(pc, fmt.Errorf("applet %s returned a result too large for a flow variable: %v", a.Name, err))
		return m.appletFailed(pc, r)
	}
	returned := ""
	if m.opts.Trace {
		returned = fmt.Sprintf("applet %s returned %s", a.Name, formatValue(v))
	}
	if len(r.Routes) == 0 {
		m.branch(pc, returned, Outcome{Kind: BranchOK, Target: pc + 1})
	} else {
		m.trace(pc, returned) // route decides
	}
	if r.As != "" {
		m.setVar(pc, r.As, v)
	}
	if len(r.Routes) == 0 {
		return pc + 1, true
	}
	return m.route(pc, r, v), true
}

// AppletLog is one line an applet wrote with console.log and friends.
type AppletLog struct {
	PC     int    `json:"-"`      // the run step that called the applet
	Applet string `json:"applet"` // the applet's name in the flow
	Level  string `json:"level"`  // "log", "info", "warn", "error" or "debug"
	Msg    string `json:"msg"`
}

// String renders the line the way `flowc run` and `flowc test` show it.
func (l AppletLog) String() string {
	return fmt.Sprintf("console.%s from %s: %s", l.Level, l.Applet, l.Msg)
}

// logSink gathers one call's console lines. The runner may call add from
// another goroutine; once the call has returned the sink is closed, so a
// late line never reaches a machine that is already reused.
type logSink struct {
	mu     sync.Mutex
	lines  []AppletLog
	closed bool
}

func (s *logSink) add(level, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.lines = append(s.lines, AppletLog{Level: level, Msg: msg})
	}
}

func (s *logSink) close() []AppletLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.lines
}

// RouteKey is the key an applet's result picks a route by: the result
// itself when it is a string, else its "route" field when that is a
// string; "" (no key: the else branch) otherwise. It is compared with
// the run's keys as a contact's reply is with menu keys (NormaliseKey).
func RouteKey(v any) string {
	switch v := v.(type) {
	case string:
		return NormaliseKey(v)
	case map[string]any:
		if s, ok := v["route"].(string); ok {
			return NormaliseKey(s)
		}
	}
	return ""
}

// route picks the branch for result v; without a matching key and
// without else, control falls through to the step after the run.
func (m *machine) route(pc int, r *RunCall, v any) int {
	key := RouteKey(v)
	elsePC := -1
	for _, rt := range r.Routes {
		switch {
		case rt.Else:
			elsePC = rt.PC
		case key != "" && rt.Key == key:
			m.branch(pc, m.note("route ", rt.Key), Outcome{Kind: BranchRoute, Key: rt.Key, Target: rt.PC})
			return rt.PC
		}
	}
	if elsePC >= 0 {
		m.branch(pc, "else", Outcome{Kind: BranchElse, Target: elsePC})
		return elsePC
	}
	fallThrough := Outcome{Kind: BranchOK, Target: pc + 1}
	if key == "" {
		m.branch(pc, "no route for a result without a route key: going on after the run", fallThrough)
	} else {
		m.branch(pc, m.note("no route for ", strconv.Quote(key), ": going on after the run"), fallThrough)
	}
	return pc + 1
}

// appletBudget returns the context an applet call runs under, or why
// the event's applet budget (Options.EventBudget, MaxAppletCalls) is
// used up. Every call of the event shares one context, whose deadline is
// the budget in real time, so a runner that hangs is cut off; elapsed
// time is also read from the Env's clock, so a test's fake clock drives
// the budget without sleeping.
func (m *machine) appletBudget() (context.Context, error) {
	if m.appletCalls >= m.opts.MaxAppletCalls {
		return nil, fmt.Errorf("per-message budget of %d applet calls used up", m.opts.MaxAppletCalls)
	}
	if m.appletCtx == nil {
		m.appletCtx, m.cancelApplets = context.WithTimeout(m.ctx, m.opts.EventBudget)
	}
	// Both clocks count: the Env's (a test's fake clock; a server whose
	// Now is the message's arrival time never advances it) and the real
	// one behind the context's deadline.
	if m.budgetSpent || m.env.Now().Sub(m.now) >= m.opts.EventBudget ||
		m.appletCtx.Err() == context.DeadlineExceeded && m.ctx.Err() == nil {
		return nil, m.budgetUsedUp()
	}
	return m.appletCtx, nil
}

func (m *machine) budgetUsedUp() error {
	return fmt.Errorf("per-message budget of %s used up after %d applet calls", m.opts.EventBudget, m.appletCalls)
}

// appletFailed takes the run's `on error` branch, or ends the
// conversation; the error's trace step carries the outcome.
func (m *machine) appletFailed(pc int, r *RunCall) (int, bool) {
	if r.ErrorPC >= 0 {
		m.took(pc, Outcome{Kind: BranchError, Target: r.ErrorPC})
		return r.ErrorPC, true
	}
	m.took(pc, Outcome{Kind: BranchError, Target: -1})
	return 0, false
}

func toAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// seed makes an applet's Math.random deterministic for the same inputs.
func seed(from, body string, at int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(body))
	return int64(h.Sum64()) ^ at
}

// appletVars is the flow's variables for an applet: the run's own map
// (as before copy-on-write), so that a runner which changed its input
// could not change the caller's state.
func (m *machine) appletVars() map[string]any {
	if m.stv.Vars == nil {
		return nil
	}
	m.ownVars()
	return m.stv.Vars
}
