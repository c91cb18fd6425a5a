package vm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

const twoRuns = `flow f
numbers "+15550100"
applet a = "a.js"
applet b = "b.js"
run a() as x
run b() as y
`

// TestAppletLogsAreKeptWithTheirStep: with Options.AppletLogs the lines
// an applet logs land in Result.Logs with the run step and applet that
// wrote them, also when the call fails; a line logged after the call
// returned is dropped; without the option the runner gets no logger.
func TestAppletLogsAreKeptWithTheirStep(t *testing.T) {
	p := compileFlow(t, twoRuns, "a", "b")
	var late func(level, msg string)
	env := &sim.Env{Clock: time.Now(), Applets: func(_ context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
		if in.Log == nil {
			return nil, errors.New("no logger")
		}
		in.Log("log", "hello from "+a.Name)
		late = in.Log
		if a.Name == "b" {
			in.Log("error", "b fails")
			return nil, errors.New("down")
		}
		return "ok", nil
	}}
	res := send(t, p, env, vm.Options{AppletLogs: true}, "hi")
	late("log", "after the call") // must not reach the result
	var got []string
	for _, l := range res.Logs {
		got = append(got, fmt.Sprintf("%s:%d %s", p.LocString(l.PC), l.PC, l))
	}
	runA, runB := -1, -1
	for pc, op := range p.Code {
		if op == vm.OpRun && runA < 0 {
			runA = pc
		} else if op == vm.OpRun {
			runB = pc
		}
	}
	want := []string{
		fmt.Sprintf("%s:%d console.log from a: hello from a", p.LocString(runA), runA),
		fmt.Sprintf("%s:%d console.log from b: hello from b", p.LocString(runB), runB),
		fmt.Sprintf("%s:%d console.error from b: b fails", p.LocString(runB), runB),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	inTrace := 0
	for _, s := range res.Trace {
		if strings.HasPrefix(s.Note, "console.") {
			inTrace++
		}
	}
	if inTrace != 3 {
		t.Errorf("%d log lines in the trace, want 3: %+v", inTrace, res.Trace)
	}

	res = send(t, p, env, vm.Options{}, "hi")
	if len(res.Logs) != 0 || len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "no logger") {
		t.Errorf("without AppletLogs: logs %v, errors %q; want no logger passed", res.Logs, res.Errors)
	}
}
