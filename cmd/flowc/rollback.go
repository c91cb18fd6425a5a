package main

import (
	"fmt"
	"io"
	"net/url"
)

func init() {
	register(command{name: "rollback", summary: "make an earlier version of a flow active again", run: runRollback})
}

func runRollback(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("rollback", "flowc rollback FLOW VERSION [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 2 {
		fs.Usage()
		return exitUsage
	}
	var out struct {
		Flow          string `json:"flow"`
		ActiveVersion string `json:"active_version"`
	}
	if code, err := c.call("POST", "/v1/admin/flows/"+url.PathEscape(paths[0])+"/rollback", map[string]string{"version": paths[1]}, &out, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc rollback:", err)
		return clientExit(code)
	}
	fmt.Fprintf(stdout, "%s now runs version %s (conversations in flight finish on theirs)\n", out.Flow, short(out.ActiveVersion))
	return exitOK
}
