package vm

import (
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/vm/queue"
)

// Queue is a `queue` step: its settings as written and where each of
// its outcomes continues. A branch the flow does not write continues
// after the queue, as a missing branch of an ask does: FullPC and DonePC
// are then the step after the block. TimeoutPC is -1 when the queue has
// no `wait` (the conversation waits until someone takes it); with a
// `wait` and no `on timeout`, it too is the step after the block.
type Queue struct {
	queue.Settings
	FullPC, TimeoutPC, DonePC int
	// Written says which branches the flow wrote: full, timeout, done.
	Written [3]bool
}

// QueueCounter is implemented by an Env that knows how many
// conversations wait in a team's queue (vm/inbound's, from
// Input.Queues): a queue with `max` takes `on full` when it has no room
// (queue.Admit). An Env without it never finds a queue full.
type QueueCounter interface {
	Waiting(team string) int
}

// enqueue runs a QUEUE step: either the queue is full (the run goes on
// at next) or the conversation waits in it (wait), its State.Queue the
// ticket of a conversation entering the team's queue now. Offering it
// to a member is vm/inbound's (vm/queue.Offer), with what the caller
// read of the team.
func (m *machine) enqueue(pc, arg int) (next int, wait bool) {
	q := &m.p.Queues[arg]
	if q.Max > 0 {
		if qc, ok := m.env.(QueueCounter); ok && !queue.Admit(q.Settings, qc.Waiting(q.Team)) {
			m.branch(pc, m.note("queue team:", q.Team, " is full"), Outcome{Kind: BranchFull, Target: q.FullPC})
			return q.FullPC, false
		}
	}
	m.trace(pc, m.note("waiting in the queue of team:", q.Team))
	m.emit(Action{Kind: ActQueue, Target: Target{Kind: "team", Name: q.Team, Strategy: q.Strategy}, PC: pc})
	m.stv.Queue = queue.Enter(q.Team, m.now)
	return 0, true
}

// resumeQueue resumes a conversation waiting at a queue: its wait
// passed (a timer at or after State.Deadline: `on timeout`) or it was
// finished (EventQueueDone: `on done`). A message changes nothing here:
// while queued, the contact's texts join the conversation (vm/inbound)
// and never reach the flow. A finish for a conversation that is not
// queued changes nothing either.
func (m *machine) resumeQueue(ev *Event, at, arg int) (int, bool) {
	if m.p.Code[at] != OpQueue {
		return 0, false
	}
	q := &m.p.Queues[arg]
	switch ev.Kind {
	case EventTimer:
		if m.stv.Deadline.IsZero() || m.now.Before(m.stv.Deadline) || q.TimeoutPC < 0 {
			return 0, false
		}
		m.stv.Deadline, m.stv.Queue = time.Time{}, nil
		m.branch(at, "timeout", Outcome{Kind: BranchTimeout, Target: q.TimeoutPC})
		return q.TimeoutPC, true
	case EventQueueDone:
		m.stv.Deadline, m.stv.Queue = time.Time{}, nil
		m.branch(at, "done", Outcome{Kind: BranchDone, Target: q.DonePC})
		return q.DonePC, true
	}
	return 0, false
}

// QueueOutcome is one way a conversation leaves a queue step.
type QueueOutcome struct {
	Target int
	Kind   BranchKind // BranchFull, BranchTimeout, BranchDone
	Label  string     // "on full", "on timeout", "on done"
}

// QueueOutcomes lists where a QUEUE at pc can continue: `on full` when
// it has a max, `on timeout` when it has a wait, and `on done`.
func (p *Program) QueueOutcomes(pc int) []QueueOutcome {
	q := &p.Queues[p.Args[pc]]
	var out []QueueOutcome
	if q.Max > 0 {
		out = append(out, QueueOutcome{q.FullPC, BranchFull, "on full"})
	}
	if q.TimeoutPC >= 0 {
		out = append(out, QueueOutcome{q.TimeoutPC, BranchTimeout, "on timeout"})
	}
	return append(out, QueueOutcome{q.DonePC, BranchDone, "on done"})
}

// describe renders a queue step's argument for the disassembler.
func (q *Queue) describe() string {
	s := fmt.Sprintf("team:%s %s", q.Team, q.Strategy)
	if q.Max > 0 {
		s += fmt.Sprintf(" max %d full→%04d", q.Max, q.FullPC)
	}
	if q.TimeoutPC >= 0 {
		s += fmt.Sprintf(" wait %s→%04d", FormatDuration(q.Wait), q.TimeoutPC)
	}
	return s + fmt.Sprintf(" done→%04d", q.DonePC)
}
