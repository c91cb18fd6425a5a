package compiler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
)

// queue compiles `queue team:NAME [STRATEGY] [max N] [wait DUR] … <
// on full -> … ; on timeout -> … ; on done -> … >`: the QUEUE step,
// which suspends, then its branches as a menu's are laid out. A
// missing branch continues after the block (full and done; timeout
// too when there is a wait), so the analysis sees every way on.
func (c *compiler) queue(cmd *syntax.Command, b check.Bound, head file.Span) {
	q := vm.Queue{TimeoutPC: -1}
	q.Team = b.Positional[0].Text()
	strategy := ""
	if v := b.Positional[1]; v != nil {
		strategy = v.Tok
	}
	q.Strategy, _ = queue.Canonical(strategy) // check keeps it to the registry's names
	if v := b.Tags["max"]; v != nil {
		n, err := strconv.Atoi(v.Tok)
		if err != nil || n < 0 || n > 1_000_000 {
			c.diags.Errorf(c.f.Span(v), CodeType, "queue: max must be a whole number from 0 (no limit) to 1000000")
		}
		q.Max = n
	}
	for name, d := range map[string]*time.Duration{
		"wait": &q.Wait, "service-level": &q.ServiceLevel, "reserve": &q.Reserve,
		"transfer": &q.Transfer, "inactivity": &q.Inactivity,
	} {
		if v := b.Tags[name]; v != nil {
			*d, _ = check.ParseDuration(v.Tok) // check reports a bad one
		}
	}
	idx := len(c.p.Queues)
	c.p.Queues = append(c.p.Queues, q)
	pc := c.emit(vm.OpQueue, idx, head)
	skip := c.emitSynth(vm.OpJump, 0, head) // where a missing branch goes: after the block
	pcs, jumps := c.branches(cmd.Block)
	for br, bpc := range pcs {
		switch br.Label.On {
		case "full":
			q.FullPC, q.Written[0] = bpc, true
		case "timeout":
			q.TimeoutPC, q.Written[1] = bpc, true
			if q.Wait <= 0 {
				c.diags.Errorf(c.f.Span(br.Label), CodeType, "queue: `on timeout` runs after the most time in queue, and this queue has none").Hint =
					"add `wait DUR` to the queue, e.g. `wait 10m`"
			}
		case "done":
			q.DonePC, q.Written[2] = bpc, true
		}
	}
	if !q.Written[0] {
		q.FullPC = skip
	}
	if !q.Written[2] {
		q.DonePC = skip
	}
	if !q.Written[1] && q.Wait > 0 {
		q.TimeoutPC = skip
	}
	c.p.Queues[idx] = q
	end := c.here()
	c.patch(skip, end)
	for _, j := range jumps {
		c.patch(j, end)
	}
	c.noteBlock("queue", pc, end, pcs)
	if !q.Written[1] {
		m := missing{span: head, msg: "queue without on timeout: a conversation nobody takes waits in the queue forever"}
		if cmd.Block == nil {
			// One edit after the queue's arguments: a wait (when it has
			// none) and the bot after timeout.
			text := ` < on timeout -> reply "Sorry, everyone is busy; we'll text you back." >`
			if q.Wait <= 0 {
				text = " wait 10m" + text
			}
			at := c.f.Source.Span(head.End, head.End)
			m.fix = &diag.Fix{Title: "add on timeout", Edits: []diag.Edit{{Span: at, New: text}}}
		}
		c.missing = append(c.missing, m)
	}
}

// queueOrigins are the outcomes of the queue at pc whose path must deal
// with the message: `on full` (the contact's text found no room) and the
// branches the flow wrote. An unwritten `on done` goes on after the
// queue when the person finished it, where nothing more need happen; an
// unwritten `on timeout` has its own warning.
func queueOrigins(p *vm.Program, pc int) []int {
	q := &p.Queues[p.Args[pc]]
	var out []int
	for _, o := range p.QueueOutcomes(pc) {
		if o.Kind == vm.BranchFull || o.Kind == vm.BranchTimeout && q.Written[1] || o.Kind == vm.BranchDone && q.Written[2] {
			out = append(out, o.Target)
		}
	}
	return out
}

// queueDeadEndHint is the hint for a dead end that starts at a queue's
// unwritten `on full`: with the queue full, the contact's text reaches
// nobody and nobody answers it.
func (c *compiler) queueDeadEndHint(where int) string {
	for _, q := range c.p.Queues {
		if q.FullPC == where && !q.Written[0] && q.Max > 0 {
			return fmt.Sprintf("when %d conversations are waiting the queue is full and nothing answers the message: "+
				"add `on full -> reply \"…\"` (or inbox, forward, end)", q.Max)
		}
	}
	return ""
}
