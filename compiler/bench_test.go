package compiler_test

import (
	"context"
	"reflect"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/schedule"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// handWritten is examples/sales.flow's routing written directly in Go:
// the baseline the VM is measured against. It takes what vm.Run takes
// (the conversation's state, the event, the same Env for the clock and
// the contact directory) and does the work a user of the flow would
// notice, no less: read the clock in the flow's zone, check business
// hours and holidays, match the reply as the menu matches it (the whole
// reply normalised, or its first word), look the contact up when the
// reply needs the name, render the reply, count retries, and return the
// same actions, the next state and, when asked, the same trace the
// server records ("why did this message go there?"). checkBaseline
// proves it agrees with the VM, action for action and step for step.
type handWritten struct {
	loc *time.Location
	cal schedule.Calendar
}

type hwState struct {
	deadline time.Time
	retries  int
}

// The places in examples/sales.flow the trace points at, as a
// hand-written function that explains itself would name its own lines.
var (
	hwLocHours   = vm.Loc{Line: 10, Col: 6, EndLine: 10, EndCol: 18}
	hwLocMenu    = vm.Loc{Line: 11, Col: 3, EndLine: 11, EndCol: 42}
	hwLocSales   = vm.Loc{Line: 12, Col: 20, EndLine: 12, EndCol: 36}
	hwLocThanks  = vm.Loc{Line: 13, Col: 20, EndLine: 13, EndCol: 94}
	hwLocSupport = vm.Loc{Line: 13, Col: 100, EndLine: 13, EndCol: 118}
	hwLocPlease  = vm.Loc{Line: 15, Col: 20, EndLine: 15, EndCol: 48}
	hwLocRetry   = vm.Loc{Line: 15, Col: 54, EndLine: 15, EndCol: 61}
	hwLocElseIn  = vm.Loc{Line: 15, Col: 67, EndLine: 15, EndCol: 83}
	hwLocClosed  = vm.Loc{Line: 17, Col: 8, EndLine: 17, EndCol: 57}
	hwLocClosedI = vm.Loc{Line: 17, Col: 63, EndLine: 17, EndCol: 79}
	hwLocEnd     = vm.Loc{Line: 18, Col: 1, EndLine: 18, EndCol: 1}
)

const hwPrompt = "Reply 1 for sales, 2 for support"

// hwTrace collects the trace when asked, four steps before it grows
// (a menu reply takes four).
type hwTrace struct {
	on    bool
	steps []vm.TraceStep
}

func (t *hwTrace) step(pc int, op vm.Opcode, loc vm.Loc, note string, o vm.Outcome) {
	if !t.on {
		return
	}
	if t.steps == nil {
		t.steps = make([]vm.TraceStep, 0, 4)
	}
	t.steps = append(t.steps, vm.TraceStep{PC: pc, Op: op, Loc: loc, Note: note, Outcome: o})
}

func (h *handWritten) route(ctx context.Context, st *hwState, ev vm.Event, env vm.Env, trace bool) ([]vm.Action, *hwState, []vm.TraceStep, error) {
	now := env.Now().In(h.loc)
	t := hwTrace{on: trace}
	sales := vm.Target{Kind: "team", Name: "sales"}
	if st == nil {
		if h.cal.Open(now) {
			t.step(0, vm.OpTest, hwLocHours, `hours("9-5") → true`, vm.Outcome{At: 1, Kind: vm.BranchTrue, Target: 2})
			t.step(2, vm.OpMenu, hwLocMenu, "waiting for a reply", vm.Outcome{})
			d := now.Add(10 * time.Minute)
			return []vm.Action{{Kind: vm.ActReply, Text: hwPrompt, PC: 2}, {Kind: vm.ActWait, Deadline: d, PC: 2}},
				&hwState{deadline: d}, t.steps, nil
		}
		t.step(0, vm.OpTest, hwLocHours, `hours("9-5") → false`, vm.Outcome{At: 1, Kind: vm.BranchFalse, Target: 16})
		t.step(16, vm.OpReply, hwLocClosed, "", vm.Outcome{})
		t.step(17, vm.OpInbox, hwLocClosedI, "", vm.Outcome{})
		t.step(18, vm.OpHalt, hwLocEnd, "", vm.Outcome{})
		return []vm.Action{{Kind: vm.ActReply, Text: "We're closed. We'll text you back at 9am.", PC: 16},
			{Kind: vm.ActDeliver, Target: sales, PC: 17}, {Kind: vm.ActEnd, PC: -1}}, nil, t.steps, nil
	}
	body := ev.Message.Body
	key := vm.NormaliseKey(body)
	if key != "1" && key != "2" {
		key = runtime.Keyword(body)
	}
	switch key {
	case "1":
		t.step(2, vm.OpMenu, hwLocMenu, "key 1", vm.Outcome{At: 2, Kind: vm.BranchKey, Key: "1", Target: 4})
		t.step(4, vm.OpInbox, hwLocSales, "", vm.Outcome{})
		t.step(18, vm.OpHalt, hwLocEnd, "", vm.Outcome{})
		return []vm.Action{{Kind: vm.ActDeliver, Target: sales, PC: 4}, {Kind: vm.ActEnd, PC: -1}}, nil, t.steps, nil
	case "2":
		t.step(2, vm.OpMenu, hwLocMenu, "key 2", vm.Outcome{At: 2, Kind: vm.BranchKey, Key: "2", Target: 6})
		c, err := env.Contact(ctx, ev.Message.From)
		if err != nil {
			return nil, nil, nil, err
		}
		name := "there"
		if c.Name != nil {
			name = *c.Name
		}
		t.step(6, vm.OpReply, hwLocThanks, "", vm.Outcome{})
		t.step(7, vm.OpInbox, hwLocSupport, "", vm.Outcome{})
		t.step(18, vm.OpHalt, hwLocEnd, "", vm.Outcome{})
		return []vm.Action{{Kind: vm.ActReply, Text: "Thanks " + name + "! Support will text you shortly.", PC: 6},
			{Kind: vm.ActDeliver, Target: vm.Target{Kind: "team", Name: "support"}, PC: 7}, {Kind: vm.ActEnd, PC: -1}}, nil, t.steps, nil
	}
	t.step(2, vm.OpMenu, hwLocMenu, "else", vm.Outcome{At: 2, Kind: vm.BranchElse, Target: 11})
	t.step(11, vm.OpReply, hwLocPlease, "", vm.Outcome{})
	please := vm.Action{Kind: vm.ActReply, Text: "Please reply 1 or 2.", PC: 11}
	if st.retries < 2 {
		t.step(12, vm.OpRetry, hwLocRetry, "retry "+strconv.Itoa(st.retries+1)+" of 2", vm.Outcome{At: 12, Kind: vm.BranchRetry, Target: 2})
		t.step(2, vm.OpMenu, hwLocMenu, "waiting for a reply", vm.Outcome{})
		d := now.Add(10 * time.Minute)
		return []vm.Action{please, {Kind: vm.ActReply, Text: hwPrompt, PC: 2}, {Kind: vm.ActWait, Deadline: d, PC: 2}},
			&hwState{deadline: d, retries: st.retries + 1}, t.steps, nil
	}
	t.step(12, vm.OpRetry, hwLocRetry, "no retries left", vm.Outcome{At: 12, Kind: vm.BranchExhausted, Target: 13})
	t.step(13, vm.OpInbox, hwLocElseIn, "", vm.Outcome{})
	t.step(18, vm.OpHalt, hwLocEnd, "", vm.Outcome{})
	return []vm.Action{please, {Kind: vm.ActDeliver, Target: sales, PC: 13}, {Kind: vm.ActEnd, PC: -1}}, nil, t.steps, nil
}

// checkBaseline runs the VM and the hand-written function on the same
// conversations (open and closed hours, every menu branch, retries
// used up) and fails unless they give the same actions, the same next
// state (where it waits, until when, the retries used) and the same
// trace.
func checkBaseline(b *testing.B, p *vm.Program, h *handWritten, env *sim.Env) {
	ctx := context.Background()
	msg := func(body string) vm.Event {
		return vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: body}}
	}
	var compare func(what string, vst *vm.State, hst *hwState, bodies []string)
	compare = func(what string, vst *vm.State, hst *hwState, bodies []string) {
		if len(bodies) == 0 {
			return
		}
		r, err := vm.Run(ctx, p, vst, msg(bodies[0]), env, vm.Options{Trace: true})
		if err != nil {
			b.Fatal(err)
		}
		acts, next, tr, err := h.route(ctx, hst, msg(bodies[0]), env, true)
		if err != nil {
			b.Fatal(err)
		}
		what += " " + strconv.Quote(bodies[0])
		if !reflect.DeepEqual(r.Actions, acts) {
			b.Fatalf("%s: the baseline's actions differ:\n%v\nVM:\n%v", what, acts, r.Actions)
		}
		if !reflect.DeepEqual(r.Trace, tr) {
			b.Fatalf("%s: the baseline's trace differs:\n%v\nVM:\n%v", what, tr, r.Trace)
		}
		if (r.State == nil) != (next == nil) || next != nil && (!r.State.Deadline.Equal(next.deadline) || r.State.Retries[2] != next.retries) {
			b.Fatalf("%s: the baseline's next state %+v differs from the VM's %+v", what, next, r.State)
		}
		compare(what, r.State, next, bodies[1:])
	}
	for _, at := range []time.Time{time.Date(2026, 11, 23, 10, 0, 0, 0, ny), time.Date(2026, 11, 23, 20, 0, 0, 0, ny), time.Date(2026, 12, 25, 10, 0, 0, 0, ny)} {
		env.Clock = at
		for _, conv := range [][]string{{"hi", "1"}, {"hi", "2"}, {"hi", " (2) please"}, {"hi", "Sales?", "x", "3", "2"}, {"hi", "x", "y", "z"}} {
			compare(at.Format(time.Kitchen), nil, nil, conv)
		}
	}
	env.Clock = time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
}

