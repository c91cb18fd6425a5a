package main

import (
	"fmt"
	"io"
	"net/url"
)

func init() {
	register(command{name: "promote", summary: "make a flow's draft its active version, for everyone", run: runPromote})
}

func runPromote(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("promote", "flowc promote FLOW [VERSION] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) < 1 || len(paths) > 2 {
		fs.Usage()
		return exitUsage
	}
	body := map[string]string{}
	if len(paths) == 2 {
		body["version"] = paths[1] // must be the draft's: one promotes what one tested
	}
	var out struct {
		Flow          string   `json:"flow"`
		ActiveVersion string   `json:"active_version"`
		Numbers       []string `json:"numbers"`
	}
	if code, err := c.call("POST", "/v1/admin/flows/"+url.PathEscape(paths[0])+"/promote", body, &out, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc promote:", err)
		return clientExit(code)
	}
	fmt.Fprintf(stdout, "%s now runs version %s for everyone (numbers: %v; conversations in flight finish on theirs)\n", out.Flow, short(out.ActiveVersion), out.Numbers)
	return exitOK
}
