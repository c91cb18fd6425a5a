package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/server"
)

func init() {
	register(command{name: "trace", summary: "show how a message or a call was routed, step by step with file:line (trace MESSAGE_SID | CALL_SID)", run: runTrace})
}

func runTrace(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("trace", "flowc trace MESSAGE_SID|CALL_SID [--json] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	if strings.HasPrefix(paths[0], "CA") { // Twilio's CallSids start CA, MessageSids SM or MM
		return traceCall(c, paths[0], *asJSON, stdout, stderr)
	}
	var ex struct {
		SID        string          `json:"sid"`
		From       string          `json:"from"`
		To         string          `json:"to"`
		Body       string          `json:"body"`
		Flow       string          `json:"flow"`
		Version    string          `json:"version"`
		Outcome    string          `json:"outcome"`
		Received   time.Time       `json:"received"`
		Answer     json.RawMessage `json:"answer"`
		Trace      *executionTrace `json:"trace"`
		Deliveries []delivery      `json:"deliveries"`
	}
	if code, err := c.call("GET", "/v1/admin/executions/"+url.PathEscape(paths[0]), nil, &ex, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc trace:", err)
		return clientExit(code)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(ex)
		return exitOK
	}
	fmt.Fprintf(stdout, "message %s from %s to %s at %s: %q\n", ex.SID, ex.From, ex.To, ex.Received.Format(time.RFC3339), ex.Body)
	fmt.Fprintf(stdout, "flow %s version %s: %s\n", ex.Flow, short(ex.Version), ex.Outcome)
	ex.Trace.print(stdout, "  ")
	for _, d := range ex.Deliveries {
		fmt.Fprintf(stdout, "  → %s\n", d.describe())
	}
	return exitOK
}

// executionTrace is a step's execution record (server/trace.go's JSON).
type executionTrace struct {
	Steps []struct {
		Loc, Op, Note string
	} `json:"steps"`
	Actions []string `json:"actions"`
	Errors  []string `json:"errors"`
}

func (t *executionTrace) print(w io.Writer, indent string) {
	if t == nil {
		return
	}
	for _, s := range t.Steps {
		note := ""
		if s.Note != "" {
			note = ": " + s.Note
		}
		fmt.Fprintf(w, "%s· %s %s%s\n", indent, s.Loc, s.Op, note)
	}
	for _, a := range t.Actions {
		fmt.Fprintf(w, "%s%s\n", indent, a)
	}
	for _, e := range t.Errors {
		fmt.Fprintf(w, "%s! %s\n", indent, e)
	}
}

// traceCall prints a call step by step (GET /v1/admin/calls/{sid}).
func traceCall(c *adminClient, sid string, asJSON bool, stdout, stderr io.Writer) int {
	var call server.CallExecution
	var raw json.RawMessage
	if code, err := c.call("GET", "/v1/admin/calls/"+url.PathEscape(sid), nil, &raw, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc trace:", err)
		return clientExit(code)
	}
	if asJSON {
		var v any
		json.Unmarshal(raw, &v)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // the TwiML reads as written
		enc.Encode(v)
		return exitOK
	}
	if err := json.Unmarshal(raw, &call); err != nil {
		fmt.Fprintln(stderr, "flowc trace: the server's answer:", err)
		return exitUsage
	}
	state := "in progress"
	if call.Ended != nil {
		state = "ended " + call.Ended.Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "call %s from %s to %s at %s (%s)\n", call.SID, call.From, call.To, call.Started.Format(time.RFC3339), state)
	fmt.Fprintf(stdout, "flow %s version %s\n", call.Flow, short(call.Version))
	for _, st := range call.Steps {
		fmt.Fprintf(stdout, "step %d at %s: %s\n", st.Step, st.At.Format("15:04:05"), st.Event)
		var tr *executionTrace
		json.Unmarshal(st.Trace, &tr)
		tr.print(stdout, "  ")
		for _, d := range st.Deliveries {
			fmt.Fprintf(stdout, "  → %s\n", delivery(d).describe())
		}
	}
	return exitOK
}

// delivery is an outbox item as the admin API shows it (server.Delivery).
type delivery struct {
	ID             int64      `json:"id"`
	Kind           string     `json:"kind"`
	To             string     `json:"to"`
	From           string     `json:"from"`
	MessageSID     string     `json:"message_sid"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error"`
	Created        time.Time  `json:"created"`
	NotBefore      *time.Time `json:"not_before"`
	DoneAt         *time.Time `json:"done_at"`
	AgeSeconds     float64    `json:"age_seconds"`
	ProviderSID    string     `json:"provider_sid"`
	DeliveryStatus string     `json:"delivery_status"`
	DeliveryError  string     `json:"delivery_error"`
	DeliveryAt     *time.Time `json:"delivery_at"`
}

// state is what became of it, in a few words: the provider's latest
// report when there is one ("delivered", "undelivered (error 30003)"),
// else the outbox status.
func (d delivery) state() string {
	switch {
	case d.DeliveryStatus != "" && d.DeliveryError != "":
		return d.DeliveryStatus + " (error " + d.DeliveryError + ")"
	case d.DeliveryStatus != "":
		return d.DeliveryStatus
	case d.Status == "pending" && d.Attempts > 0:
		return fmt.Sprintf("pending (%d attempts)", d.Attempts)
	}
	return d.Status
}

// describe is one line: kind, recipient, state, when, and why it failed.
func (d delivery) describe() string {
	s := fmt.Sprintf("%s %d to %s: %s", d.Kind, d.ID, d.To, d.state())
	when := d.DeliveryAt
	if when == nil {
		when = d.DoneAt
	}
	if when != nil {
		s += " at " + when.Format(time.RFC3339)
	}
	if d.ProviderSID != "" {
		s += " [" + d.ProviderSID + "]"
	}
	if d.LastError != "" {
		s += ": " + d.LastError
	}
	return s
}