// BenchmarkMessage compares the VM running examples/sales.flow with the
// hand-written Go above, for the first message of a conversation (hours
// check, menu prompt, suspend) and for the menu reply (resume, key
// match, contact look-up, templated reply, inbox), each without and with
// the trace (the server always records it).
func BenchmarkMessage(b *testing.B) {
	p := compileFile(b, "../examples/sales.flow")
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, ny)
	ann := "Ann"
	env := &sim.Env{Clock: at, Contacts: map[string]runtime.Contact{"+15557654321": {Known: true, Name: &ann}}}
	ctx := context.Background()
	first := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "hi"}}
	reply := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "2"}}
	r, err := vm.Run(ctx, p, nil, first, env, vm.Options{})
	if err != nil || r.State == nil {
		b.Fatalf("first message did not suspend: %v", err)
	}
	waiting := r.State

	h := &handWritten{loc: ny, cal: schedule.Calendar{Schedule: mustSchedule(b, "9-5"), Holidays: mustHolidays(b)}}
	checkBaseline(b, p, h, env)
	hwWaiting := &hwState{deadline: waiting.Deadline}

	for _, trace := range []bool{false, true} {
		suffix := ""
		if trace {
			suffix = "+trace"
		}
		b.Run("vm/first-message"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime())
			defer reportGC(b, gcCPU())
			for b.Loop() {
				if _, err := vm.Run(ctx, p, nil, first, env, vm.Options{Trace: trace}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("go/first-message"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime())
			defer reportGC(b, gcCPU())
			for b.Loop() {
				if _, _, _, err := h.route(ctx, nil, first, env, trace); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("vm/menu-reply"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime())
			defer reportGC(b, gcCPU())
			for b.Loop() {
				if _, err := vm.Run(ctx, p, waiting, reply, env, vm.Options{Trace: trace}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("go/menu-reply"+suffix, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, cpuTime())
			defer reportGC(b, gcCPU())
			for b.Loop() {
				if _, _, _, err := h.route(ctx, hwWaiting, reply, env, trace); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportCPU adds cpu-ns/op, the process's CPU time per operation since
// start (see cpuTime): the figure to compare on a loaded machine.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

// gcCPU is the collector's CPU time so far, as the runtime estimates it
// (runtime/metrics: updated at each collection's end, so over a run of
// many collections it is close).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * 1e9)
}

// reportGC adds gc-ns/op, the collector's share of cpu-ns/op (see gcCPU).
func reportGC(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(gcCPU()-start)/float64(b.N), "gc-ns/op")
	}
}

func mustSchedule(b *testing.B, spec string) *schedule.Schedule {
	s, err := schedule.Parse(spec)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func mustHolidays(b *testing.B) schedule.Holidays {
	h, err := schedule.ParseHolidays([]string{"2026-12-25", "2027-01-01"})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// TestMessageAllocations: a run of examples/sales.flow allocates only its
// result (the first message) and the state it resumes from copied on
// write (the menu reply): the machine, the expression environment and
// the staged actions stay on the stack or in pools. A pointer back to
// the machine from a value that escapes (the list reader did) moves the
// whole 1.7 KB machine to the heap at every run: 5x a hand-written
// function instead of under 2x (BenchmarkMessage).
func TestMessageAllocations(t *testing.T) {
	p := compileFile(t, "../examples/sales.flow")
	ann := "Ann"
	env := &sim.Env{Clock: time.Date(2026, 11, 23, 10, 0, 0, 0, ny), Contacts: map[string]runtime.Contact{"+15557654321": {Known: true, Name: &ann}}}
	ctx := context.Background()
	first := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "hi"}}
	reply := vm.Event{Message: vm.Message{From: "+15557654321", To: "+15550100", Body: "2"}}
	r, err := vm.Run(ctx, p, nil, first, env, vm.Options{})
	if err != nil || r.State == nil {
		t.Fatalf("first message did not suspend: %v", err)
	}
	waiting := r.State
	for _, c := range []struct {
		name string
		st   *vm.State
		ev   vm.Event
		max  float64
	}{{"first message", nil, first, 1}, {"menu reply", waiting, reply, 2}} {
		got := testing.AllocsPerRun(200, func() {
			if _, err := vm.Run(ctx, p, c.st, c.ev, env, vm.Options{}); err != nil {
				t.Fatal(err)
			}
		})
		if got > c.max {
			t.Errorf("%s: %v allocations per run, want at most %v", c.name, got, c.max)
		}
	}
}
