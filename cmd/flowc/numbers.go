package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
)

func init() {
	register(command{name: "numbers", summary: "list numbers and their flows; assign NUMBER FLOW; unassign NUMBER", run: runNumbers})
}

func runNumbers(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("numbers", "flowc numbers [assign NUMBER FLOW | unassign NUMBER] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	switch {
	case len(paths) == 0:
		var out struct {
			Routed []struct {
				Number, Flow, Version string
			} `json:"routed"`
			Unrouted []string `json:"unrouted"`
		}
		// The server answers a page at a time: follow "next" to the end.
		for cursor := ""; ; {
			var page struct {
				Routed []struct {
					Number, Flow, Version string
				} `json:"routed"`
				Unrouted []string `json:"unrouted"`
				Next     string   `json:"next"`
			}
			q := url.Values{"limit": {"1000"}, "cursor": {cursor}}
			if code, err := c.call("GET", "/v1/admin/numbers?"+q.Encode(), nil, &page, stderr); err != nil {
				fmt.Fprintln(stderr, "flowc numbers:", err)
				return clientExit(code)
			}
			out.Routed = append(out.Routed, page.Routed...)
			out.Unrouted = append(out.Unrouted, page.Unrouted...)
			if page.Next == "" || page.Next == cursor {
				break
			}
			cursor = page.Next
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NUMBER\tFLOW\tVERSION")
		for _, r := range out.Routed {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Number, r.Flow, short(r.Version))
		}
		for _, n := range out.Unrouted {
			fmt.Fprintf(tw, "%s\t(no flow: texts to it are not routed)\t\n", n)
		}
		tw.Flush()
	case len(paths) == 3 && paths[0] == "assign":
		if code, err := c.call("PUT", "/v1/admin/numbers/"+url.PathEscape(paths[1]), map[string]string{"flow": paths[2]}, nil, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc numbers:", err)
			return clientExit(code)
		}
		fmt.Fprintf(stdout, "%s → %s\n", paths[1], paths[2])
	case len(paths) == 2 && paths[0] == "unassign":
		if code, err := c.call("DELETE", "/v1/admin/numbers/"+url.PathEscape(paths[1]), nil, nil, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc numbers:", err)
			return clientExit(code)
		}
		fmt.Fprintf(stdout, "%s no longer routed\n", paths[1])
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}
