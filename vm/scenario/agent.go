package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/queue"
	"github.com/flowc-dev/flowc/vm/sim"
)

// Queues in a .flowtest: people acting on the queued conversation, as
// the agent API will let them, and expectations on its place in the
// queue. The lines:
//
//	agent NAME accepts                   take the offered (or transferred) conversation
//	agent NAME replies "TEXT"            a text to the contact (expect reply "TEXT")
//	agent NAME transfers to user:X|team:X
//	agent NAME finishes                  the queue's `on done` runs
//	agent NAME away | available          the user's availability from now on (setup)
//	queue team:NAME waiting N            N other conversations wait in the queue (setup)
//
//	expect queue team:NAME               the step put the conversation in that queue
//	expect queue status waiting|offered|open|transferring
//	expect queue offered A, B | nobody   who the offer is with now
//	expect queue assignee NAME           who has it
//	expect queue waiting N               conversations waiting in its queue, it included
//	expect queue position N              its place in line (1: next)
//	expect queue none                    it is in no queue
//	expect queue service-level met|missed the step's accept was within the service level, or not
//	expect refused                       the agent's action was refused (not theirs, or not now)

// Step kinds of the agent and queue lines.
const (
	StepAgent        StepKind = iota + 200 // agent NAME accepts|replies|transfers|finishes
	StepAvailability                       // agent NAME away|available
	StepQueueWaiting                       // queue team:NAME waiting N
)

func isQueueSetup(k StepKind) bool { return k == StepAvailability || k == StepQueueWaiting }

// AgentLine is an agent or queue line.
type AgentLine struct {
	Event     inbound.AgentEvent // StepAgent
	Available bool               // StepAvailability
	Team      string             // StepQueueWaiting
	Waiting   int
}

// Expectation kinds of the queue.
const (
	ExpQueueEntered ExpectKind = iota + 200
	ExpQueueStatus
	ExpQueueOffered
	ExpQueueAssignee
	ExpQueueWaiting
	ExpQueuePosition
	ExpQueueNone
	ExpRefused
	ExpServiceLevel
)

// parseAgentLine reads an `agent …` or `queue …` line.
func parseAgentLine(toks []token, text string) (Step, error) {
	w := words(toks)
	if w[0] == "queue" {
		const want = "want: queue team:NAME waiting N"
		if len(w) != 4 || !strings.HasPrefix(w[1], "team:") || w[2] != "waiting" {
			return Step{}, errors.New(want)
		}
		n, err := strconv.Atoi(w[3])
		if err != nil || n < 0 {
			return Step{}, errors.New(want)
		}
		return Step{Kind: StepQueueWaiting, Text: text, Agent: &AgentLine{Team: w[1][5:], Waiting: n}}, nil
	}
	const want = `want: agent NAME accepts | replies "TEXT" | transfers to user:NAME|team:NAME | finishes | away | available`
	if len(toks) < 3 {
		return Step{}, errors.New(want)
	}
	user := toks[1].s
	ev := inbound.AgentEvent{User: user}
	switch toks[2].s {
	case "accepts":
		ev.Kind = inbound.AgentAccept
	case "finishes":
		ev.Kind = inbound.AgentFinish
	case "replies":
		if len(toks) != 4 || !toks[3].quoted {
			return Step{}, errors.New(want)
		}
		ev.Kind, ev.Text = inbound.AgentReply, toks[3].s
	case "transfers":
		if len(toks) != 5 || toks[3].s != "to" || !(strings.HasPrefix(toks[4].s, "user:") || strings.HasPrefix(toks[4].s, "team:")) {
			return Step{}, errors.New(want)
		}
		ev.Kind, ev.To = inbound.AgentTransfer, toks[4].s
	case "away", "available":
		if len(toks) != 3 {
			return Step{}, errors.New(want)
		}
		return Step{Kind: StepAvailability, Text: text, Agent: &AgentLine{Event: ev, Available: toks[2].s == "available"}}, nil
	default:
		return Step{}, errors.New(want)
	}
	if (ev.Kind == inbound.AgentAccept || ev.Kind == inbound.AgentFinish) && len(toks) != 3 {
		return Step{}, errors.New(want)
	}
	return Step{Kind: StepAgent, Text: text, Agent: &AgentLine{Event: ev}}, nil
}

