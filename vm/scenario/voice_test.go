package scenario

import (
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

func TestParseCallLines(t *testing.T) {
	f, err := Parse("t.flowtest", `call answered by bob 2d ago
test "a"
  call
  expect say "Hello"
  expect gather ~ "^Press"
  press 12#
  press
  ringing alice answers
  ringing no answer
  ringing bob busy
  ringing fails
  record 20s
  caller hangs up
  expect ring alice, bob
  expect ring in order carol
  expect voicemail
  expect hangup
  expect text "Sorry"
  expect play "https://example.com/a.mp3"
`)
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Tests[0].Steps; len(s) == 0 {
		t.Fatal("no steps")
	}
	var calls []string
	var exps []string
	for _, s := range f.Tests[0].Steps {
		switch {
		case s.Call != nil:
			ev := s.Call.Event
			calls = append(calls, strings.Join(strings.Fields(strings.Join([]string{evName[ev.Kind], ev.Message.Body, ev.Call.Status, ev.Call.Member, lengthOf(ev)}, " ")), " "))
		case s.Kind == StepExpect:
			exps = append(exps, describeExpect(s.Exp))
		}
	}
	if got := strings.Join(calls, "|"); got != "call|digits 12#|digits|dial answered alice|dial no-answer|dial busy bob|dial failed|recorded 20s|hangup" {
		t.Errorf("call lines: %s", got)
	}
	if got := strings.Join(exps, "|"); got != `say "Hello"|gather ~ "^Press"|ring alice, bob|ring in order carol|voicemail|hangup|text "Sorry"|play "https://example.com/a.mp3"` {
		t.Errorf("expectations: %s", got)
	}
	if f.Tests[0].Steps[0].Kind != StepHistory {
		t.Errorf("call answered by … is still a history line: %+v", f.Tests[0].Steps[0])
	}
}

var evName = map[vm.EventKind]string{vm.EventCall: "call", vm.EventDigits: "digits", vm.EventDial: "dial", vm.EventRecorded: "recorded", vm.EventHangup: "hangup"}

func lengthOf(ev vm.Event) string {
	if ev.Call.Length == 0 {
		return ""
	}
	return vm.FormatDuration(ev.Call.Length)
}

func TestParseCallLineErrors(t *testing.T) {
	for line, want := range map[string]string{
		"press 1a":             "want: press DIGITS",
		"ringing answers":      "want: ringing USER answers",
		"ringing alice sleeps": "want: ringing USER answers",
		"record":               "want: record DURATION",
		"record 20 seconds":    "want: record DURATION",
		"caller leaves":        "want: call, press",
		"expect ring":          "want: expect ring USER",
		"expect hangup now":    "want: expect hangup",
	} {
		_, err := Parse("t.flowtest", "test \"a\"\n  call\n  "+line+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", line, err, want)
		}
	}
	if _, err := Parse("t.flowtest", "press 1\n"); err == nil || !strings.Contains(err.Error(), "press outside a test") {
		t.Errorf("press outside a test: %v", err)
	}
}
