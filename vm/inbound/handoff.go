package inbound

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/queue"
)

// Holds: a conversation a run handed to someone without a queue step.
// A run that ends by delivering the message to an inbox (`inbox
// user:bob`, `inbox team:sales …`) or by forwarding it to an agent
// platform's webhook (`forward webhook:"…"`: Twilio Flex's "Send to
// Flex", a helpdesk) does not end the conversation: it stays open with
// them, as a queued conversation stays open with the person who took it.
// Its ticket (no team, status open) is held by the user, by "team:NAME"
// (any member may act; the caller makes it the member a strategy chose,
// HoldFor) or by "webhook:URL", so the stage treats it with the queue's
// rules: the contact's later texts join it (a webhook's are forwarded to
// it with the same conversation id), STOP closes it, an idle time
// (Input.HandoffIdle) closes it, and the holder replies and finishes
// through the agent API (a webhook's holder: a directory user marked
// "platform"). Then the next text starts the flow again.
//
// A webhook forward's JSON body carries the conversation's id and the
// flow's variables (the task attributes, for Flex), besides the message.

// handoffHolder is the ticket holder of a conversation handed to url.
func handoffHolder(url string) string { return "webhook:" + url }

// IsHandoff reports whether a ticket's holder is an agent platform's
// webhook (a `forward webhook:` handoff), not a person.
func IsHandoff(assignee string) bool { return strings.HasPrefix(assignee, "webhook:") }

// DefaultHandoffIdle is how long a handed-off conversation stays open
// without a text either way, when the caller sets no Input.HandoffIdle.
const DefaultHandoffIdle = 24 * time.Hour

// MayAct reports whether user may see and act on a queued conversation
// held by assignee and offered to offered: theirs, offered to them, held
// by a team they are a member of, or, for a handoff, when the directory
// marks user as an agent platform's account. The agent API and the stage
// decide with it.
func MayAct(d *directory.Directory, assignee string, offered []string, user string) bool {
	if assignee == user {
		return true
	}
	for _, o := range offered {
		if o == user {
			return true
		}
	}
	if d == nil {
		return false
	}
	if url, ok := strings.CutPrefix(assignee, "webhook:"); ok {
		u, ok := d.User(user)
		return ok && platformFor(u.Webhooks, url)
	}
	if team, ok := strings.CutPrefix(assignee, "team:"); ok {
		if t, ok := d.Team(team); ok {
			for _, m := range t.Members {
				if m == user {
					return true
				}
			}
		}
	}
	return false
}

// platformFor reports whether a platform's webhooks (exact URLs, or
// prefixes ending in "/") take the handoffs to url.
func platformFor(webhooks []string, url string) bool {
	for _, w := range webhooks {
		if url == w || (strings.HasSuffix(w, "/") && strings.HasPrefix(url, w)) {
			return true
		}
	}
	return false
}

// ConversationID names a conversation: its contact, its business number
// and when it started, so that an id names one conversation and never
// the next one of the same contact and number. The agent API takes it;
// webhook forwards carry it.
func ConversationID(contact, number string, started time.Time) string {
	raw := contact + "|" + number + "|" + strconv.FormatInt(started.UnixMicro(), 10)
	return "cv_" + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrConversationID: the text is not a conversation id.
var ErrConversationID = errors.New("not a conversation id")

// ParseConversationID is ConversationID's inverse.
func ParseConversationID(id string) (contact, number string, started time.Time, err error) {
	rest, ok := strings.CutPrefix(id, "cv_")
	if !ok || len(rest) > 200 {
		return "", "", time.Time{}, ErrConversationID
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", time.Time{}, ErrConversationID
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return "", "", time.Time{}, ErrConversationID
	}
	us, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", time.Time{}, ErrConversationID
	}
	return parts[0], parts[1], time.UnixMicro(us).UTC(), nil
}

