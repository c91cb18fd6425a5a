package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// The agents' workspace (uContact's and Flex's agent desktops): a
// signed-in user's queue and open conversations, one conversation's
// thread with its notes, the actions on it and their availability. It
// reads and acts through Workspace, which the server implements with the
// agent API's own functions (server/agentqueue.go: the same checks, the
// same Server.Act), so a form here is refused exactly when the API
// refuses the same request, with the API's words. The page stays current
// without reloading: events.go streams a small event when the user's
// conversations or the open thread change, and workspace.js fetches the
// page again and swaps its live parts.

// Agent is a user as the workspace shows them (the agent API's me).
type Agent struct {
	User      string
	Available bool
	Teams     []string
}

// AgentConversation is a queued conversation (the agent API's).
type AgentConversation struct {
	ID, Contact, Number, Flow, Team string
	Status                          string // waiting, offered, open, transferring
	Assignee                        string
	Offered                         []string
	Since, Updated                  time.Time
	Position                        int // place in the team's line, while it waits or is offered
}

// AgentThread is one conversation with the contact's messages and the notes.
type AgentThread struct {
	AgentConversation
	Messages []store.InboxMessage
	Omitted  int // older messages left out
	Notes    []store.ConversationNote
	Replies  []AgentReply // sent to the contact through the outbox, oldest first
}

// AgentReply is a text sent to the contact (the agent API's).
type AgentReply struct {
	Text, User, Status string // User "": the flow
	At                 time.Time
}

// Workspace is what the agents' workspace reads and does, for one
// directory user; a refused action is a *Refused with the agent API's
// status (403 not theirs, 404 over, 409 the state forbids it, 422 opted
// out or blacklisted) and message.
type Workspace interface {
	Me(ctx context.Context, user string) (Agent, error)
	SetAvailable(ctx context.Context, user string, available bool) (Agent, error)
	Conversations(ctx context.Context, user string) ([]AgentConversation, error)
	Thread(ctx context.Context, user, id string) (*AgentThread, error)
	// Act is an action of inbound's (AgentAccept, AgentReply,
	// AgentTransfer, AgentFinish); text is a reply's, to a transfer's
	// target (user:NAME or team:NAME). It returns the event, in words.
	Act(ctx context.Context, user, id, kind, text, to string) (string, error)
	AddNote(ctx context.Context, user, id, text string) error
	// TransferTargets are the directory's users and teams.
	TransferTargets() (users, teams []string)
}

func (c *Console) workspaceRoutes(r chi.Router) {
	c.page(r, "/workspace", http.MethodGet, "", c.workspace)
	c.page(r, "/workspace", http.MethodGet, "/events", c.events) // events.go
	c.page(r, "/workspace", http.MethodPost, "/availability", c.availability)
	c.page(r, "/workspace", http.MethodGet, "/{id}", c.thread)
	for _, kind := range []string{inbound.AgentAccept, inbound.AgentReply, inbound.AgentTransfer, inbound.AgentFinish} {
		c.page(r, "/workspace", http.MethodPost, "/{id}/"+kind, c.act(kind))
	}
	c.page(r, "/workspace", http.MethodPost, "/{id}/notes", c.note)
}

// agentOnly answers an admin session, which is no directory user and so
// has no workspace; false when it did.
func (c *Console) agentOnly(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := session(r).Principal
	if p.Role != RoleAgent {
		code := http.StatusOK
		if r.Method != http.MethodGet {
			code = http.StatusForbidden // nothing to act on as the admin
		}
		c.render(w, r, code, "workspace.html", "Workspace", workspaceView{Admin: true})
		return "", false
	}
	return p.User, true
}

type workspaceView struct {
	Admin         bool
	Me            Agent
	Conversations []conversationView
	CSRF          string
	Flash, Error  string
	Events        string // the event stream's URL
}

type conversationView struct {
	AgentConversation
	Waiting   string // since it entered the queue, in words
	MayAccept bool
}

// mayAccept: the accept form is shown (offered to user, or waiting in
// their team's inbox); the API decides anyway.
func mayAccept(c AgentConversation, user string) bool {
	return c.Assignee != user && (slices.Contains(c.Offered, user) || c.Assignee == "")
}

// workspace is the user's queue and open conversations.
func (c *Console) workspace(w http.ResponseWriter, r *http.Request) {
	user, ok := c.agentOnly(w, r)
	if !ok {
		return
	}
	c.showWorkspace(w, r, user, http.StatusOK, r.URL.Query().Get("done"), "")
}

func (c *Console) showWorkspace(w http.ResponseWriter, r *http.Request, user string, code int, flash, msg string) {
	ctx := r.Context()
	me, err := c.b.Me(ctx, user)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	cs, err := c.b.Conversations(ctx, user)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	v := workspaceView{Me: me, CSRF: session(r).CSRF, Flash: flashText(flash), Error: msg,
		Events: Base + "/workspace/events?v=" + url.QueryEscape(queueVersion(cs))}
	now := c.b.Now()
	for _, cv := range cs {
		v.Conversations = append(v.Conversations, conversationView{cv, waited(now, cv.Since), mayAccept(cv, user)})
	}
	c.render(w, r, code, "workspace.html", "Workspace", v)
}

// flashText says what a done action did (the ?done= of the redirect
// after it); "" for anything else.
func flashText(done string) string {
	switch done {
	case inbound.AgentAccept:
		return "Accepted: the conversation is yours."
	case inbound.AgentReply:
		return "Reply sent."
	case inbound.AgentTransfer:
		return "Transferred."
	case inbound.AgentFinish:
		return "Finished: the conversation is over."
	case "note":
		return "Note added."
	case "available":
		return "You are available: your teams' conversations are offered to you."
	case "unavailable":
		return "You are unavailable: nothing new is offered to you."
	}
	return ""
}

