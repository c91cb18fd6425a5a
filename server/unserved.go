package server

import (
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
)

// NotYetServed warns of the steps of progs that `flowc test` and `flowc
// run` carry out but this server does not yet: a `queue` step. The
// server stores the conversation as queued and joins the contact's later
// texts to it (vm/inbound decides that, as offline), but it does not yet
// offer it to the team's members, run its wait/reservation/transfer
// limits as jobs or take agents' actions (the agent API). Saying so at
// deploy and at start is what keeps a queued contact from waiting on a
// server that looks healthy; `--strict` refuses such flows. The
// diagnostics are placed at each queue step, in the file it came from.
func NotYetServed(files []*syntax.File, progs []*vm.Program) diag.List {
	var out diag.List
	for _, p := range progs {
		var f *syntax.File
		for _, cand := range files {
			if cand.Source != nil && cand.Source.Name == p.File {
				f = cand
			}
		}
		if f == nil {
			continue
		}
		for pc, op := range p.Code {
			if op != vm.OpQueue {
				continue
			}
			l := p.Locs[pc]
			span := f.Source.Span(f.Source.Offset(l.Line, l.Col), f.Source.Offset(l.EndLine, l.EndCol))
			d := out.Warnf(span, "flow/server-queue", "this server keeps a queued conversation waiting but does not yet offer it to anyone: the agent API is not built")
			d.Hint = "`flowc test` and `flowc run` carry queues through; on the server, route to an `inbox` until queues are served (docs/server.md)"
		}
	}
	return out
}