// started is when the step's conversation started: the one in progress,
// or this event's.
func (in *Input) started() time.Time {
	if in.Conv != nil && !in.Conv.Started.IsZero() {
		return in.Conv.Started
	}
	return in.Now
}

// forwardBody is a forward's JSON body: the message and, for a webhook,
// the conversation's id and the flow's variables.
func forwardBody(in *Input, flow, kind string, vars map[string]any) string {
	m := in.Msg
	b := map[string]any{"flow": flow, "message_sid": m.ID, "from": m.From, "to": m.To, "body": m.Body, "media": m.Media}
	if kind == "webhook" {
		b["conversation_id"] = ConversationID(m.From, m.To, in.started())
		if vars == nil {
			vars = map[string]any{}
		}
		b["variables"] = vars
	}
	out, err := json.Marshal(b)
	if err != nil { // a variable JSON cannot hold: the message still goes
		delete(b, "variables")
		out, _ = json.Marshal(b)
	}
	return string(out)
}

// runVars are the flow's variables after a run: the state's it resumed
// with, then each set of the run, in order. The state is the one the
// step decoded to resume, when it did (vm.Run never writes to its
// caller's variables): decoding it again was 5% of the server's CPU
// firing timers whose branch hands the conversation to an inbox.
func runVars(in *Input, res *vm.Result) map[string]any {
	vars := map[string]any{}
	if in.Conv != nil {
		st := in.Conv.decoded
		if st == nil {
			st = &vm.State{}
			if json.Unmarshal(in.Conv.State, st) != nil {
				st = nil
			}
		}
		if st != nil {
			for k, v := range st.Vars {
				vars[k] = v
			}
		}
	}
	for _, a := range res.Actions {
		if a.Kind == vm.ActSet {
			vars[a.Var] = a.Value
		}
	}
	return vars
}

// keepHeld keeps a conversation the run ended open with whom it handed
// it to (see above): the last webhook it was forwarded to, else the last
// inbox it was delivered to.
func keepHeld(p *Plan, in *Input, res *vm.Result, vars map[string]any) {
	if !p.End || p.Save != nil || p.FlowErr != nil || p.Program == nil || p.Program.Channel == "voice" || in.Call != nil {
		return // a call's inbox delivery (a voicemail) ends with the call
	}
	holder := ""
	for _, f := range p.Forwards {
		if f.Kind == "webhook" {
			holder = handoffHolder(f.To)
		}
	}
	if holder == "" && len(p.Deliver) > 0 {
		t := p.Deliver[len(p.Deliver)-1]
		holder = t.Name
		if t.Kind == "team" {
			holder = "team:" + t.Name
		}
	}
	if holder == "" {
		return
	}
	if vars == nil {
		vars = runVars(in, res)
	}
	idle := in.HandoffIdle
	if idle <= 0 {
		idle = DefaultHandoffIdle
	}
	t := &queue.Ticket{Status: queue.Open, Since: in.Now, Assignee: holder, AcceptedAt: in.Now, LastActivity: in.Now, Idle: idle}
	st := &vm.State{Version: p.Program.Version, PC: -1, Vars: vars, Contact: in.Msg.From, Number: in.Msg.To}
	p.End = false
	saveTicket(p, handoffSettings(t), st, t)
	p.Queue = &QueuePlan{Event: QueueHandedOff, Ticket: t}
}

// HoldFor is state with its hold by team:NAME given to member: what the
// caller does once a team delivery's strategy chose the member (the
// server at commit, the simulator after the step), so that the member
// the inbox item went to holds the conversation. state is returned as it
// is when it is not so held.
func HoldFor(state []byte, team, member string) []byte {
	st := &vm.State{}
	if member == "" || json.Unmarshal(state, st) != nil || st.PC != -1 || st.Queue == nil || st.Queue.Assignee != "team:"+team {
		return state
	}
	st.Queue.Assignee = member
	out, err := json.Marshal(st)
	if err != nil {
		return state
	}
	return out
}

