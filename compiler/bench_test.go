package compiler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/schedule"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// handWritten is examples/sales.flow's routing written directly in Go:
// the baseline the VM is measured against. It does the same work per
// message: read the clock in the flow's zone, check business hours and
// holidays, match the menu key, render the reply and return actions and
// the next state.
type handWritten struct {
	loc *time.Location
	cal schedule.Calendar
}

type hwState struct {
	waiting  bool
	deadline time.Time
}

func (h *handWritten) route(now time.Time, body string, contactName *string, st *hwState) ([]vm.Action, *hwState) {
	now = now.In(h.loc)
	if st == nil {
		if h.cal.Open(now) {
			return []vm.Action{
				{Kind: vm.ActReply, Text: "Reply 1 for sales, 2 for support"},
				{Kind: vm.ActWait, Deadline: now.Add(10 * time.Minute)},
			}, &hwState{waiting: true, deadline: now.Add(10 * time.Minute)}
		}
		return []vm.Action{
			{Kind: vm.ActReply, Text: "We're closed. We'll text you back at 9am."},
			{Kind: vm.ActDeliver, Target: vm.Target{Kind: "team", Name: "sales"}},
			{Kind: vm.ActEnd},
		}, nil
	}
	switch vm.NormaliseKey(body) {
	case "1":
		return []vm.Action{{Kind: vm.ActDeliver, Target: vm.Target{Kind: "team", Name: "sales"}}, {Kind: vm.ActEnd}}, nil
	case "2":
		name := "there"
		if contactName != nil {
			name = *contactName
		}
		var b strings.Builder
		b.WriteString("Thanks ")
		b.WriteString(name)
		b.WriteString("! Support will text you shortly.")
		return []vm.Action{
			{Kind: vm.ActReply, Text: b.String()},
			{Kind: vm.ActDeliver, Target: vm.Target{Kind: "team", Name: "support"}},
			{Kind: vm.ActEnd},
		}, nil
	}
	return []vm.Action{{Kind: vm.ActReply, Text: "Please reply 1 or 2."}}, st
}

// BenchmarkMessage compares the VM running examples/sales.flow with the
// hand-written Go above, for the first message of a conversation (hours
// check, menu prompt, suspend) and for the menu reply (resume, key
// match, templated reply, inbox).
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
	if acts, _ := h.route(at, "2", &ann, &hwState{waiting: true}); acts[0].Text != "Thanks Ann! Support will text you shortly." {
		b.Fatalf("hand-written baseline disagrees with the flow: %q", acts[0].Text)
	}

	b.Run("vm/first-message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vm.Run(ctx, p, nil, first, env, vm.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go/first-message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.route(at, "hi", &ann, nil)
		}
	})
	b.Run("vm/menu-reply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vm.Run(ctx, p, waiting, reply, env, vm.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go/menu-reply", func(b *testing.B) {
		b.ReportAllocs()
		st := &hwState{waiting: true}
		for b.Loop() {
			h.route(at, "2", &ann, st)
		}
	})
	b.Run("vm/menu-reply+trace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vm.Run(ctx, p, waiting, reply, env, vm.Options{Trace: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
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