// parseQueueExpect reads `expect queue …` and `expect refused`; ok is
// false for another expectation.
func parseQueueExpect(toks []token) (e Expect, ok bool, err error) {
	switch toks[0].s {
	case "refused":
		e.Kind = ExpRefused
		if len(toks) != 1 {
			return e, true, errors.New("want: expect refused")
		}
		return e, true, nil
	case "queue":
	default:
		return e, false, nil
	}
	const want = "want: expect queue team:NAME | status S | offered A, B | offered nobody | assignee NAME | waiting N | position N | service-level met|missed | none"
	rest := toks[1:]
	if len(rest) == 0 {
		return e, true, errors.New(want)
	}
	switch {
	case strings.HasPrefix(rest[0].s, "team:") && len(rest) == 1:
		e.Kind, e.Text = ExpQueueEntered, rest[0].s
	case rest[0].s == "none" && len(rest) == 1:
		e.Kind = ExpQueueNone
	case rest[0].s == "status" && len(rest) == 2:
		e.Kind, e.Text = ExpQueueStatus, rest[1].s
		if !slices.Contains([]string{queue.Waiting, queue.Offered, queue.Open, queue.Transferring}, e.Text) {
			return e, true, fmt.Errorf("unknown queue status %q (want waiting, offered, open or transferring)", e.Text)
		}
	case rest[0].s == "offered" && len(rest) >= 2:
		e.Kind = ExpQueueOffered
		if !(len(rest) == 2 && rest[1].s == "nobody") {
			for _, t := range rest[1:] {
				for _, m := range strings.Split(t.s, ",") {
					if m != "" {
						e.Tags = append(e.Tags, m)
					}
				}
			}
		}
	case rest[0].s == "service-level" && len(rest) == 2 && (rest[1].s == "met" || rest[1].s == "missed"):
		e.Kind, e.Text = ExpServiceLevel, rest[1].s
	case rest[0].s == "assignee" && len(rest) == 2:
		e.Kind, e.Text = ExpQueueAssignee, rest[1].s
	case (rest[0].s == "waiting" || rest[0].s == "position") && len(rest) == 2:
		n, err := strconv.Atoi(rest[1].s)
		if err != nil || n < 0 {
			return e, true, errors.New(want)
		}
		e.Kind, e.Value = map[string]ExpectKind{"waiting": ExpQueueWaiting, "position": ExpQueuePosition}[rest[0].s], n
	default:
		return e, true, errors.New(want)
	}
	return e, true, nil
}

// runAgentLine runs an agent or queue line; for an agent's action it
// returns the step's results, and whether it was refused.
func runAgentLine(ctx context.Context, conv *sim.Conversation, s Step) (res *vm.Result, refused error, err error) {
	a := s.Agent
	switch s.Kind {
	case StepAvailability:
		conv.Env.SetAvailable(a.Event.User, a.Available)
		// As the server does: a member back is offered the waiting
		// conversation; one gone away passes their offer on.
		return nil, nil, conv.Dispatch(ctx)
	case StepQueueWaiting:
		conv.Env.SetWaiting(a.Team, a.Waiting)
		return nil, nil, nil
	}
	res, err = conv.Agent(ctx, a.Event)
	if errors.Is(err, queue.ErrNotYours) || errors.Is(err, queue.ErrState) || errors.Is(err, inbound.ErrOptedOut) || errors.Is(err, inbound.ErrNobodyAvailable) {
		return res, err, nil
	}
	return res, nil, err
}

