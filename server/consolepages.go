package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/vm"
)

// The console's admin pages (numbers, playground, queues, traces) read
// and act through console.AdminBackend: here, the functions the admin
// API's handlers call (numbersPage, assign, unassign, syncOwned,
// queueStats, execution, callExecution, compileBundle), turned into the
// console's types. A request the API answers 4xx/5xx with a message
// (*badRequest) is a *console.Refused with that status and message.

func refusedOf(err error) error {
	var br *badRequest
	var busy *adminBusyError
	switch {
	case errors.As(err, &br):
		return &console.Refused{Code: br.status, Msg: br.msg}
	case errors.As(err, &busy):
		return &console.Refused{Code: http.StatusServiceUnavailable, Msg: err.Error()}
	}
	return err
}

// adminRead is the API's adminRead for the console: the listings take
// one of the admin read slots (FLOWC_ADMIN_READS) as their API does.
func (b consoleBackend) adminRead(ctx context.Context) (func(), error) {
	release, err := b.s.adminReads.enter(ctx)
	return release, refusedOf(err)
}

func (b consoleBackend) Numbers(ctx context.Context, after string, limit int) (*console.NumbersPage, error) {
	release, err := b.adminRead(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := b.s.numbersPage(ctx, after, limit)
	if err != nil {
		return nil, refusedOf(err)
	}
	out := &console.NumbersPage{Next: strings.TrimPrefix(res.Next, numberCursor)}
	for _, n := range res.Numbers {
		row := console.Number{Number: n.Number, Name: n.Name, Owned: n.Owned, SMSFlow: n.SMSFlow, SMSVersion: n.SMSVersion,
			CallFlow: n.CallFlow, CallVersion: n.CallVersion, TextedUnrouted: n.TextedUnrouted}
		if c := n.Capabilities; c != nil {
			row.NoSMS, row.NoVoice = !c.SMS, !c.Voice
		}
		for _, m := range n.Missing {
			switch m {
			case "sms_flow":
				row.MissingSMS = true
			case "call_flow":
				row.MissingCall = true
			}
		}
		out.Numbers = append(out.Numbers, row)
	}
	return out, nil
}

func (b consoleBackend) AssignNumber(ctx context.Context, number, flow string) (string, error) {
	ch, err := b.s.assign(ctx, number, flow)
	return ch, refusedOf(err)
}

func (b consoleBackend) UnassignNumber(ctx context.Context, number, channel string) ([]string, error) {
	res, err := b.s.unassign(ctx, number, channel)
	return res.Unassigned, refusedOf(err)
}

func (b consoleBackend) SyncNumbers(ctx context.Context) (*console.SyncResult, error) {
	res, err := b.s.syncOwned(ctx)
	if err != nil {
		return nil, refusedOf(err)
	}
	return &console.SyncResult{Numbers: res.Numbers, Added: res.Added, Removed: res.Removed, Synced: res.Synced}, nil
}

func (b consoleBackend) Queues(ctx context.Context) ([]console.QueueStats, error) {
	release, err := b.adminRead(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	qs, err := b.s.queueStats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.QueueStats, 0, len(qs))
	for _, q := range qs {
		out = append(out, console.QueueStats{Team: q.Team, Waiting: q.Waiting,
			LongestWait: time.Duration(q.LongestWaitSeconds * float64(time.Second)).Round(time.Second),
			Entered:     q.Entered, Offered: q.Offered, Accepted: q.Accepted, WithinSL: q.WithinSL, Abandoned: q.Abandoned,
			AbandonedAfterSL: q.AbandonedAfterSL, Transferred: q.Transferred, Returned: q.Returned, Finished: q.Finished,
			Closed: q.Closed, Full: q.Full, ServiceLevel: q.ServiceLevelPercent})
	}
	return out, nil
}

// traceOf reads a stored execution record (traceJSON).
func traceOf(raw json.RawMessage) (steps []console.TraceStep, actions, errs []string) {
	var rec traceRecord
	if len(raw) == 0 || json.Unmarshal(raw, &rec) != nil {
		return nil, nil, nil
	}
	for _, s := range rec.Steps {
		st := console.TraceStep{Loc: s.Loc, Op: s.Op, Note: s.Note}
		// file:line:col
		if i := strings.LastIndexByte(s.Loc, ':'); i > 0 {
			if j := strings.LastIndexByte(s.Loc[:i], ':'); j >= 0 {
				st.Line, _ = strconv.Atoi(s.Loc[j+1 : i])
			}
		}
		steps = append(steps, st)
	}
	return steps, rec.Actions, rec.Errors
}

func deliveriesOf(ds []Delivery) []console.Delivery {
	out := make([]console.Delivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, console.Delivery{Kind: d.Kind, To: d.To, Status: d.Status, Report: d.DeliveryStatus, Error: d.LastError})
	}
	return out
}

