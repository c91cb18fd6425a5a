package vm

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
)

// Directory is what a run may ask of the directory besides contacts. An
// Env that implements it has every computed target checked against it
// (`inbox user:(contact.owner)` naming no user takes `on error`) and
// fills number.* from it. With an Env that does not (or a nil
// directory), any non-empty name a computed target gives is taken, as a
// target written in the file is, and number.* is empty.
type Directory interface {
	HasUser(name string) bool
	HasTeam(name string) bool
	// Number is the settings of a business number; zero when the
	// directory does not describe it.
	Number(number string) runtime.Number
}

// computed runs INBOX_EXPR or FORWARD_EXPR at pc: it evaluates the
// target's name and delivers or forwards to it. A value that names
// nobody takes the `on error` branch, which handles it (the trace says
// why); without one it is a runtime error and the flow goes on with the
// next step. An expression that fails, or gives no string, is a runtime
// error either way. It returns the pc to continue at.
func (m *machine) computed(pc, arg int) int {
	c := &m.p.Computed[arg]
	v, err := m.eval(c.Expr)
	var name string
	if err == nil {
		name, err = runtime.TargetName(v)
	}
	if err != nil {
		m.failExpr(pc, c.Expr, err)
	} else if err = m.namesNobody(c.Kind, name); err != nil {
		err = fmt.Errorf("%s: %v", c.String(m.p), err)
		if c.ErrorPC >= 0 {
			m.trace(pc, "names nobody: "+err.Error()+"; taking on error")
		} else {
			m.fail(pc, err)
		}
	}
	if err != nil {
		next := pc + 1
		if c.ErrorPC >= 0 {
			next = c.ErrorPC
		}
		m.took(pc, Outcome{Kind: BranchError, Target: next})
		return next
	}
	m.branch(pc, m.note(m.p.Exprs[c.Expr].Source, " → ", c.Kind, ":", name), Outcome{Kind: BranchOK, Target: pc + 1})
	kind := ActDeliver
	if m.p.Code[pc] == OpForwardExpr {
		kind = ActForward
	}
	m.emit(Action{Kind: kind, Target: Target{Kind: c.Kind, Name: name, Strategy: c.Strategy}, PC: pc})
	return pc + 1
}

// namesNobody says why name, a computed target's value, reaches nobody:
// it is empty, not an e-mail address, or not in the directory.
func (m *machine) namesNobody(kind, name string) error {
	if name == "" {
		return fmt.Errorf("the expression gave no %s (nil or \"\")", targetNoun(kind))
	}
	if kind == "email" {
		if !directory.IsEmail(name) {
			return fmt.Errorf("%s is not an e-mail address", strconv.Quote(name))
		}
		return nil
	}
	d, ok := m.env.(Directory)
	if !ok {
		return nil
	}
	switch {
	case kind == "user" && !d.HasUser(name):
		return fmt.Errorf("no user named %s in the directory", strconv.Quote(name))
	case kind == "team" && !d.HasTeam(name):
		return fmt.Errorf("no team named %s in the directory", strconv.Quote(name))
	}
	return nil
}

func targetNoun(kind string) string {
	if kind == "email" {
		return "e-mail address"
	}
	return kind
}

// fillNumber sets number.* from the Env's directory, once per event,
// when the first expression that may read it runs (as the contact is
// looked up): a flow that never reads number.* does not pay for it.
func (m *machine) fillNumber() {
	if m.numberDone {
		return
	}
	m.numberDone = true
	d, ok := m.env.(Directory)
	if !ok {
		return
	}
	n := d.Number(m.envv.To)
	m.envv.Number = n
	if m.renv != nil {
		m.renv.Number = n
	}
}

// bindLists gives the event's expressions list(), reading the Env's
// lists under the run's context, each list at most once per event (so
// the same set answers every look-up of one message).
func (m *machine) bindLists() {
	if e := m.curEnv(); e.Lists != nil || m.env == nil {
		return
	}
	r := &listReader{ctx: m.ctx, env: m.env}
	m.lists = r
	m.envv.Lists = r.list
	if m.renv != nil {
		m.renv.Lists = r.list
	}
}

// listReader reads a run's lists once each. It keeps the error that
// ends the run itself rather than a pointer to the machine: the reader
// escapes (the expression environment holds its method), and a pointer
// back would move every run's machine to the heap, lists or not (1.7 KB
// allocated per message; BenchmarkMessage went from 1.6x to 5x a
// hand-written function).
type listReader struct {
	ctx   context.Context
	env   Env
	mu    sync.Mutex
	sets  map[string]map[string]bool
	fatal error
}

func (r *listReader) list(name string) (map[string]bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sets[name]; ok {
		return s, nil
	}
	s, err := r.env.List(r.ctx, name)
	if err != nil {
		// Like a failed contact look-up, the run ends with the error
		// (outcome error: nothing sent): were it the expression's error,
		// `when from in list("blocked")` would read false and let a
		// blocked sender through while the store is down.
		r.fatal = fmt.Errorf("vm: list %q: %w", name, err)
		return nil, err
	}
	if r.sets == nil {
		r.sets = map[string]map[string]bool{}
	}
	r.sets[name] = s
	return s, nil
}
