package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"
)

func init() {
	register(command{name: "users", summary: "agents' own API tokens (make, list, revoke) and availability", run: runUsers})
}

func runUsers(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("users", "flowc users token NAME [--label L] | tokens NAME | revoke NAME ID | available NAME on|off [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	label := fs.String("label", "", "token: what the token is for (a device, a platform)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "flowc users:", err)
		return clientExit(code)
	}
	tokens := func(user string) string { return "/v1/admin/users/" + url.PathEscape(user) + "/tokens" }
	switch {
	case len(rest) == 2 && rest[0] == "token":
		var out struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		var body any
		if *label != "" {
			body = map[string]string{"label": *label}
		}
		if code, err := c.call("POST", tokens(rest[1]), body, &out, stderr); err != nil {
			return fail(code, err)
		}
		fmt.Fprintln(stdout, out.Token)
		fmt.Fprintf(stderr, "token %d for %s: shown this once; the agent passes it as --token or $FLOWC_AGENT_TOKEN\n", out.ID, rest[1])
	case len(rest) == 2 && rest[0] == "tokens":
		var list []struct {
			ID      int64     `json:"id"`
			Label   string    `json:"label"`
			Created time.Time `json:"created"`
			Revoked time.Time `json:"revoked"`
		}
		if code, err := c.call("GET", tokens(rest[1]), nil, &list, stderr); err != nil {
			return fail(code, err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := "-"
			if !t.Revoked.IsZero() {
				revoked = t.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.ID, t.Label, t.Created.Format(time.RFC3339), revoked)
		}
		tw.Flush()
	case len(rest) == 3 && rest[0] == "revoke":
		if code, err := c.call("DELETE", tokens(rest[1])+"/"+url.PathEscape(rest[2]), nil, nil, stderr); err != nil {
			return fail(code, err)
		}
		fmt.Fprintf(stdout, "revoked token %s of %s\n", rest[2], rest[1])
	case len(rest) == 3 && rest[0] == "available" && (rest[2] == "on" || rest[2] == "off"):
		on := rest[2] == "on"
		if code, err := c.call("PATCH", "/v1/admin/directory/users/"+url.PathEscape(rest[1]), map[string]bool{"available": on}, nil, stderr); err != nil {
			return fail(code, err)
		}
		fmt.Fprintf(stdout, "%s is %s\n", rest[1], map[bool]string{true: "available", false: "away"}[on])
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}