func (b consoleBackend) Execution(ctx context.Context, sid string) (*console.Execution, error) {
	e, err := b.s.execution(ctx, sid)
	if err != nil {
		return nil, refusedOf(err)
	}
	out := &console.Execution{SID: e.SID, From: e.From, To: e.To, Body: e.Body, Flow: e.Flow, Version: e.Version,
		Outcome: e.Outcome, Received: e.Received, Answer: string(e.Answer), Deliveries: deliveriesOf(e.Deliveries)}
	out.Steps, out.Actions, out.Errors = traceOf(e.Trace)
	return out, nil
}

func (b consoleBackend) Call(ctx context.Context, sid string) (*console.CallTrace, error) {
	c, err := b.s.callExecution(ctx, sid)
	if err != nil {
		return nil, refusedOf(err)
	}
	out := &console.CallTrace{SID: c.SID, From: c.From, To: c.To, Flow: c.Flow, Version: c.Version, Started: c.Started,
		Ended: c.Ended}
	for _, st := range c.Steps {
		cs := console.CallStep{Step: st.Step, At: st.At, Event: st.Event, Outcome: st.Outcome, TwiML: st.TwiML,
			Deliveries: deliveriesOf(st.Deliveries)}
		cs.Trace, cs.Actions, cs.Errors = traceOf(st.Trace)
		out.Steps = append(out.Steps, cs)
	}
	return out, nil
}

// CompileDraft compiles a pasted flow as a deploy would (without
// applets: a pasted draft is one file).
func (b consoleBackend) CompileDraft(file, source string) (*vm.Program, diag.List) {
	progs, all, msg, err := b.s.compileBundle(DeployRequest{File: file, Source: source})
	switch {
	case msg != "":
		return nil, diag.List{{Severity: diag.Error, Message: msg}}
	case err != nil:
		return nil, diag.List{{Severity: diag.Error, Message: err.Error()}}
	case all.HasErrors() || len(progs) != 1:
		return nil, all
	}
	progs[0].File = file
	return progs[0], all
}

func (b consoleBackend) Playground() console.PlaygroundEnv {
	return console.PlaygroundEnv{Directory: b.s.directory().CheckFile(), Applets: b.s.cfg.Applets, EventBudget: b.s.cfg.EventBudget}
}

// ContactTraces lists the contact's newest interactions with the SID of
// each inbound one (a message's MessageSid; a call's CallSid, whose
// interactions are keyed by its step), from the history's index.
func (b consoleBackend) ContactTraces(ctx context.Context, contact string) ([]console.ContactTrace, error) {
	h, err := b.s.contactHistory(ctx, contact)
	if err != nil {
		return nil, err
	}
	var out []console.ContactTrace
	for _, in := range h.Recent {
		sid := in.SID
		if i := strings.IndexByte(sid, '/'); i > 0 && in.Kind == "call" {
			sid = sid[:i] // callStepSID: the call's own
		}
		out = append(out, console.ContactTrace{At: in.At, Kind: in.Kind, Direction: in.Direction, Number: in.Number, User: in.User, SID: sid})
	}
	return out, nil
}