func describeQueueExpect(e Expect) string {
	switch e.Kind {
	case ExpQueueEntered:
		return "queue " + e.Text
	case ExpQueueStatus:
		return "queue status " + e.Text
	case ExpQueueOffered:
		return "queue offered " + offeredList(e.Tags)
	case ExpQueueAssignee:
		return "queue assignee " + e.Text
	case ExpQueueWaiting:
		return fmt.Sprintf("queue waiting %d", e.Value)
	case ExpQueuePosition:
		return fmt.Sprintf("queue position %d", e.Value)
	case ExpQueueNone:
		return "queue none"
	case ExpRefused:
		return "refused"
	case ExpServiceLevel:
		return "queue service-level " + e.Text
	}
	return "?"
}

func offeredList(names []string) string {
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, ", ")
}

// checkQueue checks a queue expectation against the conversation.
func (s *stepState) checkQueue(e Expect, conv *sim.Conversation) (got string, ok bool) {
	t := conv.Ticket()
	if e.Kind == ExpQueueEntered {
		ok = s.take(func(a vm.Action) bool { return a.Kind == vm.ActQueue && a.Target.String() == e.Text })
		return "", ok
	}
	if e.Kind == ExpRefused {
		if s.refused == nil {
			return "the action was done", false
		}
		return "refused: " + s.refused.Error(), true
	}
	if e.Kind == ExpServiceLevel {
		q := conv.Last.Queue
		if q == nil || !q.Taken {
			return "no conversation taken from the queue in this step", false
		}
		got = map[bool]string{true: "met", false: "missed"}[q.WithinServiceLevel]
		return fmt.Sprintf("queue service-level %s (taken after %s)", got, q.Waited), got == e.Text
	}
	if t == nil {
		return "in no queue", e.Kind == ExpQueueNone
	}
	switch e.Kind {
	case ExpQueueNone:
		return "in the queue of team:" + t.Team, false
	case ExpQueueStatus:
		return "queue status " + t.Status, t.Status == e.Text
	case ExpQueueOffered:
		got = "queue offered " + offeredList(t.Offered)
		return got, slices.Equal(t.Offered, e.Tags)
	case ExpQueueAssignee:
		if t.Assignee == "" {
			return "queue assignee nobody", false
		}
		return "queue assignee " + t.Assignee, t.Assignee == e.Text
	case ExpQueueWaiting:
		n := conv.Env.Waiting(t.Team, conv.State)
		return fmt.Sprintf("queue waiting %d", n), n == e.Value
	case ExpQueuePosition:
		n := 0
		if t.Status == queue.Waiting || t.Status == queue.Offered {
			n = conv.Env.Waiting(t.Team, nil) + 1 // the others said to wait came first
		}
		return fmt.Sprintf("queue position %d", n), n == e.Value
	}
	return "?", false
}

// ParseAgent reads an agent or queue line as `flowc run` takes it after
// its colon: `agent bob accepts`, `agent bob replies "Hi"`, `agent bob
// away`, `queue team:support waiting 3`.
func ParseAgent(line string) (Step, error) {
	toks, err := tokenize(line)
	if err != nil {
		return Step{}, err
	}
	if len(toks) == 0 || toks[0].s != "agent" && toks[0].s != "queue" {
		return Step{}, errors.New(`want: agent NAME accepts | replies "TEXT" | transfers to user:NAME|team:NAME | finishes | away | available, or queue team:NAME waiting N`)
	}
	return parseAgentLine(toks, line)
}

// RunAgent runs a line ParseAgent read on the conversation: the result
// of an agent's action (nil for a setup line); a refused action is an
// error wrapping queue.ErrNotYours, queue.ErrState or inbound.ErrOptedOut.
func RunAgent(ctx context.Context, conv *sim.Conversation, s Step) (*vm.Result, error) {
	res, refused, err := runAgentLine(ctx, conv, s)
	if err == nil {
		err = refused
	}
	return res, err
}
