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
	PC     int    // the branch point (JUMP_FALSE, MENU, ASK, RETRY, RUN)
	Target int    // where this outcome continues
	Kind   string // "true", "false", "key", "timeout", "else", "answer", "retry", "exhausted", "route", "ok", "error"
	Key    string // the menu key or run route, for Kind "key" and "route"
	Label  string // human-readable, e.g. `when hours("9-5") → false`
	Loc    Loc    // where to point a reader: the target's source, else the branch point's
}

// Branches enumerates every branch outcome of the program, in pc order.
func (p *Program) Branches() []Branch {
	var out []Branch
	add := func(pc, target int, kind, key, label string) {
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
			add(pc, pc+1, "true", "", fmt.Sprintf("when %s → true", cond))
			add(pc, arg, "false", "", fmt.Sprintf("when %s → false", cond))
		case OpMenu:
			m := p.Menus[arg]
			for _, k := range m.Keys {
				add(pc, k.PC, "key", k.Key, fmt.Sprintf("menu key %s", k.Key))
			}
			if m.TimeoutPC >= 0 {
				add(pc, m.TimeoutPC, "timeout", "", fmt.Sprintf("menu timeout %s", FormatDuration(m.Timeout)))
			}
			if m.ElsePC >= 0 {
				add(pc, m.ElsePC, "else", "", "menu else")
			}
		case OpAsk:
			a := p.Asks[arg]
			add(pc, pc+1, "answer", "", fmt.Sprintf("ask %s answered", a.Var))
			if a.TimeoutPC >= 0 {
				add(pc, a.TimeoutPC, "timeout", "", fmt.Sprintf("ask %s timeout %s", a.Var, FormatDuration(a.Timeout)))
			}
		case OpRetry:
			r := p.Retries[arg]
			add(pc, r.PC, "retry", "", fmt.Sprintf("retry %d (prompt again)", r.Times))
			add(pc, pc+1, "exhausted", "", fmt.Sprintf("retry %d (no retries left)", r.Times))
		case OpRun:
			outcomes := p.RunOutcomes(pc)
			if len(outcomes) < 2 {
				break
			}
			name := p.Applets[p.Runs[arg].Applet].Name
			for _, o := range outcomes {
				label := ""
				switch o.Kind {
				case "route":
					label = fmt.Sprintf("run %s → %q", name, o.Key)
				case "else":
					label = fmt.Sprintf("run %s → else", name)
				case "ok":
					label = fmt.Sprintf("run %s succeeds", name)
					if len(p.Runs[arg].Routes) > 0 {
						label = fmt.Sprintf("run %s → no route", name)
					}
				case "error":
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
	index    map[string]int
}

// NewCoverage starts an empty coverage record for p.
func NewCoverage(p *Program) *Coverage {
	c := &Coverage{Prog: p, Branches: p.Branches(), index: map[string]int{}}
	c.Hit = make([]bool, len(c.Branches))
	for i, b := range c.Branches {
		c.index[branchKey(b.PC, b.Kind, b.Key)] = i
	}
	return c
}

func branchKey(pc int, kind, key string) string { return fmt.Sprintf("%d/%s/%s", pc, kind, key) }

func (c *Coverage) mark(pc int, kind, key string) {
	if i, ok := c.index[branchKey(pc, kind, key)]; ok {
		c.Hit[i] = true
	}
}

// Add records the branches taken in one run's trace (vm.Options{Trace: true}).
func (c *Coverage) Add(trace []TraceStep) {
	p := c.Prog
	for _, s := range trace {
		if s.PC < 0 || s.PC >= len(p.Code) {
			continue
		}
		switch s.Op {
		case OpTest:
			if s.PC+1 < len(p.Code) && p.Code[s.PC+1] == OpJumpFalse {
				switch {
				case strings.HasSuffix(s.Note, "→ true"):
					c.mark(s.PC+1, "true", "")
				case strings.HasSuffix(s.Note, "→ false"):
					c.mark(s.PC+1, "false", "")
				}
			}
		case OpMenu:
			switch {
			case strings.HasPrefix(s.Note, "key "):
				c.mark(s.PC, "key", strings.TrimPrefix(s.Note, "key "))
			case s.Note == "timeout":
				c.mark(s.PC, "timeout", "")
			case s.Note == "else":
				c.mark(s.PC, "else", "")
			}
		case OpAsk:
			switch {
			case s.Note == "timeout":
				c.mark(s.PC, "timeout", "")
			case strings.HasPrefix(s.Note, "answer stored"):
				c.mark(s.PC, "answer", "")
			}
		case OpRetry:
			switch {
			case strings.HasPrefix(s.Note, "retry "):
				c.mark(s.PC, "retry", "")
			case s.Note == "no retries left":
				c.mark(s.PC, "exhausted", "")
			}
		case OpRun:
			routed := len(p.Runs[p.Args[s.PC]].Routes) > 0
			switch {
			case strings.HasPrefix(s.Note, "applet ") && !routed,
				strings.HasPrefix(s.Note, "no route for "):
				c.mark(s.PC, "ok", "")
			case strings.HasPrefix(s.Note, "route "):
				c.mark(s.PC, "route", strings.TrimPrefix(s.Note, "route "))
			case s.Note == "else":
				c.mark(s.PC, "else", "")
			case strings.HasPrefix(s.Note, "error: "):
				c.mark(s.PC, "error", "")
			}
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
