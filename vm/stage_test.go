package vm

import (
	"reflect"
	"testing"
	"time"
)

// TestStagedActionsExpandInOrder: the actions a run stages compactly
// (stagedAction) and those it keeps whole (emit, for kinds without a
// compact form) come out of result as the Actions they stand for, in
// the order they were emitted, on the stack and past it (spilled), with
// the state's deadline on the wait.
func TestStagedActionsExpandInOrder(t *testing.T) {
	p := &Program{Version: "v", Code: []Opcode{OpHalt}, Args: []int32{0}, Locs: []Loc{{}},
		Targets: []Target{{Kind: "team", Name: "sales"}, {Kind: "email", Name: "a@b.c", Strategy: "x"}}, Consts: []string{"vip"}}
	deadline := time.Date(2026, 11, 23, 10, 10, 0, 0, time.UTC)
	for n := 0; n <= 12; n++ {
		var m machine
		m.p = p
		var want []Action
		for i := range n {
			var a Action
			switch i % 7 {
			case 0:
				a = Action{Kind: ActReply, Text: "hi", PC: i}
				s := m.stage()
				s.kind, s.pc, s.text = int32(ActReply), int32(i), "hi"
			case 1:
				a = Action{Kind: ActDeliver, Target: p.Targets[0], PC: i}
				s := m.stage()
				s.kind, s.pc, s.ref = int32(ActDeliver), int32(i), 0
			case 2:
				a = Action{Kind: ActForward, Target: p.Targets[1], PC: i}
				s := m.stage()
				s.kind, s.pc, s.ref = int32(ActForward), int32(i), 1
			case 3:
				a = Action{Kind: ActTag, Text: "vip", PC: i}
				s := m.stage()
				s.kind, s.pc, s.text = int32(ActTag), int32(i), p.Consts[0]
			case 4:
				a = Action{Kind: ActSet, Var: "x", Value: 2.0, PC: i}
				s := m.stage()
				s.kind, s.pc, s.text, s.value = int32(ActSet), int32(i), "x", 2.0
			case 5: // a kind of action staged whole
				a = Action{Kind: ActForward, Text: "note", Target: Target{Kind: "webhook", Name: "https://x"}, Value: "v", Deadline: deadline, PC: i}
				m.emit(a)
			case 6:
				a = Action{Kind: ActEnd, PC: -1}
				s := m.stage()
				s.kind, s.pc = int32(ActEnd), -1
			}
			want = append(want, a)
		}
		m.stv.Deadline = deadline
		s := m.stage()
		s.kind, s.pc = int32(ActWait), 99
		want = append(want, Action{Kind: ActWait, Deadline: deadline, PC: 99})
		if got := m.result(true).Actions; !reflect.DeepEqual(got, want) {
			t.Errorf("%d actions:\n%v\nwant\n%v", n+1, got, want)
		}
	}
}
