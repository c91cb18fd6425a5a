package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	register(command{name: "inbox", summary: "list a user's or team's inbox (inbox team:sales), or mark an item done (inbox done ID)", run: runInbox})
}

func runInbox(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("inbox", "flowc inbox (user:NAME | team:NAME) [--all] | flowc inbox done ID   [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	all := fs.Bool("all", false, "include items already done")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	switch {
	case len(paths) == 2 && paths[0] == "done":
		if code, err := c.call("POST", "/v1/admin/inbox/items/"+url.PathEscape(paths[1])+"/done", nil, nil, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc inbox:", err)
			return clientExit(code)
		}
		fmt.Fprintf(stdout, "item %s done\n", paths[1])
		return exitOK
	case len(paths) == 1:
		kind, name, ok := strings.Cut(paths[0], ":")
		if !ok || (kind != "user" && kind != "team") || name == "" {
			fmt.Fprintf(stderr, "flowc inbox: %q: write user:NAME or team:NAME\n", paths[0])
			return exitUsage
		}
		type item struct {
			ID         int64
			Assignee   string
			Contact    string
			Body       string
			Flow       string
			MessageSID string
			Created    time.Time
			Done       bool
			Replies    []delivery `json:"replies"`
			// What the contact wrote in the conversation (none for an
			// item stored before the server kept them).
			Messages        []inboxMessage
			MessagesOmitted int
		}
		// The server answers a page at a time: follow "next" to the end.
		// A server from before pages answers every item as a bare array.
		var items []item
		for cursor := ""; ; {
			q := url.Values{"limit": {"1000"}, "cursor": {cursor}}
			if *all {
				q.Set("all", "true")
			}
			var raw json.RawMessage
			if code, err := c.call("GET", "/v1/admin/inbox/"+kind+"/"+url.PathEscape(name)+"?"+q.Encode(), nil, &raw, stderr); err != nil {
				fmt.Fprintln(stderr, "flowc inbox:", err)
				return clientExit(code)
			}
			var page struct {
				Items []item `json:"items"`
				Next  string `json:"next"`
			}
			if len(raw) > 0 && raw[0] == '[' {
				err = json.Unmarshal(raw, &page.Items)
			} else {
				err = json.Unmarshal(raw, &page)
			}
			if err != nil {
				fmt.Fprintln(stderr, "flowc inbox: the server's answer:", err)
				return exitFail
			}
			items = append(items, page.Items...)
			if page.Next == "" || page.Next == cursor {
				break
			}
			cursor = page.Next
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		// The contact's messages are the last column, one a line: the
		// continuation lines have an empty cell in every other column, so
		// that the columns stay aligned across items.
		fmt.Fprintln(tw, "ID\tRECEIVED\tFROM\tASSIGNEE\tFLOW\tDONE\tREPLIES\tMESSAGES")
		for _, it := range items {
			done := ""
			if it.Done {
				done = "done"
			}
			// What became of what was sent about it (a timer's reply, a
			// forward): "sms delivered 10:04", …
			var replies []string
			for _, d := range it.Replies {
				r := d.Kind + " " + d.state()
				if d.DeliveryAt != nil {
					r += " " + d.DeliveryAt.Format("15:04")
				} else if d.DoneAt != nil {
					r += " " + d.DoneAt.Format("15:04")
				}
				replies = append(replies, r)
			}
			lines := []string{strconv.Quote(it.Body)}
			if len(it.Messages) > 0 {
				lines = lines[:0]
				if it.MessagesOmitted > 0 {
					lines = append(lines, fmt.Sprintf("(%d earlier not shown)", it.MessagesOmitted))
				}
				for _, m := range it.Messages {
					lines = append(lines, m.line(it.Created))
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Created.Format("2006-01-02 15:04"), it.Contact, it.Assignee, it.Flow, done, strings.Join(replies, "; "), lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(tw, "\t\t\t\t\t\t\t%s\n", l)
			}
		}
		tw.Flush()
		return exitOK
	}
	fs.Usage()
	return exitUsage
}

// inboxMessage is one message of an inbox item (the server's
// store.InboxMessage).
type inboxMessage struct {
	SID      string
	Body     string
	Media    []string
	Received time.Time
	Clipped  bool
}

// line is m as `flowc inbox` prints it: its time (with the date when it
// is not the item's day), the quoted text, the media URLs.
func (m inboxMessage) line(item time.Time) string {
	when := m.Received.Format("15:04")
	if m.Received.Format("2006-01-02") != item.Format("2006-01-02") {
		when = m.Received.Format("2006-01-02 15:04")
	}
	parts := append([]string{when, strconv.Quote(m.Body)}, m.Media...)
	if m.Clipped {
		parts = append(parts, "(clipped)")
	}
	return strings.Join(parts, " ")
}