// QueueHandedOff: the run ended with an inbox delivery or a webhook
// forward, and the conversation stays open with its holder (handoff.go).
const QueueHandedOff = "handed-off"

// handoffSettings are a handoff's queue settings: only its idle time.
func handoffSettings(t *queue.Ticket) queue.Settings { return queue.Settings{Inactivity: t.Idle} }

// handoffOf is queueOf for a held conversation.
func handoffOf(st *vm.State) (queue.Settings, *queue.Ticket, bool) {
	if st == nil || st.PC != -1 || st.Queue == nil {
		return queue.Settings{}, nil, false
	}
	return handoffSettings(st.Queue), st.Queue, true
}

// joinedForward is the webhook forward of a contact's text that joined
// a handed-off conversation.
func joinedForward(in *Input, flow string, st *vm.State, t *queue.Ticket) []Forward {
	url, ok := strings.CutPrefix(t.Assignee, "webhook:")
	if !ok {
		return nil
	}
	return []Forward{{Kind: "webhook", To: url, Body: forwardBody(in, flow, "webhook", st.Vars)}}
}

// joinedDelivery is the inbox delivery of a contact's text that joined a
// conversation an inbox holds: to the holder (the user, or the team), so
// that whoever works the inbox sees it; none for a queue's or a
// webhook's.
func joinedDelivery(st *vm.State, t *queue.Ticket) []vm.Target {
	if st.PC != -1 || t.Team != "" || IsHandoff(t.Assignee) || t.Assignee == "" {
		return nil
	}
	if team, ok := strings.CutPrefix(t.Assignee, "team:"); ok {
		return []vm.Target{{Kind: "team", Name: team}}
	}
	return []vm.Target{{Kind: "user", Name: t.Assignee}}
}

// InboxHolder lists who holds a conversation an inbox item's delivery
// left held: the user it went to; for a team's, the team or the member
// the strategy chose. Marking the item done finishes a hold by one of
// them (the server's admin API), as the holder finishing it would.
func InboxHolder(targetKind, targetName, assignee string) []string {
	if targetKind == "user" {
		return []string{targetName}
	}
	out := []string{"team:" + targetName}
	if assignee != "" {
		out = append(out, assignee)
	}
	return out
}

// handoffAgentStep is an action on a held conversation: a reply, or
// finishing it (no `on done`: the flow had ended); it is not offered, so
// there is nothing to accept, and it has no queue to transfer within.
func handoffAgentStep(in *Input, st *vm.State, t *queue.Ticket) *Plan {
	a := in.Agent
	p := &Plan{Outcome: OutcomeAgent, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{}, Record: true, Program: in.Conv.Program}
	refused := func(err error) *Plan {
		return &Plan{Outcome: OutcomeRefused, Flow: in.Conv.Flow, Version: in.Conv.Version, Replies: []string{},
			Queue: &QueuePlan{Event: QueueRefused, Err: err}}
	}
	if !MayAct(in.Directory, t.Assignee, nil, a.User) {
		return refused(queue.ErrNotYours)
	}
	who := a.User // a team's or a webhook's hold: its member or platform acts as the holder
	if IsHandoff(t.Assignee) || strings.HasPrefix(t.Assignee, "team:") {
		who = t.Assignee
	}
	switch a.Kind {
	case AgentReply:
		if in.OptedOut {
			return refused(ErrOptedOut)
		}
		nt, err := queue.Reply(t, who, in.Now)
		if err != nil {
			return refused(err)
		}
		p.Replies = []string{a.Text}
		p.Queue = &QueuePlan{Event: QueueReplied, Ticket: nt}
		saveTicket(p, handoffSettings(nt), st, nt)
	case AgentFinish:
		p.End = true
		p.Queue = &QueuePlan{Event: QueueFinished, Left: true}
	default:
		return refused(queue.ErrState)
	}
	return p
}
