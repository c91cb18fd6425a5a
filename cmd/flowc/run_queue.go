package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/scenario"
	"github.com/flowc-dev/flowc/vm/sim"
)

// runAgentLine runs `flowc run`'s `:agent …` and `:queue …` lines, the
// .flowtest's agent steps, through the same stage. A refused action is
// shown, not fatal; a malformed line is.
func runAgentLine(ctx context.Context, conv *sim.Conversation, prog *vm.Program, line string, lineNo int, stdout, stderr io.Writer, explain bool) bool {
	s, err := scenario.ParseAgent(line)
	if err != nil {
		fmt.Fprintf(stderr, "flowc run: line %d: %v\n", lineNo, err)
		return false
	}
	fmt.Fprintf(stdout, ": %s\n", line)
	res, err := scenario.RunAgent(ctx, conv, s)
	if err != nil {
		fmt.Fprintf(stdout, "  ! refused: %v\n", err)
		return true
	}
	if res != nil {
		printResult(stdout, prog, res, explain)
	}
	printQueue(stdout, conv.Last)
	return true
}

// printQueue shows what a step did to the conversation's place in a queue.
func printQueue(w io.Writer, p *inbound.Plan) {
	if p == nil || p.Queue == nil {
		return
	}
	q := p.Queue
	if q.Team == "" && q.Previous == nil { // a hold (vm/inbound's holds), no queue
		switch {
		case q.Event == inbound.QueueHandedOff && q.Ticket != nil:
			fmt.Fprintf(w, "  (held by %s until they finish it: the contact's next texts join it)\n", q.Ticket.Assignee)
		case q.Event == inbound.QueueJoined:
			fmt.Fprintf(w, "  (joined the conversation held by %s)\n", q.Notify)
		default:
			fmt.Fprintf(w, "  (held conversation: %s)\n", q.Event)
		}
		return
	}
	s := "queue team:" + q.Team + ": " + q.Event
	if len(q.Offer) > 0 {
		s += ", offered to " + strings.Join(q.Offer, ", ")
	}
	if q.Notify != "" {
		s += ", " + q.Notify + " is told"
	}
	if q.Taken {
		s += fmt.Sprintf(", after %s in the queue", q.Waited)
		if !q.WithinServiceLevel {
			s += " (over the service level)"
		}
	}
	fmt.Fprintf(w, "  (%s)\n", s)
}
