package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
)

// `flowc numbers`: every number the server knows (the directory's, the
// Twilio account's as `flowc numbers sync` stored them, the routed ones,
// the ones texts reached with no flow), each with its SMS flow and call
// flow, and the ones missing in red (smrtPhone's "Seeing Red": every
// number needs a call flow). The listing is for people: it exits 0
// whatever is missing; scripts read GET /v1/admin/numbers.

func init() {
	register(command{name: "numbers", summary: "list numbers with their SMS and call flows, the missing ones red; sync; assign NUMBER FLOW; unassign NUMBER", run: runNumbers})
}

const numbersUsage = "flowc numbers [sync | assign NUMBER FLOW | unassign NUMBER [--calls | --texts]] [--server URL] [--token TOKEN]"

// numberInfo is server.NumberInfo as the client reads it.
type numberInfo struct {
	Number       string   `json:"number"`
	Name         string   `json:"name"`
	Owned        []string `json:"owned"`
	Capabilities *struct {
		SMS   bool `json:"sms"`
		Voice bool `json:"voice"`
	} `json:"capabilities"`
	SMSFlow        string   `json:"sms_flow"`
	SMSVersion     string   `json:"sms_version"`
	CallFlow       string   `json:"call_flow"`
	CallVersion    string   `json:"call_version"`
	TextedUnrouted bool     `json:"texted_unrouted"`
	Missing        []string `json:"missing"`
}

func runNumbers(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("numbers", numbersUsage, stderr)
	c := adminFlags(fs)
	calls := fs.Bool("calls", false, "unassign: stop routing the number's calls only")
	texts := fs.Bool("texts", false, "unassign: stop routing the number's texts only")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if (*calls || *texts) && (len(paths) == 0 || paths[0] != "unassign") {
		fmt.Fprintln(stderr, "flowc numbers: --calls and --texts go with unassign")
		return exitUsage
	}
	switch {
	case len(paths) == 0:
		var all []numberInfo
		// The server answers a page at a time: follow "next" to the end.
		for cursor := ""; ; {
			var page struct {
				Numbers []numberInfo `json:"numbers"`
				Next    string       `json:"next"`
			}
			q := url.Values{"limit": {"1000"}, "cursor": {cursor}}
			if code, err := c.call("GET", "/v1/admin/numbers?"+q.Encode(), nil, &page, stderr); err != nil {
				fmt.Fprintln(stderr, "flowc numbers:", err)
				return clientExit(code)
			}
			all = append(all, page.Numbers...)
			if page.Next == "" || page.Next == cursor {
				break
			}
			cursor = page.Next
		}
		printNumbers(stdout, all, colorOK(stdout))
	case len(paths) == 1 && paths[0] == "sync":
		var out struct {
			Numbers int      `json:"numbers"`
			Added   []string `json:"added"`
			Removed []string `json:"removed"`
		}
		if code, err := c.call("POST", "/v1/admin/numbers/sync", nil, &out, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc numbers sync:", err)
			return clientExit(code)
		}
		fmt.Fprintf(stdout, "the Twilio account holds %d numbers: %d new, %d removed\n", out.Numbers, len(out.Added), len(out.Removed))
		for _, n := range out.Added {
			fmt.Fprintf(stdout, "  + %s\n", n)
		}
		for _, n := range out.Removed {
			fmt.Fprintf(stdout, "  - %s (no longer at Twilio)\n", n)
		}
	case len(paths) == 3 && paths[0] == "assign":
		var out struct {
			Channel string `json:"channel"`
		}
		if code, err := c.call("PUT", "/v1/admin/numbers/"+url.PathEscape(paths[1]), map[string]string{"flow": paths[2]}, &out, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc numbers:", err)
			return clientExit(code)
		}
		what := "texts"
		if out.Channel == "voice" {
			what = "calls"
		}
		fmt.Fprintf(stdout, "%s → %s (its %s)\n", paths[1], paths[2], what)
	case len(paths) == 2 && paths[0] == "unassign":
		if *calls && *texts {
			fmt.Fprintln(stderr, "flowc numbers unassign: --calls or --texts, not both (neither: both)")
			return exitUsage
		}
		q := ""
		if *calls {
			q = "?channel=voice"
		} else if *texts {
			q = "?channel=sms"
		}
		var out struct {
			Unassigned []string `json:"unassigned"`
		}
		if code, err := c.call("DELETE", "/v1/admin/numbers/"+url.PathEscape(paths[1])+q, nil, &out, stderr); err != nil {
			fmt.Fprintln(stderr, "flowc numbers:", err)
			return clientExit(code)
		}
		var what []string
		for _, ch := range out.Unassigned {
			if ch == "voice" {
				what = append(what, "calls")
			} else {
				what = append(what, "texts")
			}
		}
		fmt.Fprintf(stdout, "%s: its %s no longer routed\n", paths[1], strings.Join(what, " and "))
	default:
		fs.Usage()
		return exitUsage
	}
	return exitOK
}

// colorOK reports whether the table may be colored: stdout is a
// terminal and NO_COLOR is unset or empty (no-color.org).
func colorOK(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

const (
	ansiRed   = "\x1b[31m"
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

// printNumbers writes the table: NUMBER, NAME, SMS FLOW, CALL FLOW, a
// flow as "name (version)"; a flow missing is "missing" in red, or
// MISSING without color; a number that cannot receive texts or calls
// (Twilio's capabilities) has "-" there.
func printNumbers(w io.Writer, nums []numberInfo, color bool) {
	type cell struct {
		text  string
		style string // an ANSI color, "" for none
	}
	missing := cell{"MISSING", ""}
	if color {
		missing = cell{"missing", ansiRed}
	}
	flow := func(name, version string, can bool, texted bool) cell {
		switch {
		case name != "":
			return cell{name + " (" + short(version) + ")", ""}
		case !can:
			return cell{"-", ansiDim}
		case texted:
			return cell{missing.text + " (texted)", missing.style}
		}
		return missing
	}
	rows := [][]cell{{{"NUMBER", ""}, {"NAME", ""}, {"SMS FLOW", ""}, {"CALL FLOW", ""}}}
	for _, n := range nums {
		sms, voice := true, true
		if n.Capabilities != nil {
			sms, voice = n.Capabilities.SMS, n.Capabilities.Voice
		}
		rows = append(rows, []cell{{n.Number, ""}, {oneLine(n.Name), ""},
			flow(n.SMSFlow, n.SMSVersion, sms, n.TextedUnrouted), flow(n.CallFlow, n.CallVersion, voice, false)})
	}
	width := make([]int, 4)
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c.text))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			text := c.text
			if color && c.style != "" {
				text = c.style + text + ansiReset
			}
			b.WriteString(text)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// oneLine keeps a name on its row: control characters (a terminal's
// escapes among them) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
