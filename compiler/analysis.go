package compiler

import (
	"fmt"
	"sort"

	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/vm"
)

func (c *compiler) span(pc int) file.Span { return c.locSpan(c.p.Locs[pc]) }

func (c *compiler) analyse() {
	p := c.p
	n := len(p.Code)
	for _, m := range c.missing {
		c.diags.Warnf(m.span, CodeMissing, "%s", m.msg)
	}

	// Reachability from the entry.
	reached := make([]bool, n)
	stack := []int{0}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if pc < 0 || pc >= n || reached[pc] {
			continue
		}
		reached[pc] = true
		next, _ := p.Successors(pc)
		stack = append(stack, next...)
	}
	for pc := 0; pc < n; pc++ {
		if reached[pc] || c.synth[pc] {
			continue
		}
		if pc > 0 && !reached[pc-1] && !c.synth[pc-1] {
			continue // report a run of unreachable steps once
		}
		c.diags.Warnf(c.span(pc), CodeUnreachable, "unreachable: no path leads here")
	}

	c.deadEnds(reached)
	c.spins()
	c.unsetVars(reached)
}

// deadEnds finds paths that start with a message (the entry, or a resume
// after a menu or ask) and reach the end without the message being
// replied to, delivered, forwarded or ended.
func (c *compiler) deadEnds(reached []bool) {
	p := c.p
	origins := []int{0}
	for pc := range p.Code {
		if !reached[pc] {
			continue
		}
		if next, resume := p.Successors(pc); resume {
			origins = append(origins, next...)
		}
	}
	reported := map[int]bool{}
	for _, o := range origins {
		// DFS over instructions that do not handle the message,
		// remembering the last decision on the path for the report.
		type item struct{ pc, decision int }
		seen := map[int]bool{}
		stack := []item{{o, o}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			pc := it.pc
			if pc < 0 || pc >= len(p.Code) || seen[pc] {
				continue
			}
			seen[pc] = true
			op := p.Code[pc]
			if op.Handles() {
				continue
			}
			if op == vm.OpHalt {
				where := it.decision
				if !reported[where] {
					reported[where] = true
					c.diags.Warnf(c.span(where), CodeDeadEnd,
						"dead end: on a path through here the message is neither replied to, delivered, forwarded nor ended").Hint =
						"end every path with reply, inbox, forward or end (add an else branch?)"
				}
				continue
			}
			next, _ := p.Successors(pc)
			decision := it.decision
			if op == vm.OpTest || op == vm.OpRun || op == vm.OpRetry {
				decision = pc
			}
			if op == vm.OpJumpFalse && len(next) == 2 {
				stack = append(stack, item{next[0], decision}, item{next[1], decision})
				continue
			}
			for _, nx := range next {
				stack = append(stack, item{nx, decision})
			}
		}
	}
}

// spins finds cycles that do not pass through a menu or ask: such a loop
// would run without waiting for a message.
func (c *compiler) spins() {
	p := c.p
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(p.Code))
	var visit func(pc int) bool
	visit = func(pc int) bool {
		color[pc] = grey
		next, resume := p.Successors(pc)
		if !resume {
			for _, nx := range next {
				if nx < 0 || nx >= len(p.Code) {
					continue
				}
				if color[nx] == grey {
					c.diags.Errorf(c.span(pc), CodeSpin,
						"this step loops back (to %s) without waiting for a message: the flow would spin", c.span(nx)).Hint =
						"a loop must pass through a menu or ask"
					return true
				}
				if color[nx] == white && visit(nx) {
					return true
				}
			}
		}
		color[pc] = black
		return false
	}
	for pc := range p.Code {
		if color[pc] == white {
			if visit(pc) {
				return
			}
		}
	}
}

// unsetVars reports variables read where no path has set them yet.
func (c *compiler) unsetVars(reached []bool) {
	p := c.p
	n := len(p.Code)
	sets := make([]map[string]bool, n) // variables possibly set on entry to pc
	gen := func(pc int) string {
		switch p.Code[pc] {
		case vm.OpSet:
			return p.Sets[p.Args[pc]].Var
		case vm.OpRun:
			return p.Runs[p.Args[pc]].As
		}
		return ""
	}
	sets[0] = map[string]bool{}
	visited := make([]bool, n)
	visited[0] = true
	work := []int{0}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		out := map[string]bool{}
		for v := range sets[pc] {
			out[v] = true
		}
		if v := gen(pc); v != "" {
			out[v] = true
		}
		next, _ := p.Successors(pc)
		for i, nx := range next {
			if nx < 0 || nx >= n {
				continue
			}
			flow := out
			if p.Code[pc] == vm.OpAsk && i == 0 { // the answer is stored on resume
				flow = map[string]bool{p.Asks[p.Args[pc]].Var: true}
				for v := range out {
					flow[v] = true
				}
			}
			if sets[nx] == nil {
				sets[nx] = map[string]bool{}
			}
			changed := false
			for v := range flow {
				if !sets[nx][v] {
					sets[nx][v] = true
					changed = true
				}
			}
			if changed || !visited[nx] {
				visited[nx] = true
				work = append(work, nx)
			}
		}
	}
	pcs := make([]int, 0, len(c.reads))
	for pc := range c.reads {
		pcs = append(pcs, pc)
	}
	sort.Ints(pcs)
	for _, pc := range pcs {
		if !reached[pc] {
			continue
		}
		for i, v := range c.reads[pc] {
			if sets[pc] == nil || !sets[pc][v] {
				c.diags.Warnf(c.readAt[pc][i], CodeVar, "variable %q is read here but no path sets it before", v).Hint =
					fmt.Sprintf("set it first (set %s = …), or guard it: %s ?? \"default\"", v, v)
			}
		}
	}
}
