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

	"github.com/flowc-dev/flowc/server"
)

// `flowc queues` shows the queue statistics (GET /v1/admin/queues): one
// line per team; `flowc queues TEAM` shows one team's and the
// conversations waiting in it, oldest first. The numbers are the
// server's (server.QueueStats), as the flowc_queue_* metrics have them.

func init() {
	register(command{name: "queues", summary: "queue statistics per team (waiting, longest wait, service level…); TEAM: its waiting conversations", run: runQueues})
}

func runQueues(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("queues", "flowc queues [TEAM] [--limit N] [--json] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	limit := fs.Int("limit", 100, "TEAM: at most this many waiting conversations, oldest first (1 to 1000)")
	asJSON := fs.Bool("json", false, "print the server's JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 1 {
		fs.Usage()
		return exitUsage
	}
	path := "/v1/admin/queues"
	if len(rest) == 1 {
		path += "/" + url.PathEscape(strings.TrimPrefix(rest[0], "team:")) + "?" + url.Values{"limit": {strconv.Itoa(*limit)}}.Encode()
	}
	var raw json.RawMessage
	if code, err := c.call("GET", path, nil, &raw, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc queues:", err)
		return clientExit(code)
	}
	if *asJSON {
		fmt.Fprintln(stdout, strings.TrimSpace(string(raw)))
		return exitOK
	}
	if len(rest) == 0 {
		var out server.QueuesResponse
		if err := json.Unmarshal(raw, &out); err != nil {
			fmt.Fprintln(stderr, "flowc queues: reading the server's answer:", err)
			return exitUsage
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TEAM\tWAITING\tLONGEST\tSL\tENTERED\tOFFERED\tACCEPTED\tABANDONED\tTRANSFERRED\tRETURNED\tFINISHED\tFULL")
		for _, q := range out.Queues {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", q.Team, q.Waiting, waitString(q.LongestWaitSeconds), slString(q),
				q.Entered, q.Offered, q.Accepted, q.Abandoned, q.Transferred, q.Returned, q.Finished, q.Full)
		}
		tw.Flush()
		return exitOK
	}
	var out server.QueueResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		fmt.Fprintln(stderr, "flowc queues: reading the server's answer:", err)
		return exitUsage
	}
	q := out.Stats
	fmt.Fprintf(stdout, "%s: %d waiting, longest %s, service level %s\n", q.Team, q.Waiting, waitString(q.LongestWaitSeconds), slString(q))
	fmt.Fprintf(stdout, "entered %d, offered %d, accepted %d (%d within the service level), abandoned %d (%d after it), transferred %d, returned %d, finished %d, closed %d, full %d\n",
		q.Entered, q.Offered, q.Accepted, q.WithinSL, q.Abandoned, q.AbandonedAfterSL, q.Transferred, q.Returned, q.Finished, q.Closed, q.Full)
	if len(out.Waiting) == 0 {
		return exitOK
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "POS\tCONTACT\tNUMBER\tSTATUS\tOFFERED TO\tSINCE\tWAIT\tCONVERSATION")
	for _, w := range out.Waiting {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", w.Position, w.Contact, w.Number, w.Status, strings.Join(w.Offered, ","),
			w.Since.UTC().Format(time.RFC3339), waitString(w.WaitSeconds), w.Conversation)
	}
	tw.Flush()
	if out.More {
		fmt.Fprintf(stdout, "(more are waiting: --limit %d shows the first %d)\n", *limit, len(out.Waiting))
	}
	return exitOK
}

// waitString is a wait to the second ("-": none).
func waitString(seconds float64) string {
	if seconds <= 0 {
		return "-"
	}
	return time.Duration(seconds * float64(time.Second)).Round(time.Second).String()
}

// slString is the service level in percent with what it is made of,
// "-" while nothing was taken or abandoned after it.
func slString(q server.QueueStats) string {
	if q.ServiceLevelPercent == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", *q.ServiceLevelPercent, q.WithinSL, q.Accepted+q.AbandonedAfterSL)
}
