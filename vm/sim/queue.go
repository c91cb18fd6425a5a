package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
)

// queueMemory is what the simulated server keeps about queues besides
// the conversations: each team's round-robin memory, each member's
// finished count and last finish (the store's, later), availability
// changes made during the run, and other conversations said to wait.
type queueMemory struct {
	memory   map[string]string    // team → member offered last
	handled  map[string]int       // user → conversations finished
	lastDone map[string]time.Time // user → last finish
	away     map[string]bool      // user → availability changed by `agent NAME away|available`
	others   map[string]int       // team → other conversations waiting (`queue team:X waiting N`)
}

// SetAvailable changes one user's availability, as the agent API will.
func (e *Env) SetAvailable(user string, available bool) {
	if e.queues.away == nil {
		e.queues.away = map[string]bool{}
	}
	e.queues.away[user] = !available
}

// SetWaiting says n other conversations wait in team's queue (ahead of
// this one): `max` counts them, and the position.
func (e *Env) SetWaiting(team string, n int) {
	if e.queues.others == nil {
		e.queues.others = map[string]int{}
	}
	e.queues.others[team] = n
}

// Waiting is how many conversations wait in team's queue: the others,
// and this conversation when it is waiting there.
func (e *Env) Waiting(team string, st *vm.State) int {
	n := e.queues.others[team]
	if st != nil && st.Queue != nil && st.Queue.Team == team && (st.Queue.Status == queue.Waiting || st.Queue.Status == queue.Offered) {
		n++
	}
	return n
}

// members is a team's members as the stage reads them.
func (e *Env) members(team string) []queue.Member {
	out := inbound.QueueMembers(e.Directory, team)
	for i := range out {
		m := &out[i]
		if away, set := e.queues.away[m.Name]; set {
			m.Available = !away
		}
		m.LastDone, m.Handled = e.queues.lastDone[m.Name], e.queues.handled[m.Name]
	}
	return out
}

// queueData is Input.Queues: every team of the directory and of the
// program's queue steps (a transfer may name any team).
func (e *Env) queueData(p *vm.Program, st *vm.State) map[string]*inbound.QueueData {
	teams := map[string]bool{}
	for _, t := range inbound.QueueTeams(p) {
		teams[t] = true
	}
	if e.Directory != nil {
		for _, t := range e.Directory.Teams {
			teams[t.Name] = true
		}
	}
	if len(teams) == 0 {
		return nil
	}
	out := map[string]*inbound.QueueData{}
	for t := range teams {
		waiting := e.queues.others[t] // this conversation excluded
		out[t] = &inbound.QueueData{Members: e.members(t), Memory: e.queues.memory[t], Waiting: waiting}
	}
	return out
}

// applyQueue keeps what a plan did to the queues' memory: the
// round-robin memory, and on finish the member's counters.
func (e *Env) applyQueue(q *inbound.QueuePlan, before *vm.State, now time.Time) {
	if q == nil {
		return
	}
	if q.Previous != nil {
		e.applyQueue(q.Previous, before, now)
	}
	if q.Memory != "" {
		if e.queues.memory == nil {
			e.queues.memory = map[string]string{}
		}
		e.queues.memory[q.Team] = q.Memory
	}
	if q.Event == inbound.QueueFinished && before != nil && before.Queue != nil && before.Queue.Assignee != "" {
		who := before.Queue.Assignee
		if e.queues.handled == nil {
			e.queues.handled, e.queues.lastDone = map[string]int{}, map[string]time.Time{}
		}
		e.queues.handled[who]++
		e.queues.lastDone[who] = now
	}
}

// Agent runs a person's action on the conversation (accept, reply,
// transfer, finish) through the inbound stage, as the agent API will.
// A refused action is returned as an error wrapping queue.ErrNotYours
// or queue.ErrState (Last has the plan); a reply's text is a reply
// action of the result.
func (c *Conversation) Agent(ctx context.Context, a inbound.AgentEvent) (*vm.Result, error) {
	c.seq++
	in := c.input(false, vm.Message{ID: fmt.Sprintf("AG%06d", c.seq), From: c.From, To: c.To})
	in.Agent, in.OptedOut = &a, c.OptedOut
	res, err := c.step(ctx, in)
	if err != nil {
		return res, err
	}
	if q := c.Last.Queue; q != nil && q.Err != nil {
		return res, fmt.Errorf("agent %s cannot %s: %w", a.User, a.Kind, q.Err)
	}
	return res, nil
}

// Ticket is the conversation's place in a queue, nil when it is in none.
func (c *Conversation) Ticket() *queue.Ticket {
	if c.State == nil {
		return nil
	}
	return c.State.Queue
}

// Dispatch offers the conversation, if it waits in a queue (or is
// offered to a member who went away), to the members available now: what
// the server does when a member's availability changes (SetAvailable
// does not do it by itself).
func (c *Conversation) Dispatch(ctx context.Context) error {
	if t := c.Ticket(); t == nil || (t.Status != queue.Waiting && t.Status != queue.Offered) {
		return nil
	}
	c.seq++
	in := c.input(false, vm.Message{ID: fmt.Sprintf("DI%06d", c.seq), From: c.From, To: c.To})
	in.Dispatch = true
	_, err := c.step(ctx, in)
	return err
}
