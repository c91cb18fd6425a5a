package console

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// The numbers page (admins): every number with its SMS flow and its call
// flow, the missing ones red (GET /v1/admin/numbers's listing), assign
// and unassign by channel (the admin API's PUT and DELETE
// /v1/admin/numbers/{number}), and "Sync from Twilio" (POST
// /v1/admin/numbers/sync). The rules live once, in the server, behind
// AdminBackend.

// AdminBackend is what the admin pages (numbers, playground, queues and
// traces) read and do, implemented by the server with the functions the
// admin API calls.
type AdminBackend interface {
	// Numbers is a page of GET /v1/admin/numbers: up to limit numbers
	// after the number after.
	Numbers(ctx context.Context, after string, limit int) (*NumbersPage, error)
	// AssignNumber routes number to flow; the flow's channel ("sms",
	// "voice") says for what. A bad request is a *Refused.
	AssignNumber(ctx context.Context, number, flow string) (channel string, err error)
	// UnassignNumber stops routing number for channel ("sms", "voice").
	UnassignNumber(ctx context.Context, number, channel string) (unassigned []string, err error)
	// SyncNumbers is `flowc numbers sync`: a failure at Twilio is a
	// *Refused saying what to fix.
	SyncNumbers(ctx context.Context) (*SyncResult, error)
	// Queues is GET /v1/admin/queues.
	Queues(ctx context.Context) ([]QueueStats, error)
	// Execution is GET /v1/admin/executions/{sid}; Call is GET
	// /v1/admin/calls/{sid} (store.ErrNotFound when there is none).
	Execution(ctx context.Context, sid string) (*Execution, error)
	Call(ctx context.Context, sid string) (*CallTrace, error)
	// ContactTraces are the contact's newest interactions (its history,
	// newest first): each text or call with the SID to trace it by.
	ContactTraces(ctx context.Context, contact string) ([]ContactTrace, error)
	// CompileDraft compiles a flow's source as a deploy does (file is
	// its name, NAME.flow); the program is nil when it does not compile.
	CompileDraft(file, source string) (*vm.Program, diag.List)
	// Playground is what the playground's simulator gets from the
	// server: its directory, its applet runner and its event budget.
	Playground() PlaygroundEnv
}

// NumbersPage is a page of the numbers.
type NumbersPage struct {
	Numbers []Number
	Next    string // the last number of this page when there are more
}

// Number is one number of the listing (server.NumberInfo).
type Number struct {
	Number, Name string
	Owned        []string // "directory", "twilio"
	// NoSMS, NoVoice: Twilio says the number cannot receive texts, calls.
	NoSMS, NoVoice bool
	SMSFlow        string
	SMSVersion     string
	CallFlow       string
	CallVersion    string
	TextedUnrouted bool
	MissingSMS     bool // red: it can receive texts but no flow answers them
	MissingCall    bool // red: calls
}

// ID is the number as an HTML id (without its +).
func (n Number) ID() string { return strings.TrimPrefix(n.Number, "+") }

// SyncResult is what a sync did.
type SyncResult struct {
	Numbers        int
	Added, Removed []string
	Synced         time.Time
}

// PlaygroundEnv is the server's part of the playground's simulator.
type PlaygroundEnv struct {
	Directory   *directory.Directory
	Applets     sim.AppletFunc // nil: applets fail
	EventBudget time.Duration  // vm.Options.EventBudget; zero: the VM's default
}

// numbersPageSize is the numbers shown per page.
const numbersPageSize = 50

type numbersView struct {
	Numbers  []Number
	Next     string
	After    string
	Flows    []Flow
	CSRF     string
	Flash    string
	Error    string
	Missing  int
	Synced   *SyncResult
	SyncFail string
}

// adminPages routes the numbers, playground, queues and traces pages.
func (c *Console) adminPages(r chi.Router) {
	c.page(r, "/numbers", http.MethodGet, "", c.numbersPage)
	c.page(r, "/numbers", http.MethodPost, "/assign", c.assignNumber)
	c.page(r, "/numbers", http.MethodPost, "/unassign", c.unassignNumber)
	c.page(r, "/numbers", http.MethodPost, "/sync", c.syncNumbers)
	c.page(r, "/playground", http.MethodGet, "", c.playground)             // playground.go
	c.page(r, "/playground", http.MethodPost, "", c.playground)            // playground.go
	c.page(r, "/playground", http.MethodPost, "/flowtest", c.downloadTest) // playground.go
	c.page(r, "/queues", http.MethodGet, "", c.queuesPage)                 // queues.go
	c.page(r, "/queues", http.MethodGet, "/events", c.queuesEvents)        // events.go
	c.page(r, "/traces", http.MethodGet, "", c.tracesPage)                 // queues.go
}

func (c *Console) admin() AdminBackend { return c.b }

// adminFuncs adds the admin pages' template functions.
func adminFuncs(f template.FuncMap) {
	// traceOf is the argument of the trace-steps partial (_trace.html).
	f["traceOf"] = func(flow, version string, steps []TraceStep, actions, errs []string, base string) map[string]any {
		return map[string]any{"Flow": flow, "Version": version, "Steps": steps, "Actions": actions, "Errors": errs, "Base": base}
	}
}

func (c *Console) numbersPage(w http.ResponseWriter, r *http.Request) {
	c.showNumbers(w, r, http.StatusOK, numbersView{})
}

