package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
	"github.com/flowc-dev/flowc/vm/sim"
)

func init() {
	register(command{name: "run", summary: "simulate a conversation: each stdin line is a message (:wait 15m advances the clock, :agent bob accepts acts on a queued one); for a call flow, a call (2 presses 2, :answer alice, :no-answer, :busy, :record 30s, :hangup)", run: runRun})
}

func runRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "flowc run FILE [--call] [--at TIME] [--from NUMBER] [--to NUMBER] [--directory FILE] [--explain] [--net] [--http-mocks FILE]", stderr)
	at := fs.String("at", "", "the fake clock's start, RFC 3339 (2026-11-23T10:00:00-05:00) or YYYY-MM-DDTHH:MM in the flow's zone; default now")
	from := fs.String("from", "+15557654321", "the contact's number")
	to := fs.String("to", "", "the business number texted (default: the flow's first number)")
	explain := fs.Bool("explain", false, "print each step taken, with file:line")
	call := fs.Bool("call", false, "simulate a call: FILE must be a call flow (channel voice), which flowc run always calls")
	dirFile := fs.String("directory", "", "the directory file (users, teams, contacts) the server would use; default: directory.json beside the flow, if any")
	net, mocks := httpFlags(fs) // http.go
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	prog, code := compileOne(paths[0], stderr)
	if prog == nil {
		return code
	}
	start := time.Now()
	if *at != "" {
		t, err := parseTime(*at, prog.Location())
		if err != nil {
			fmt.Fprintln(stderr, "flowc run: --at:", err)
			return exitUsage
		}
		start = t
	}
	if *call && prog.Channel != "voice" {
		fmt.Fprintf(stderr, "flowc run: --call: %s handles texts; a call flow has the header `channel voice`\n", paths[0])
		return exitUsage
	}
	number := *to
	if number == "" && len(prog.Numbers) > 0 {
		number = prog.Numbers[0]
	}
	if number == "" && len(prog.CallNumbers) > 0 {
		number = prog.CallNumbers[0]
	}
	applets, closeApplets, err := offlineApplets()
	if err != nil {
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	defer closeApplets()
	budget, err := eventBudget(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	// The contact is who the server's directory says it is: the same
	// file check reads, found the same way.
	dir, diags, err := loadCheckDirectory(*dirFile, []string{filepath.Dir(paths[0])})
	if err == nil && diags.HasErrors() {
		err = diags.Err()
	}
	if err != nil {
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	conv := &sim.Conversation{Prog: prog, From: *from, To: number, Trace: *explain,
		Env: &sim.Env{Clock: start, Applets: applets, EventBudget: budget, Directory: dir}}
	if conv.Env.HTTP, err = offlineHTTP(*net, *mocks, conv.Env); err != nil { // http.go
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	ctx := context.Background()
	if prog.Channel == "voice" {
		return runCall(ctx, conv, prog, stdin, stdout, stderr, *explain) // run_call.go
	}
	fmt.Fprintf(stdout, "# flow %s, %s texting %s, clock %s\n", prog.Name, *from, number, start.In(prog.Location()).Format("Mon 2006-01-02 15:04 MST"))
	sc := bufio.NewScanner(stdin)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		if strings.HasPrefix(line, ":") {
			cmd, arg, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
			switch cmd {
			case "wait":
				results, ok := runWait(ctx, conv, prog, arg, lineNo, "Mon 15:04", *explain, stdout, stderr)
				if !ok {
					return exitUsage
				}
				if len(results) > 0 {
					printQueue(stdout, conv.Last)
				}
			case "agent", "queue":
				if !runAgentLine(ctx, conv, prog, cmd+" "+arg, lineNo, stdout, stderr, *explain) {
					return exitUsage
				}
			case "state":
				fmt.Fprintf(stdout, "  state: %s\n", describeState(prog, conv.State))
				if conv.OptedOut {
					fmt.Fprintf(stdout, "  opted out of %s (START opts back in)\n", number)
				}
				if tags := conv.Env.AddedTags(*from); len(tags) > 0 {
					fmt.Fprintf(stdout, "  tags added: %s\n", strings.Join(tags, ", "))
				}
				printEdits(stdout, conv.Env, *from, number, prog) // http.go
			default:
				fmt.Fprintf(stderr, "flowc run: line %d: unknown command %q (use :wait DURATION, :state, :agent NAME accepts|replies \"TEXT\"|transfers to user:NAME|finishes|away|available, or :queue team:NAME waiting N)\n", lineNo, line)
				return exitUsage
			}
			continue
		}
		fmt.Fprintf(stdout, "> %s\n", line)
		r, err := conv.Send(ctx, line)
		if err != nil {
			fmt.Fprintf(stderr, "flowc run: %v\n", err)
			return exitUsage
		}
		if o := conv.Last.Outcome; stageOutcome(o) {
			fmt.Fprintf(stdout, "  (%s: answered by the inbound stage, as the server does)\n", o)
		}
		printResult(stdout, prog, r, *explain)
		printQueue(stdout, conv.Last)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	return exitOK
}

// stageOutcome: the inbound stage answered the message itself (STOP,
// START, HELP, an opted-out contact), without running the flow.
func stageOutcome(o string) bool {
	switch o {
	case inbound.OutcomeOptOut, inbound.OutcomeOptIn, inbound.OutcomeHelp, inbound.OutcomeOptedOut:
		return true
	}
	return false
}

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time (use RFC 3339 or YYYY-MM-DDTHH:MM)", s)
}

func printResult(w io.Writer, p *vm.Program, r *vm.Result, explain bool) {
	if explain {
		for _, s := range r.Trace {
			note := ""
			if s.Note != "" {
				note = ": " + s.Note
			}
			fmt.Fprintf(w, "  · %s:%d %s%s\n", p.File, s.Loc.Line, strings.ToLower(s.Op.String()), note)
		}
	} else {
		for _, l := range r.Logs { // with --explain they are in the trace, at their step
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	for _, a := range r.Actions {
		if a.Kind == vm.ActWait && !a.Deadline.IsZero() {
			layout := "Mon 15:04"
			if a.Deadline.Second() != 0 { // a voice menu's timeout, in seconds
				layout = "Mon 15:04:05"
			}
			fmt.Fprintf(w, "  wait until %s\n", a.Deadline.In(p.Location()).Format(layout))
			continue
		}
		fmt.Fprintf(w, "  %s\n", a)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  ! %s\n", e)
	}
}

// runWait is `:wait D`: the clock moves on, the timers due meanwhile
// fire and their results are shown; false when D or a timer failed (said
// on stderr).
func runWait(ctx context.Context, conv *sim.Conversation, prog *vm.Program, arg string, lineNo int, clock string, explain bool, stdout, stderr io.Writer) ([]*vm.Result, bool) {
	d, err := check.ParseDuration(strings.TrimSpace(arg))
	if err != nil {
		fmt.Fprintf(stderr, "flowc run: line %d: %v\n", lineNo, err)
		return nil, false
	}
	results, err := conv.Wait(ctx, d)
	if err != nil {
		fmt.Fprintf(stderr, "flowc run: %v\n", err)
		return nil, false
	}
	fmt.Fprintf(stdout, "~ %s later (%s)\n", d, conv.Env.Clock.In(prog.Location()).Format(clock))
	for _, r := range results {
		fmt.Fprintln(stdout, "  (timer fired)")
		printResult(stdout, prog, r, explain)
	}
	return results, true
}

func describeState(p *vm.Program, st *vm.State) string {
	if st == nil {
		return "no conversation (the next message starts the flow)"
	}
	if q := st.Queue; st.PC == -1 && q != nil { // held without a queue step (vm/inbound's holds)
		return fmt.Sprintf("held by %s: the contact's texts join it until they finish it (or %s without a text either way)", q.Assignee, q.Idle)
	}
	s := "waiting at " + p.LocString(st.PC)
	if !st.Deadline.IsZero() && (st.Queue == nil || st.Queue.Status == "waiting" || st.Queue.Status == "offered") {
		s += " until " + st.Deadline.In(p.Location()).Format("Mon 15:04")
	}
	if q := st.Queue; q != nil {
		s += fmt.Sprintf(" in the queue of team:%s (%s", q.Team, q.Status)
		if len(q.Offered) > 0 {
			s += ", offered to " + strings.Join(q.Offered, ", ")
		}
		if q.Assignee != "" {
			s += ", with " + q.Assignee
		}
		s += ")"
	}
	return s
}