// waited is how long since t, in words.
func waited(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// availability is the toggle.
func (c *Console) availability(w http.ResponseWriter, r *http.Request) {
	user, ok := c.agentOnly(w, r)
	if !ok {
		return
	}
	var on bool
	switch r.PostFormValue("available") {
	case "true":
		on = true
	case "false":
	default:
		c.showWorkspace(w, r, user, http.StatusBadRequest, "", "available: want true or false.")
		return
	}
	if _, err := c.b.SetAvailable(r.Context(), user, on); err != nil {
		if refused := (*Refused)(nil); errors.As(err, &refused) {
			c.showWorkspace(w, r, user, refused.Code, "", refused.Msg)
			return
		}
		c.storeFail(w, r, err)
		return
	}
	done := "available"
	if !on {
		done = "unavailable"
	}
	http.Redirect(w, r, Base+"/workspace?done="+done, http.StatusSeeOther)
}

type threadView struct {
	AgentThread
	Waiting      string
	CSRF         string
	Flash, Error string
	Users, Teams []string
	Me           string
	Events       string
	Items        []threadItem // the messages and the replies, oldest first
	// May: the actions the state allows (the forms shown; the API
	// decides anyway).
	MayAccept, MayWork bool
}

// thread is one conversation.
func (c *Console) thread(w http.ResponseWriter, r *http.Request) {
	user, ok := c.agentOnly(w, r)
	if !ok {
		return
	}
	c.showThread(w, r, user, chi.URLParam(r, "id"), http.StatusOK, r.URL.Query().Get("done"), "")
}

func (c *Console) showThread(w http.ResponseWriter, r *http.Request, user, id string, code int, flash, msg string) {
	th, err := c.b.Thread(r.Context(), user, id)
	if refused := (*Refused)(nil); errors.As(err, &refused) {
		if msg != "" { // the action's refusal says more than the thread's
			refused.Msg = msg + " (" + refused.Msg + ")"
		}
		c.fail(w, r, refused.Code, upper(refused.Msg)+".")
		return
	} else if err != nil {
		c.storeFail(w, r, err)
		return
	}
	users, teams := c.b.TransferTargets()
	v := threadView{AgentThread: *th, Waiting: waited(c.b.Now(), th.Since), CSRF: session(r).CSRF, Flash: flashText(flash), Error: msg,
		Users: users, Teams: teams, Me: user,
		Events:    Base + "/workspace/events?c=" + url.QueryEscape(id) + "&v=" + url.QueryEscape(threadVersion(th, nil)),
		MayAccept: mayAccept(th.AgentConversation, user), MayWork: th.Assignee == user}
	v.Items = threadItems(th)
	c.render(w, r, code, "workspace-thread.html", "Conversation with "+th.Contact, v)
}

// threadItem is a text of the thread: the contact's, or one sent to them.
type threadItem struct {
	Out     bool   // sent to the contact
	Who     string // the contact, the agent, or "the flow"
	Body    string
	Media   []string
	At      time.Time
	Status  string // a reply's: pending, sent, dropped
	Clipped bool
}

// threadItems interleaves the contact's messages and the replies by time.
func threadItems(th *AgentThread) []threadItem {
	var out []threadItem
	for _, m := range th.Messages {
		out = append(out, threadItem{Who: th.Contact, Body: m.Body, Media: m.Media, At: m.Received, Clipped: m.Clipped})
	}
	for _, r := range th.Replies {
		who := r.User
		if who == "" {
			who = "the flow"
		}
		out = append(out, threadItem{Out: true, Who: who, Body: r.Text, At: r.At, Status: r.Status})
	}
	slices.SortStableFunc(out, func(a, b threadItem) int { return a.At.Compare(b.At) })
	return out
}

func upper(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// act is one of the actions' forms: accept, reply, transfer, finish.
func (c *Console) act(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := c.agentOnly(w, r)
		if !ok {
			return
		}
		id := chi.URLParam(r, "id")
		to := r.PostFormValue("to")
		_, err := c.b.Act(r.Context(), user, id, kind, r.PostFormValue("text"), to)
		if c.refusedAction(w, r, user, id, err) {
			return
		}
		if kind == inbound.AgentFinish || kind == inbound.AgentTransfer {
			// No longer theirs (a transfer to themselves stays, and shows).
			if _, err := c.b.Thread(r.Context(), user, id); err != nil {
				http.Redirect(w, r, Base+"/workspace?done="+kind, http.StatusSeeOther)
				return
			}
		}
		http.Redirect(w, r, Base+"/workspace/"+url.PathEscape(id)+"?done="+kind, http.StatusSeeOther)
	}
}

func (c *Console) note(w http.ResponseWriter, r *http.Request) {
	user, ok := c.agentOnly(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if c.refusedAction(w, r, user, id, c.b.AddNote(r.Context(), user, id, r.PostFormValue("text"))) {
		return
	}
	http.Redirect(w, r, Base+"/workspace/"+url.PathEscape(id)+"?done=note", http.StatusSeeOther)
}

// refusedAction answers a refused action on the thread's page, in the
// API's words and with its status; true when err was one.
func (c *Console) refusedAction(w http.ResponseWriter, r *http.Request, user, id string, err error) bool {
	var refused *Refused
	switch {
	case err == nil:
		return false
	case errors.As(err, &refused):
		if refused.Code == http.StatusForbidden || refused.Code == http.StatusNotFound {
			c.fail(w, r, refused.Code, upper(refused.Msg)+".")
			return true
		}
		c.showThread(w, r, user, id, refused.Code, "", upper(refused.Msg)+".")
	default:
		c.storeFail(w, r, err)
	}
	return true
}