// showNumbers renders the numbers page with v's flash, error or sync
// result.
func (c *Console) showNumbers(w http.ResponseWriter, r *http.Request, code int, v numbersView) {
	q := r.URL.Query()
	v.After = r.FormValue("after")
	if v.Flash == "" {
		v.Flash = numbersFlash(q)
	}
	pg, err := c.admin().Numbers(r.Context(), v.After, numbersPageSize)
	if err != nil {
		c.backendFail(w, r, err)
		return
	}
	flows, err := c.b.Flows(r.Context())
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	v.Numbers, v.Next, v.CSRF = pg.Numbers, pg.Next, session(r).CSRF
	for _, f := range flows {
		if f.Active != "" {
			v.Flows = append(v.Flows, f)
		}
	}
	for _, n := range v.Numbers {
		if n.MissingSMS || n.MissingCall {
			v.Missing++
		}
	}
	c.render(w, r, code, "numbers.html", "Numbers", v)
}

// refusal is err as a page's message and status, when the backend
// refused the request (false: a store failure).
func refusal(err error) (int, string, bool) {
	var ref *Refused
	var taken *store.NumberTakenError
	switch {
	case errors.As(err, &ref):
		return ref.Code, ref.Msg, true
	case errors.As(err, &taken):
		return http.StatusConflict, err.Error(), true
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, err.Error(), true
	}
	return 0, "", false
}

// backendFail answers a failed read: the backend's refusal (admin reads
// busy) in its words, else the store's failure.
func (c *Console) backendFail(w http.ResponseWriter, r *http.Request, err error) {
	if code, msg, ok := refusal(err); ok {
		c.fail(w, r, code, msg)
		return
	}
	c.storeFail(w, r, err)
}

// backTo is the numbers page the form was posted from, saying what was
// done (done: assigned or unassigned) as numbersFlash words it: the
// redirect carries the facts, never the words, so a link cannot make the
// console say what it likes.
func backTo(r *http.Request, done, number, channel, flow string) string {
	q := url.Values{"done": {done}, "number": {number}, "channel": {channel}}
	if flow != "" {
		q.Set("flow", flow)
	}
	if a := r.PostFormValue("after"); a != "" {
		q.Set("after", a)
	}
	return Base + "/numbers?" + q.Encode()
}

var (
	flashNumber = regexp.MustCompile(`^\+?[0-9]{1,20}$`)
	flashFlow   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// numbersFlash says what backTo's query says was done; "" for anything
// else (a number or flow name that is not one is left out).
func numbersFlash(q url.Values) string {
	number, flow := q.Get("number"), q.Get("flow")
	if !flashNumber.MatchString(number) {
		number = "the number"
	}
	what := channelWords(q.Get("channel"))
	switch q.Get("done") {
	case "assigned":
		if !flashFlow.MatchString(flow) {
			return "Assigned."
		}
		return number + "'s " + what + " now go to " + flow + "."
	case "unassigned":
		return "No flow answers " + number + "'s " + what + " any more."
	}
	return ""
}

// numberFailed answers an assign's or unassign's failure (the API's
// refusal in its words on the numbers page, else a store failure) and
// reports whether there was one.
func (c *Console) numberFailed(w http.ResponseWriter, r *http.Request, err error, prefix string) bool {
	if err == nil {
		return false
	}
	if code, msg, ok := refusal(err); ok {
		c.showNumbers(w, r, code, numbersView{Error: prefix + msg})
		return true
	}
	c.storeFail(w, r, err)
	return true
}

// channelWords is what a channel's routes carry: texts or calls.
func channelWords(channel string) string {
	if channel == "voice" {
		return "calls"
	}
	return "texts"
}

func (c *Console) assignNumber(w http.ResponseWriter, r *http.Request) {
	number, flow := strings.TrimSpace(r.PostFormValue("number")), r.PostFormValue("flow")
	if flow == "" {
		c.showNumbers(w, r, http.StatusBadRequest, numbersView{Error: "Choose a flow to assign to " + number + "."})
		return
	}
	channel, err := c.admin().AssignNumber(r.Context(), number, flow)
	if c.numberFailed(w, r, err, "Not assigned: ") {
		return
	}
	c.log.Info("console: number assigned", "number", number, "flow", flow, "channel", channel, "user", session(r).Principal.User)
	http.Redirect(w, r, backTo(r, "assigned", number, channel, flow), http.StatusSeeOther)
}

func (c *Console) unassignNumber(w http.ResponseWriter, r *http.Request) {
	number, channel := r.PostFormValue("number"), r.PostFormValue("channel")
	if channel != "sms" && channel != "voice" {
		c.showNumbers(w, r, http.StatusBadRequest, numbersView{Error: "channel: want sms or voice."})
		return
	}
	_, err := c.admin().UnassignNumber(r.Context(), number, channel)
	if c.numberFailed(w, r, err, "Not unassigned: ") {
		return
	}
	c.log.Info("console: number unassigned", "number", number, "channel", channel, "user", session(r).Principal.User)
	http.Redirect(w, r, backTo(r, "unassigned", number, channel, ""), http.StatusSeeOther)
}

func (c *Console) syncNumbers(w http.ResponseWriter, r *http.Request) {
	res, err := c.admin().SyncNumbers(r.Context())
	if err != nil {
		if code, msg, ok := refusal(err); ok {
			c.showNumbers(w, r, code, numbersView{SyncFail: msg})
			return
		}
		c.storeFail(w, r, err)
		return
	}
	c.log.Info("console: numbers synced", "numbers", res.Numbers, "user", session(r).Principal.User)
	c.showNumbers(w, r, http.StatusOK, numbersView{Synced: res})
}
