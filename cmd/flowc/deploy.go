package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
)

func init() {
	register(command{name: "deploy", summary: "deploy a .flow file to a running server (a new immutable version)", run: runDeploy})
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// deployWarning is a diagnostic in the server's deploy answer.
type deployWarning struct {
	File    string `json:"file"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Range   struct {
		Start struct{ Line, Column int } `json:"start"`
	} `json:"range"`
}

func runDeploy(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("deploy", "flowc deploy FILE.flow [--strict] [--draft --test-contact +1555… …] [--diff [--days 7]] [--by NAME] [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	strict := fs.Bool("strict", false, "refuse the flow when it has warnings (dead ends, missing branches)")
	draft := fs.Bool("draft", false, "deploy as the flow's draft: it answers only the --test-contact numbers until `flowc promote`")
	var contacts stringList
	fs.Var(&contacts, "test-contact", "a number the draft answers (repeat for several)")
	diff := fs.Bool("diff", false, "change nothing: list the recent first messages this version would route differently from the active one")
	days := fs.Int("days", 7, "with --diff: how many days of messages to replay")
	by := fs.String("by", "", "who deploys, kept with a new version (default: USER@HOST of this machine)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(paths) != 1:
		fs.Usage()
		return exitUsage
	case len(contacts) > 0 && !*draft:
		fmt.Fprintln(stderr, "flowc deploy: --test-contact is for a --draft")
		return exitUsage
	case *draft && len(contacts) == 0:
		fmt.Fprintln(stderr, "flowc deploy: a --draft needs at least one --test-contact: the numbers it answers until it is promoted")
		return exitUsage
	case set["days"] && !*diff:
		fmt.Fprintln(stderr, "flowc deploy: --days is for --diff")
		return exitUsage
	case *diff && *draft:
		fmt.Fprintln(stderr, "flowc deploy: --diff changes nothing; it cannot be a --draft")
		return exitUsage
	}
	req, code := deployBundle(paths[0], stderr)
	if req == nil {
		return code
	}
	if *diff {
		req["days"] = *days
		return runDiff(c, req, stdout, stderr)
	}
	if *strict {
		req["strict"] = true
	}
	req["deployed_by"] = deployer(*by)
	if *draft {
		req["draft"], req["test_contacts"] = true, []string(contacts)
	}
	var out struct {
		Flow         string          `json:"flow"`
		Version      string          `json:"version"`
		Status       string          `json:"status"`
		Numbers      []string        `json:"numbers"`
		TestContacts []string        `json:"test_contacts"`
		Warnings     []deployWarning `json:"warnings"`
	}
	if code, err := c.call("POST", "/v1/admin/flows", req, &out, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc deploy:", err)
		return clientExit(code)
	}
	printWarnings(stderr, out.Warnings)
	switch out.Status {
	case "unchanged":
		fmt.Fprintf(stdout, "%s unchanged (version %s)\n", out.Flow, short(out.Version))
	case "activated":
		fmt.Fprintf(stdout, "%s version %s is active again (numbers: %v)\n", out.Flow, short(out.Version), out.Numbers)
	case "draft":
		fmt.Fprintf(stdout, "draft %s version %s answers %v only; promote it with: flowc promote %s %s\n",
			out.Flow, short(out.Version), out.TestContacts, out.Flow, short(out.Version))
	default:
		fmt.Fprintf(stdout, "deployed %s version %s (numbers: %v)\n", out.Flow, short(out.Version), out.Numbers)
	}
	return exitOK
}

func printWarnings(w io.Writer, ws []deployWarning) {
	for _, d := range ws {
		fmt.Fprintf(w, "%s:%d:%d: warning: %s [%s]\n", d.File, d.Range.Start.Line, d.Range.Start.Column, d.Message, d.Code)
	}
}

// deployBundle reads the request body of a deploy: the flow and the
// applets it declares, by the paths it declares them with, read with the
// rules the server applies (inside the flow's directory, regular files
// within the size limit). The server reads nothing else; what is missing
// it reports at the line.
func deployBundle(path string, stderr io.Writer) (map[string]any, int) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "flowc deploy:", err)
		return nil, exitUsage
	}
	req := map[string]any{"file": filepath.Base(path), "source": string(src)}
	if res, err := lang.Load([]string{path}); err == nil && len(res.Infos) == 1 {
		applets := map[string]string{}
		for _, a := range res.Infos[0].Applets {
			if a.File == "" {
				continue // refused by the check: the server says why
			}
			if b, err := check.ReadApplet(res.Files[0].Source.Files(), a.File); err == nil {
				applets[a.File] = string(b)
			}
		}
		if len(applets) > 0 {
			req["applets"] = applets
		}
	}
	return req, exitOK
}

// runDiff prints which replayed first messages the new version routes
// differently; it changes nothing on the server.
func runDiff(c *adminClient, req map[string]any, stdout, stderr io.Writer) int {
	type routing struct {
		Outcome    string   `json:"outcome"`
		Replies    []string `json:"replies"`
		Deliveries []string `json:"deliveries"`
		Forwards   []string `json:"forwards"`
		Tags       []string `json:"tags"`
	}
	var out struct {
		Flow          string `json:"flow"`
		Version       string `json:"version"`
		ActiveVersion string `json:"active_version"`
		Replayed      int    `json:"replayed"`
		Truncated     bool   `json:"truncated"`
		Changed       []struct {
			SID      string  `json:"sid"`
			From     string  `json:"from"`
			To       string  `json:"to"`
			Body     string  `json:"body"`
			Received string  `json:"received"`
			Active   routing `json:"active"`
			New      routing `json:"new"`
		} `json:"changed"`
		Warnings []deployWarning `json:"warnings"`
	}
	if code, err := c.call("POST", "/v1/admin/flows/diff", req, &out, stderr); err != nil {
		fmt.Fprintln(stderr, "flowc deploy --diff:", err)
		return clientExit(code)
	}
	printWarnings(stderr, out.Warnings)
	fmt.Fprintf(stdout, "%s: version %s against active %s: %d of %d first messages of the last %v days routed differently (nothing was changed)\n",
		out.Flow, short(out.Version), short(out.ActiveVersion), len(out.Changed), out.Replayed, req["days"])
	if out.Truncated {
		fmt.Fprintln(stdout, "  (only the latest messages were replayed: there were more than the server replays at once)")
	}
	show := func(r routing) string {
		var parts []string
		parts = append(parts, r.Outcome)
		for _, x := range r.Replies {
			parts = append(parts, fmt.Sprintf("reply %q", x))
		}
		for _, x := range r.Deliveries {
			parts = append(parts, "inbox "+x)
		}
		for _, x := range r.Forwards {
			parts = append(parts, "forward "+x)
		}
		for _, x := range r.Tags {
			parts = append(parts, "tag "+x)
		}
		return strings.Join(parts, "; ")
	}
	for _, ch := range out.Changed {
		fmt.Fprintf(stdout, "%s %s from %s to %s: %q\n  active: %s\n  new:    %s\n", ch.Received, ch.SID, ch.From, ch.To, ch.Body, show(ch.Active), show(ch.New))
	}
	return exitOK
}

// deployer is who a deploy says deploys: --by, else USER@HOST of this
// machine (as a commit's author names who made it).
func deployer(by string) string {
	if by != "" {
		return by
	}
	name := "someone"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		return name + "@" + host
	}
	return name
}
