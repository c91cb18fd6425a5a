package main

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
)

// TestCoverageIgnoresTraceNoteWording runs every scenario of
// examples/*.flowtest on its own, with the real applets, and checks that
// the coverage of each (partial for most scenarios) is the same when
// every trace note is rewritten: garbled, emptied, or moved onto other
// steps (so that "key 2" or "route vip" sits on the wrong one). The
// coverage must also be what reading the notes gave before the VM
// recorded typed outcomes (legacyCoverage), so `flowc test --coverage
// examples/` reports exactly what it did.
func TestCoverageIgnoresTraceNoteWording(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.flowtest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example scenarios: %v", err)
	}
	applets, stop, err := offlineApplets()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rewrites := map[string]func(i int, s vm.TraceStep, all []vm.TraceStep) string{
		"garbled": func(i int, s vm.TraceStep, _ []vm.TraceStep) string {
			return fmt.Sprintf("zz%d %s zz", i, strings.ToUpper(s.Note))
		},
		"empty": func(int, vm.TraceStep, []vm.TraceStep) string { return "" },
		"shifted": func(i int, _ vm.TraceStep, all []vm.TraceStep) string {
			return all[(i+1)%len(all)].Note
		},
	}
	progs := map[string]*vm.Program{}
	scenarios, partial := 0, 0
	for _, f := range files {
		sf, err := scenario.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range sf.Tests {
			p := progs[tc.Flow]
			if p == nil {
				if p, _ = compileOne(tc.Flow, &strings.Builder{}); p == nil {
					t.Fatalf("%s: cannot compile %s", tc.Pos, tc.Flow)
				}
				progs[tc.Flow] = p
			}
			res := scenario.RunWith(context.Background(), tc, p, applets)
			if !res.Pass {
				t.Fatalf("%s: %s fails: %+v", tc.Pos, tc.Name, res.Failures)
			}
			want := legacyCoverage(p, res.Traces)
			got := hits(p, res.Traces)
			checkTargets(t, p, res.Traces)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %q: typed coverage %v, the notes gave %v", tc.Pos, tc.Name, got, want)
			}
			for name, rewrite := range rewrites {
				var traces [][]vm.TraceStep
				for _, tr := range res.Traces {
					out := make([]vm.TraceStep, len(tr))
					for i, s := range tr {
						out[i] = s
						out[i].Note = rewrite(i, s, tr)
					}
					traces = append(traces, out)
				}
				if g := hits(p, traces); !reflect.DeepEqual(g, want) {
					t.Errorf("%s %q: with %s notes coverage is %v, want %v", tc.Pos, tc.Name, name, g, want)
				}
			}
			scenarios++
			if n := countTrue(want); n > 0 && n < len(want) {
				partial++
			}
		}
	}
	if scenarios < 30 || partial < 20 {
		t.Errorf("only %d scenarios, %d with partial coverage: the test proves little", scenarios, partial)
	}
}

func hits(p *vm.Program, traces [][]vm.TraceStep) []bool {
	c := vm.NewCoverage(p)
	for _, tr := range traces {
		c.Add(tr)
	}
	return c.Hit
}

// checkTargets: an outcome continues where the branch it names goes.
func checkTargets(t *testing.T, p *vm.Program, traces [][]vm.TraceStep) {
	t.Helper()
	branches := p.Branches()
	for _, tr := range traces {
		for _, s := range tr {
			o := s.Outcome
			for _, b := range branches {
				if b.PC == o.At && b.Kind == o.Kind && b.Key == o.Key && b.Target != o.Target {
					t.Errorf("%s: step %d %+v: target %d, the branch goes to %d", p.File, s.PC, o, o.Target, b.Target)
				}
			}
		}
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// legacyCoverage is how coverage read trace notes before the VM recorded
// typed outcomes, kept here as the reference the typed coverage must equal.
func legacyCoverage(p *vm.Program, traces [][]vm.TraceStep) []bool {
	c := vm.NewCoverage(p)
	mark := func(pc int, kind vm.BranchKind, key string) {
		for i, b := range c.Branches {
			if b.PC == pc && b.Kind == kind && b.Key == key {
				c.Hit[i] = true
			}
		}
	}
	for _, trace := range traces {
		for _, s := range trace {
			switch s.Op {
			case vm.OpTest:
				switch {
				case strings.HasSuffix(s.Note, "→ true"):
					mark(s.PC+1, vm.BranchTrue, "")
				case strings.HasSuffix(s.Note, "→ false"):
					mark(s.PC+1, vm.BranchFalse, "")
				}
			case vm.OpMenu:
				switch {
				case strings.HasPrefix(s.Note, "key "):
					mark(s.PC, vm.BranchKey, strings.TrimPrefix(s.Note, "key "))
				case s.Note == "timeout":
					mark(s.PC, vm.BranchTimeout, "")
				case s.Note == "else":
					mark(s.PC, vm.BranchElse, "")
				}
			case vm.OpAsk:
				switch {
				case s.Note == "timeout":
					mark(s.PC, vm.BranchTimeout, "")
				case strings.HasPrefix(s.Note, "answer stored"):
					mark(s.PC, vm.BranchAnswer, "")
				}
			case vm.OpRetry:
				switch {
				case strings.HasPrefix(s.Note, "retry "):
					mark(s.PC, vm.BranchRetry, "")
				case s.Note == "no retries left":
					mark(s.PC, vm.BranchExhausted, "")
				}
			case vm.OpRun:
				routed := len(p.Runs[p.Args[s.PC]].Routes) > 0
				switch {
				case strings.HasPrefix(s.Note, "applet ") && !routed, strings.HasPrefix(s.Note, "no route for "),
					strings.HasPrefix(s.Note, "http "): // an http step's response (vm/http.go)
					mark(s.PC, vm.BranchOK, "")
				case strings.HasPrefix(s.Note, "route "):
					mark(s.PC, vm.BranchRoute, strings.TrimPrefix(s.Note, "route "))
				case s.Note == "else":
					mark(s.PC, vm.BranchElse, "")
				case strings.HasPrefix(s.Note, "error: "):
					mark(s.PC, vm.BranchError, "")
				}
			case vm.OpQueue: // queues came with typed outcomes: there are no notes to compare with
				if s.Outcome.Kind != vm.NoBranch {
					mark(s.PC, s.Outcome.Kind, "")
				}
			case vm.OpGather, vm.OpRing: // call steps too
				if s.Outcome.Kind != vm.NoBranch {
					mark(s.PC, s.Outcome.Kind, s.Outcome.Key)
				}
			case vm.OpInboxExpr, vm.OpForwardExpr: // computed targets came with typed outcomes; their notes read alike
				switch {
				case strings.HasPrefix(s.Note, "names nobody: "), strings.HasPrefix(s.Note, "error: "):
					mark(s.PC, vm.BranchError, "")
				case strings.Contains(s.Note, " → "):
					mark(s.PC, vm.BranchOK, "")
				}
			}
		}
	}
	return c.Hit
}
