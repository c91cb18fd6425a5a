package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

func init() {
	register(command{name: "outbox", summary: "list the outbox: replies and forwards waiting (or sent, dropped), with attempts and delivery reports", run: runOutbox})
}

func runOutbox(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("outbox", "flowc outbox [--status pending|sent|dropped|all] [--limit N] [--json] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	status := fs.String("status", "pending", "which items: pending, sent, dropped or all")
	limit := fs.Int("limit", 100, "at most this many items, oldest first (1 to 1000)")
	asJSON := fs.Bool("json", false, "print the server's JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) != 0 {
		fs.Usage()
		return exitUsage
	}
	q := url.Values{"status": {*status}, "limit": {strconv.Itoa(*limit)}}
	var items []delivery
	if code, err := c.call("GET", "/v1/admin/outbox?"+q.Encode(), nil, &items, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc outbox:", err)
		return clientExit(code)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(items)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTO\tSTATE\tATTEMPTS\tAGE\tNEXT TRY\tERROR")
	for _, d := range items {
		next := ""
		if d.Status == "pending" && d.NotBefore != nil {
			next = d.NotBefore.Format(time.RFC3339)
		}
		age := (time.Duration(d.AgeSeconds) * time.Second).String()
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Kind, d.To, d.state(), d.Attempts, age, next, d.LastError)
	}
	tw.Flush()
	return exitOK
}
