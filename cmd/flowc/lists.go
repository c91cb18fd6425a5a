package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
)

func init() {
	register(command{name: "lists", summary: "show the operator's lists (list(\"NAME\") in flows); add or remove one entry", run: runLists})
}

func runLists(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("lists", "flowc lists [NAME | add NAME ENTRY | remove NAME ENTRY] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "flowc lists:", err)
		return clientExit(code)
	}
	entryPath := func(name, entry string) string {
		return "/v1/admin/lists/" + url.PathEscape(name) + "/" + url.PathEscape(entry)
	}
	switch {
	case len(paths) == 0:
		var lists []struct {
			Name    string `json:"name"`
			Entries int    `json:"entries"`
		}
		if code, err := c.call("GET", "/v1/admin/lists", nil, &lists, stderr); err != nil {
			return fail(code, err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LIST\tENTRIES")
		for _, l := range lists {
			fmt.Fprintf(tw, "%s\t%d\n", l.Name, l.Entries)
		}
		tw.Flush()
	case len(paths) == 1:
		var l struct {
			Entries []string `json:"entries"`
		}
		if code, err := c.call("GET", "/v1/admin/lists/"+url.PathEscape(paths[0]), nil, &l, stderr); err != nil {
			return fail(code, err)
		}
		for _, e := range l.Entries {
			fmt.Fprintln(stdout, e)
		}
	case len(paths) == 3 && paths[0] == "add":
		var out struct {
			Added bool `json:"added"`
		}
		if code, err := c.call("PUT", entryPath(paths[1], paths[2]), nil, &out, stderr); err != nil {
			return fail(code, err)
		}
		if out.Added {
			fmt.Fprintf(stdout, "added %s to %s\n", paths[2], paths[1])
		} else {
			fmt.Fprintf(stdout, "%s was already on %s\n", paths[2], paths[1])
		}
	case len(paths) == 3 && paths[0] == "remove":
		if code, err := c.call("DELETE", entryPath(paths[1], paths[2]), nil, nil, stderr); err != nil {
			return fail(code, err)
		}
		fmt.Fprintf(stdout, "removed %s from %s\n", paths[2], paths[1])
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}
