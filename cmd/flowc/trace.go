package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"
)

func init() {
	register(command{name: "trace", summary: "show how a message was routed, step by step with file:line (trace MESSAGE_SID)", run: runTrace})
}

func runTrace(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("trace", "flowc trace MESSAGE_SID [--json] [--server URL] [--token TOKEN]", stderr)
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
	var ex struct {
		SID      string          `json:"sid"`
		From     string          `json:"from"`
		To       string          `json:"to"`
		Body     string          `json:"body"`
		Flow     string          `json:"flow"`
		Version  string          `json:"version"`
		Outcome  string          `json:"outcome"`
		Received time.Time       `json:"received"`
		Answer   json.RawMessage `json:"answer"`
		Trace    *struct {
			Steps []struct {
				Loc, Op, Note string
			} `json:"steps"`
			Actions []string `json:"actions"`
			Errors  []string `json:"errors"`
		} `json:"trace"`
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
	if ex.Trace != nil {
		for _, s := range ex.Trace.Steps {
			note := ""
			if s.Note != "" {
				note = ": " + s.Note
			}
			fmt.Fprintf(stdout, "  · %s %s%s\n", s.Loc, s.Op, note)
		}
		for _, a := range ex.Trace.Actions {
			fmt.Fprintf(stdout, "  %s\n", a)
		}
		for _, e := range ex.Trace.Errors {
			fmt.Fprintf(stdout, "  ! %s\n", e)
		}
	}
	return exitOK
}
