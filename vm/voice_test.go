package vm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/vm"
)

const callFlow = `flow line
channel voice
numbers "+15550100"
timezone "UTC"
say "Thanks for calling." voice "Polly.Joanna" language "en-US"
gather "Press 1 for sales, 2 to leave a message." <
  1 -> ring team:sales in order for 15s <
    on no-answer -> ring team:sales all for 20s < on no-answer -> text "Sorry we missed you." then voicemail then inbox team:sales >
    on busy -> play "https://example.com/busy.mp3" then hangup
  >
  2 -> voicemail transcribe max 1m then inbox team:sales
  timeout 5s -> say "Goodbye." then hangup
  else -> retry 2 then hangup
>
`

// ringEnv is an Env that knows the sales team.
type ringEnv struct{ vm.Env }

func (ringEnv) TeamMembers(team string) []string {
	if team == "sales" {
		return []string{"alice", "bob"}
	}
	return nil
}

func callEv(t *testing.T, p *vm.Program, st *vm.State, env vm.Env, ev vm.Event) *vm.Result {
	t.Helper()
	ev.Message.From, ev.Message.To = "+15557654321", "+15550100"
	res, err := vm.Run(context.Background(), p, st, ev, env, vm.Options{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func want(t *testing.T, what string, res *vm.Result, w string) {
	t.Helper()
	if got := strings.Join(actions(res), "; "); got != w {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, w)
	}
}

// TestCallRingsInOrderThenAllThenVoicemail: a call hears the greeting and
// the voice menu and waits for digits; 1 rings the team one member after
// another (busy or no answer goes on to the next), then all at once;
// nobody answering texts the caller back and takes a voicemail, which the
// inbox step after it delivers.
func TestCallRingsInOrderThenAllThenVoicemail(t *testing.T) {
	p := compileFlow(t, callFlow)
	if p.Channel != "voice" || len(p.Numbers) != 0 || strings.Join(p.CallNumbers, ",") != "+15550100" {
		t.Fatalf("a call flow's numbers route calls: channel %q numbers %v call numbers %v", p.Channel, p.Numbers, p.CallNumbers)
	}
	env := ringEnv{returning(nil)}
	res := callEv(t, p, nil, env, vm.Event{Kind: vm.EventCall})
	want(t, "answering", res, `say "Thanks for calling." voice "Polly.Joanna" language "en-US"; gather "Press 1 for sales, 2 to leave a message."; wait until 2026-11-23T10:00:05Z`)
	if res.Actions[1].Voice.Timeout != 5*time.Second {
		t.Errorf("the gather's timeout: %v", res.Actions[1].Voice.Timeout)
	}
	res = callEv(t, p, res.State, env, vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: "1"}})
	want(t, "pressing 1", res, `ring alice (team:sales) in order for 15s; wait`)
	res = callEv(t, p, res.State, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "busy"}})
	want(t, "alice busy", res, `ring bob (team:sales) in order for 15s; wait`)
	st := res.State
	res = callEv(t, p, st, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "failed"}})
	want(t, "bob failed: no answer", res, `ring alice, bob (team:sales) all for 20s; wait`)
	if st.Ring.Next != 2 {
		t.Errorf("resuming changed the caller's state: %+v", st.Ring)
	}
	res = callEv(t, p, res.State, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "no-answer"}})
	want(t, "nobody answers", res, `text "Sorry we missed you."; voicemail max 2m; wait`)
	res = callEv(t, p, res.State, env, vm.Event{Kind: vm.EventRecorded, Call: vm.CallEvent{Recording: "https://r/1", Length: 30 * time.Second}})
	want(t, "recorded", res, `recorded 30s "https://r/1"; inbox team:sales; end`)
	if res.State != nil {
		t.Fatalf("the call is over: %+v", res.State)
	}
}

// TestCallAnsweredBusyTimeoutAndHangup: an answer ends the ring (the
// call is over when the person hangs up); the last one busy takes `on
// busy`; nothing pressed times out, as the timer past the deadline does;
// the caller hanging up ends the call wherever it waits.
func TestCallAnsweredBusyTimeoutAndHangup(t *testing.T) {
	p := compileFlow(t, callFlow)
	senv := returning(nil)
	env := ringEnv{senv}
	start := callEv(t, p, nil, env, vm.Event{Kind: vm.EventCall})
	ringing := callEv(t, p, start.State, env, vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: "1"}})
	res := callEv(t, p, ringing.State, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "answered", Member: "alice"}})
	want(t, "alice answers", res, `end`)
	if got := outcomes(res.Trace); got != "answered@end" {
		t.Errorf("outcome: %s", got)
	}
	bob := callEv(t, p, ringing.State, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "no-answer"}})
	res = callEv(t, p, bob.State, env, vm.Event{Kind: vm.EventDial, Call: vm.CallEvent{Status: "busy"}})
	want(t, "bob busy", res, `play "https://example.com/busy.mp3"; hangup; end`)

	res = callEv(t, p, start.State, env, vm.Event{Kind: vm.EventDigits})
	want(t, "nothing pressed", res, `say "Goodbye."; hangup; end`)
	senv.Clock = senv.Clock.Add(5 * time.Second)
	res = callEv(t, p, start.State, env, vm.Event{Kind: vm.EventTimer})
	want(t, "the timer", res, `say "Goodbye."; hangup; end`)

	senv.Clock = senv.Clock.Add(-5 * time.Second)
	res = callEv(t, p, start.State, env, vm.Event{Kind: vm.EventDigits, Message: vm.Message{Body: "9"}})
	want(t, "9: else, retry", res, `gather "Press 1 for sales, 2 to leave a message."; wait until 2026-11-23T10:00:05Z`)

	res = callEv(t, p, ringing.State, env, vm.Event{Kind: vm.EventHangup})
	want(t, "hung up while ringing: a missed call in the ring's inbox", res, `inbox team:sales; end`)
	if res.State != nil {
		t.Fatal("the call is over")
	}
}

// TestCallFlowEncodes: a call flow encodes and decodes (format 5).
func TestCallFlowEncodes(t *testing.T) {
	p := compileFlow(t, callFlow)
	var b strings.Builder
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	q, err := vm.Decode(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if q.Channel != "voice" || len(q.Rings) != 2 || len(q.Gathers) != 1 || q.Rings[0].Timeout != 15*time.Second || !q.Rings[0].InOrder {
		t.Fatalf("decoded: %+v", q.Rings)
	}
}
