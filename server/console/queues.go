package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The queues page (GET /v1/admin/queues's statistics, now) and the
// traces page (GET /v1/admin/executions/{sid} and /v1/admin/calls/{sid}:
// one message or call step by step, each step's file:line linked to the
// flow page's source line of the version that ran). Admins only.

// QueueStats is one team's queue (server.QueueStats).
type QueueStats struct {
	Team                                    string
	Waiting                                 int
	LongestWait                             time.Duration
	Entered, Offered, Accepted, WithinSL    int64
	Abandoned, AbandonedAfterSL             int64
	Transferred, Returned, Finished, Closed int64
	Full                                    int64
	ServiceLevel                            *float64 // percent; nil while nothing was taken or abandoned after the SL
}

// TraceStep is one step of an execution record.
type TraceStep struct {
	Loc  string // file:line:col
	Line int
	Op   string
	Note string
}

// Delivery is what an execution caused to be sent.
type Delivery struct {
	Kind, To, Status, Report, Error string
}

// Execution is how one message was routed (server.Execution).
type Execution struct {
	SID, From, To, Body, Flow, Version, Outcome string
	Received                                    time.Time
	Answer                                      string // the TwiML answered
	Steps                                       []TraceStep
	Actions, Errors                             []string
	Deliveries                                  []Delivery
}

// CallTrace is a call step by step (server.CallExecution).
type CallTrace struct {
	SID, From, To, Flow, Version string
	Started                      time.Time
	Ended                        *time.Time
	Steps                        []CallStep
}

// CallStep is one provider callback of a call and what the flow did.
type CallStep struct {
	Step                  int
	At                    time.Time
	Event, Outcome, TwiML string
	Trace                 []TraceStep
	Actions, Errors       []string
	Deliveries            []Delivery
}

type queuesView struct {
	Queues []QueueStats
	Now    time.Time
	Events string // the page's event stream (live updates)
}

func (c *Console) queuesPage(w http.ResponseWriter, r *http.Request) {
	qs, err := c.admin().Queues(r.Context())
	if err != nil {
		c.backendFail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "queues.html", "Queues", queuesView{Queues: qs, Now: c.b.Now(),
		Events: Base + "/queues/events?v=" + url.QueryEscape(queuesVersion(qs))})
}

type tracesView struct {
	SID, Contact string
	Message      *Execution
	Call         *CallTrace
	History      []ContactTrace // the contact searched for's
	Error        string
}

// ContactTrace is one interaction of a contact, for finding its trace.
type ContactTrace struct {
	At                            time.Time
	Kind, Direction, Number, User string
	SID                           string // "" when it has none to trace (a reply in a webhook's answer)
}

// maxSIDLen bounds a searched SID (Twilio's are 34 characters).
const maxSIDLen = 64

// tracesPage finds a message (SM…, MM…, or any stored message SID) or a
// call (CA…) by its SID. A SID is tried as a message, then as a call:
// each lookup is one primary-key read.
func (c *Console) tracesPage(w http.ResponseWriter, r *http.Request) {
	v := tracesView{SID: strings.TrimSpace(r.URL.Query().Get("sid")), Contact: strings.TrimSpace(r.URL.Query().Get("contact"))}
	code := http.StatusOK
	switch {
	case v.SID == "" && v.Contact != "":
		if len(v.Contact) > maxSIDLen || strings.ContainsAny(v.Contact, " /?#\r\n\t") {
			code, v.Error = http.StatusBadRequest, fmt.Sprintf("contact: %q is not a phone number (at most %d characters).", clipText(v.Contact, 80), maxSIDLen)
			break
		}
		h, err := c.admin().ContactTraces(r.Context(), v.Contact)
		if err != nil {
			c.storeFail(w, r, err)
			return
		}
		v.History = h
		if len(h) == 0 {
			v.Error = "No text or call of " + v.Contact + " is stored."
		}
	case v.SID == "":
	case len(v.SID) > maxSIDLen || strings.ContainsAny(v.SID, " /?#\r\n\t"):
		code, v.Error = http.StatusBadRequest, fmt.Sprintf("sid: %q is not a message or call SID (at most %d characters, no spaces or slashes).", clipText(v.SID, 80), maxSIDLen)
	default:
		lookups := []func() error{
			func() (err error) { v.Message, err = c.admin().Execution(r.Context(), v.SID); return err },
			func() (err error) { v.Call, err = c.admin().Call(r.Context(), v.SID); return err },
		}
		if strings.HasPrefix(v.SID, "CA") {
			lookups[0], lookups[1] = lookups[1], lookups[0]
		}
		for _, look := range lookups {
			err := look()
			if err == nil {
				break
			}
			if code, _, ok := refusal(err); ok && code == http.StatusNotFound {
				continue
			}
			c.storeFail(w, r, err)
			return
		}
		if v.Message == nil && v.Call == nil {
			code, v.Error = http.StatusNotFound, "No message and no call has the SID "+v.SID+"."
		}
	}
	c.render(w, r, code, "traces.html", "Traces", v)
}

// clipText cuts s to n bytes on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
