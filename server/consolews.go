package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/server/store"
)

// The console's agents' workspace (server/console/workspace.go) through
// the agent API's own functions (agent.go, agentqueue.go): the same
// checks, the same Server.Act, the same refusals in the same words.

// refusal is err as the console takes a refused request: the agent
// API's status and message.
func refusal(err error) error {
	var br *badRequest
	switch {
	case errors.As(err, &br):
		return &console.Refused{Code: br.status, Msg: br.msg}
	case errors.Is(err, store.ErrNotFound):
		return &console.Refused{Code: http.StatusNotFound, Msg: "the conversation is over"}
	}
	return err
}

func consoleAgent(me AgentMe) console.Agent {
	return console.Agent{User: me.User, Available: me.Available, Teams: me.Teams}
}

func consoleConversation(c AgentConversation) console.AgentConversation {
	return console.AgentConversation{ID: c.ID, Contact: c.Contact, Number: c.Number, Flow: c.Flow, Team: c.Team, Status: c.Status,
		Assignee: c.Assignee, Offered: c.Offered, Since: c.Since, Updated: c.Updated, Position: c.Position}
}

func (b consoleBackend) Me(_ context.Context, user string) (console.Agent, error) {
	return consoleAgent(b.s.me(user)), nil
}

func (b consoleBackend) SetAvailable(ctx context.Context, user string, available bool) (console.Agent, error) {
	me, err := b.s.setAvailability(ctx, user, available)
	return consoleAgent(me), refusal(err)
}

func (b consoleBackend) Conversations(ctx context.Context, user string) ([]console.AgentConversation, error) {
	cs, err := b.s.agentConversations(ctx, user)
	if err != nil {
		return nil, refusal(err)
	}
	out := make([]console.AgentConversation, len(cs))
	for i, c := range cs {
		out[i] = consoleConversation(c)
	}
	return out, nil
}

func (b consoleBackend) Thread(ctx context.Context, user, id string) (*console.AgentThread, error) {
	th, err := b.s.agentThreadOf(ctx, id, user)
	if err != nil {
		return nil, refusal(err)
	}
	out := &console.AgentThread{AgentConversation: consoleConversation(th.AgentConversation), Messages: th.Messages, Omitted: th.MessagesOmitted, Notes: th.Notes}
	for _, r := range th.Replies {
		out.Replies = append(out.Replies, console.AgentReply{Text: r.Text, User: r.User, Status: r.Status, At: r.At})
	}
	return out, nil
}

func (b consoleBackend) Act(ctx context.Context, user, id, kind, text, to string) (string, error) {
	res, err := b.s.agentDo(ctx, user, kind, id, AgentAction{Text: text, To: to})
	return res.Event, refusal(err)
}

func (b consoleBackend) AddNote(ctx context.Context, user, id, text string) error {
	_, err := b.s.addAgentNote(ctx, id, user, text)
	return refusal(err)
}

func (b consoleBackend) TransferTargets() (users, teams []string) {
	d := b.s.directory()
	for _, u := range d.Users {
		users = append(users, u.Name)
	}
	for _, t := range d.Teams {
		teams = append(teams, t.Name)
	}
	return users, teams
}
