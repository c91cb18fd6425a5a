package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	register(command{name: "conversations", summary: "an agent's queued conversations: list, show, accept, reply, transfer, finish, note", run: runConversations})
}

// agentFlags is adminFlags for the agent API: the token is a per-user
// one (`flowc users token NAME`), from $FLOWC_AGENT_TOKEN.
func agentFlags(fs *flag.FlagSet) *adminClient {
	c := adminFlags(fs)
	fs.Lookup("token").Usage = "the agent's own API token ($FLOWC_AGENT_TOKEN; an admin makes it with `flowc users token NAME`)"
	c.token = os.Getenv("FLOWC_AGENT_TOKEN")
	fs.Lookup("token").DefValue = ""
	return c
}

type agentConversation struct {
	ID       string    `json:"id"`
	Contact  string    `json:"contact"`
	Number   string    `json:"number"`
	Flow     string    `json:"flow"`
	Team     string    `json:"team"`
	Status   string    `json:"status"`
	Assignee string    `json:"assignee"`
	Offered  []string  `json:"offered"`
	Since    time.Time `json:"since"`
	Position int       `json:"position"`
}

func runConversations(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const usage = "flowc conversations [list | show ID | accept ID | reply ID TEXT | transfer ID user:NAME|team:NAME | finish ID | note ID TEXT] [--json] [--server URL] [--token TOKEN]"
	fs := newFlagSet("conversations", usage, stderr)
	c := agentFlags(fs)
	asJSON := fs.Bool("json", false, "print the server's JSON answer")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "flowc conversations:", err)
		return clientExit(code)
	}
	if c.token == "" {
		return fail(0, fmt.Errorf("no agent token: pass --token or set FLOWC_AGENT_TOKEN (an admin makes one with `flowc users token NAME`)"))
	}
	if len(rest) == 0 {
		rest = []string{"list"}
	}
	path := func(id, action string) string {
		p := "/v1/agent/conversations/" + url.PathEscape(id)
		if action != "" {
			p += "/" + action
		}
		return p
	}
	var raw json.RawMessage
	switch verb := rest[0]; {
	case verb == "list" && len(rest) == 1:
		var out struct {
			User          string              `json:"user"`
			Conversations []agentConversation `json:"conversations"`
		}
		if code, err := c.call("GET", "/v1/agent/conversations", nil, &raw, stderr); err != nil {
			return fail(code, err)
		}
		if *asJSON {
			return printRaw(stdout, raw)
		}
		json.Unmarshal(raw, &out)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tTEAM\tCONTACT\tPOSITION\tSINCE")
		for _, cv := range out.Conversations {
			pos := "-"
			if cv.Position > 0 {
				pos = fmt.Sprint(cv.Position)
			}
			status := cv.Status
			if status == "offered" || status == "transferring" {
				status += " to " + strings.Join(cv.Offered, ", ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cv.ID, status, cv.Team, cv.Contact, pos, cv.Since.Format(time.RFC3339))
		}
		tw.Flush()
	case verb == "show" && len(rest) == 2:
		if code, err := c.call("GET", path(rest[1], ""), nil, &raw, stderr); err != nil {
			return fail(code, err)
		}
		if *asJSON {
			return printRaw(stdout, raw)
		}
		var th struct {
			agentConversation
			Messages []struct {
				Body     string    `json:"Body"`
				Media    []string  `json:"Media"`
				Received time.Time `json:"Received"`
			} `json:"messages"`
			Notes []struct {
				User    string    `json:"user"`
				Text    string    `json:"text"`
				Created time.Time `json:"created"`
			} `json:"notes"`
			Replies []struct {
				Text   string    `json:"text"`
				User   string    `json:"user"`
				At     time.Time `json:"at"`
				Status string    `json:"status"`
			} `json:"replies"`
		}
		json.Unmarshal(raw, &th)
		fmt.Fprintf(stdout, "%s  %s  team %s  contact %s  number %s\n", th.ID, th.Status, th.Team, th.Contact, th.Number)
		for _, m := range th.Messages {
			fmt.Fprintf(stdout, "  %s  %q %s\n", m.Received.Format("15:04"), m.Body, strings.Join(m.Media, " "))
		}
		for _, r := range th.Replies {
			by := r.User
			if by == "" {
				by = "the flow"
			}
			fmt.Fprintf(stdout, "  %s  reply by %s (%s): %q\n", r.At.Format("15:04"), by, r.Status, r.Text)
		}
		for _, n := range th.Notes {
			fmt.Fprintf(stdout, "  note by %s at %s: %s\n", n.User, n.Created.Format("15:04"), n.Text)
		}
	case (verb == "accept" || verb == "finish") && len(rest) == 2,
		(verb == "reply" || verb == "transfer" || verb == "note") && len(rest) == 3:
		body := map[string]string{}
		action := verb
		switch verb {
		case "reply":
			body["text"] = rest[2]
		case "note":
			body["text"], action = rest[2], "notes"
		case "transfer":
			body["to"] = rest[2]
		}
		if code, err := c.call("POST", path(rest[1], action), body, &raw, stderr); err != nil {
			return fail(code, err)
		}
		if *asJSON {
			return printRaw(stdout, raw)
		}
		var res struct {
			Event   string   `json:"event"`
			Offered []string `json:"offered"`
		}
		json.Unmarshal(raw, &res)
		switch {
		case verb == "note":
			fmt.Fprintf(stdout, "noted on %s\n", rest[1])
		case len(res.Offered) > 0:
			fmt.Fprintf(stdout, "%s: offered to %s\n", res.Event, strings.Join(res.Offered, ", "))
		default:
			fmt.Fprintln(stdout, res.Event)
		}
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}

func printRaw(w io.Writer, raw json.RawMessage) int {
	w.Write(raw)
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		fmt.Fprintln(w)
	}
	return exitOK
}
