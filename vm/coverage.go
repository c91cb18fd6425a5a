package vm

import (
	"fmt"
	"strings"
	"time"
)

// Branch is one outcome of a branch point: a `when` being true or false,
// a menu key, timeout or else, an ask answered or timed out, a retry
// taken or exhausted, an applet call taking one of its routes, else,
// going on after the run, or taking `on error`.
type Branch struct {
	PC     int        // the branch point (JUMP_FALSE, MENU, ASK, RETRY, RUN)
	Target int        // where this outcome continues
	Kind   BranchKind // as the VM records it in TraceStep.Outcome
	Key    string     // the menu key or run route, for BranchKey and BranchRoute
	Label  string     // human-readable, e.g. `when hours("9-5") → false`
	Loc    Loc        // where to point a reader: the target's source, else the branch point's
}

// Branches enumerates every branch outcome of the program, in pc order.
func (p *Program) Branches() []Branch {
	var out []Branch
	add := func(pc, target int, kind BranchKind, key, label string) {
		loc := p.Locs[pc]
		if t := p.ResolveJumps(target); t >= 0 && t < len(p.Code) && p.Code[t] != OpHalt && p.Locs[t].Line > 0 {
			loc = p.Locs[t]
		}
		out = append(out, Branch{PC: pc, Target: target, Kind: kind, Key: key, Label: label, Loc: loc})
	}
	for pc, op := range p.Code {
		arg := int(p.Args[pc])
		switch op {
		case OpJumpFalse:
			cond := "condition"
			if pc > 0 && p.Code[pc-1] == OpTest {
				cond = p.Exprs[p.Args[pc-1]].Source
			}
			add(pc, pc+1, BranchTrue, "", fmt.Sprintf("when %s → true", cond))
			add(pc, arg, BranchFalse, "", fmt.Sprintf("when %s → false", cond))
		case OpMenu:
			m := p.Menus[arg]
			for _, k := range m.Keys {
				add(pc, k.PC, BranchKey, k.Key, fmt.Sprintf("menu key %s", k.Key))
			}
			if m.TimeoutPC >= 0 {
				add(pc, m.TimeoutPC, BranchTimeout, "", fmt.Sprintf("menu timeout %s", FormatDuration(m.Timeout)))
			}
			if m.ElsePC >= 0 {
				add(pc, m.ElsePC, BranchElse, "", "menu else")
			}
		case OpAsk:
			a := p.Asks[arg]
			add(pc, pc+1, BranchAnswer, "", fmt.Sprintf("ask %s answered", a.Var))
			if a.TimeoutPC >= 0 {
				add(pc, a.TimeoutPC, BranchTimeout, "", fmt.Sprintf("ask %s timeout %s", a.Var, FormatDuration(a.Timeout)))
			}
		case OpQueue:
			for _, o := range p.QueueOutcomes(pc) {
				add(pc, o.Target, o.Kind, "", "queue team:"+p.Queues[arg].Team+" "+o.Label)
			}
		case OpGather:
			m := p.Menus[p.Gathers[arg].Menu]
			for _, k := range m.Keys {
				add(pc, k.PC, BranchKey, k.Key, fmt.Sprintf("gather key %s", k.Key))
			}
			if m.TimeoutPC >= 0 {
				add(pc, m.TimeoutPC, BranchTimeout, "", fmt.Sprintf("gather timeout %s", FormatDuration(m.Timeout)))
			}
			if m.ElsePC >= 0 {
				add(pc, m.ElsePC, BranchElse, "", "gather else")
			}
		case OpRing:
			for _, o := range p.RingOutcomes(pc) {
				add(pc, o.Target, o.Kind, "", "ring "+p.Rings[arg].Target.String()+" "+o.Label)
			}
		case OpRetry:
			r := p.Retries[arg]
			add(pc, r.PC, BranchRetry, "", fmt.Sprintf("retry %d (prompt again)", r.Times))
			add(pc, pc+1, BranchExhausted, "", fmt.Sprintf("retry %d (no retries left)", r.Times))
		case OpInboxExpr, OpForwardExpr:
			c := p.Computed[arg]
			if c.ErrorPC < 0 {
				break
			}
			what := "inbox " + c.String(p)
			if op == OpForwardExpr {
				what = "forward " + c.String(p)
			}
			add(pc, pc+1, BranchOK, "", what+" names someone")
			add(pc, c.ErrorPC, BranchError, "", what+" on error")
		case OpRun:
			outcomes := p.RunOutcomes(pc)
			if len(outcomes) < 2 {
				break
			}
			name := p.Applets[p.Runs[arg].Applet].Name
			for _, o := range outcomes {
				label := ""
				switch o.Kind {
				case BranchRoute:
					label = fmt.Sprintf("run %s → %q", name, o.Key)
				case BranchElse:
					label = fmt.Sprintf("run %s → else", name)
				case BranchOK:
					label = fmt.Sprintf("run %s succeeds", name)
					if len(p.Runs[arg].Routes) > 0 {
						label = fmt.Sprintf("run %s → no route", name)
					}
				case BranchError:
					label = fmt.Sprintf("run %s on error", name)
				}
				add(pc, o.Target, o.Kind, o.Key, label)
			}
		}
	}
	return out
}

// ResolveJumps follows unconditional JUMPs from pc to the first real
// instruction (synthetic jumps are layout, not steps). It stops on a
// cycle and returns the pc it reached.
func (p *Program) ResolveJumps(pc int) int {
	seen := 0
	for pc >= 0 && pc < len(p.Code) && p.Code[pc] == OpJump && seen <= len(p.Code) {
		pc = int(p.Args[pc])
		seen++
	}
	return pc
}

// FormatDuration renders a duration the way flows write it: 10m, 1h30m, 45s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Coverage accumulates which branches executed traces took.
type Coverage struct {
	Prog     *Program
	Branches []Branch
	Hit      []bool
	index    map[branchID]int
}

// branchID names one branch outcome: the branch point, how it went and,
// for a menu key or run route, which one.
type branchID struct {
	pc   int
	kind BranchKind
	key  string
}

// NewCoverage starts an empty coverage record for p.
func NewCoverage(p *Program) *Coverage {
	c := &Coverage{Prog: p, Branches: p.Branches(), index: map[branchID]int{}}
	c.Hit = make([]bool, len(c.Branches))
	for i, b := range c.Branches {
		c.index[branchID{b.PC, b.Kind, b.Key}] = i
	}
	return c
}

// Add records the branches taken in one run's trace (vm.Options{Trace:
// true}). It reads only the typed TraceStep.Outcome, never Note: the
// wording of a note is for people.
func (c *Coverage) Add(trace []TraceStep) {
	for _, s := range trace {
		o := s.Outcome
		if o.Kind == NoBranch {
			continue
		}
		if i, ok := c.index[branchID{o.At, o.Kind, o.Key}]; ok {
			c.Hit[i] = true
		}
	}
}

// Covered counts the branches hit.
func (c *Coverage) Covered() int {
	n := 0
	for _, h := range c.Hit {
		if h {
			n++
		}
	}
	return n
}

// Uncovered lists the branches no trace took.
func (c *Coverage) Uncovered() []Branch {
	var out []Branch
	for i, b := range c.Branches {
		if !c.Hit[i] {
			out = append(out, b)
		}
	}
	return out
}
