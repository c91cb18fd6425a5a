package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
	"github.com/flowc-dev/flowc/vm/sim"
)

// callCommands are `flowc run`'s lines for a call, as .flowtest call
// lines (vm/scenario/voice.go): a plain line is the digits the caller
// presses.
var callCommands = map[string]func(arg string) string{
	"answer":    func(a string) string { return "ringing " + a + " answers" },
	"no-answer": func(a string) string { return strings.TrimSpace("ringing "+a) + " no answer" },
	"busy":      func(a string) string { return strings.TrimSpace("ringing "+a) + " busy" },
	"fail":      func(a string) string { return strings.TrimSpace("ringing "+a) + " fails" },
	"digits":    func(a string) string { return "press " + a },
	"hangup":    func(string) string { return "caller hangs up" },
	"record":    func(a string) string { return "record " + a },
	"call":      func(string) string { return "call" },
}

const callUsage = `use DIGITS, :digits DIGITS, :answer USER, :no-answer [USER], :busy [USER], :fail [USER], :record DURATION, :hangup, :call, :wait DURATION or :state`

// runCall simulates a call to a call flow: the call is placed at once,
// then each stdin line is a callback of the provider.
func runCall(ctx context.Context, conv *sim.Conversation, prog *vm.Program, stdin io.Reader, stdout, stderr io.Writer, explain bool) int {
	fmt.Fprintf(stdout, "# call flow %s, %s calling %s, clock %s\n", prog.Name, conv.From, conv.To, conv.Env.Clock.In(prog.Location()).Format("Mon 2006-01-02 15:04 MST"))
	play := func(line string) bool {
		s, err := scenario.ParseCall(line)
		if err != nil {
			fmt.Fprintf(stderr, "flowc run: %v (%s)\n", err, callUsage)
			return false
		}
		fmt.Fprintf(stdout, ": %s\n", line)
		res, err := scenario.RunCall(ctx, conv, s)
		if err != nil {
			fmt.Fprintf(stdout, "  ! %v\n", err)
			return true
		}
		printResult(stdout, prog, res, explain)
		return true
	}
	if !play("call") {
		return exitUsage
	}
	sc := bufio.NewScanner(stdin)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, ":") {
			line = ":digits " + line
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
		arg = strings.TrimSpace(arg)
		switch cmd {
		case "wait":
			if _, ok := runWait(ctx, conv, prog, arg, lineNo, "Mon 15:04:05", explain, stdout, stderr); !ok {
				return exitUsage
			}
		case "state":
			fmt.Fprintf(stdout, "  state: %s\n", describeCall(prog, conv))
		default:
			to, ok := callCommands[cmd]
			if !ok {
				fmt.Fprintf(stderr, "flowc run: line %d: unknown command %q (%s)\n", lineNo, line, callUsage)
				return exitUsage
			}
			if !play(to(arg)) {
				return exitUsage
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "flowc run:", err)
		return exitUsage
	}
	return exitOK
}

func describeCall(p *vm.Program, conv *sim.Conversation) string {
	if conv.State == nil {
		return "no call (:call places one)"
	}
	s := describeState(p, conv.State)
	if r := conv.Ringing(); r != nil {
		s += ", ringing " + strings.Join(r, ", ")
	}
	return s
}
