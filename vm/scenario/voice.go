package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// Calls in a .flowtest: a test of a call flow (`channel voice`) places a
// call from the test's `from` to its number and plays the provider's
// callbacks, with `wait` for a voice menu's timeout. The lines:
//
//	call                           the caller dials the number: the call flow starts
//	press DIGITS                   the caller presses keys at a gather (press nothing: the timeout at once)
//	ringing USER answers           the ring in progress is answered by USER (who must be rung now)
//	ringing [USER] no answer       … nobody answered (for ringing in order: the one rung now)
//	ringing [USER] busy | fails    … the line was busy, or the call failed
//	record DURATION                the caller leaves a voicemail that long
//	caller hangs up                the call is over
//
//	expect say "TEXT"              the caller hears TEXT (~ "RE" for a pattern)
//	expect gather "TEXT"           a voice menu says TEXT and waits for digits
//	expect play "URL"              an audio file is played
//	expect ring A, B               A and B are rung at once (a user, or the team's members)
//	expect ring in order A         A is rung, the first (or next) of a ring in order
//	expect voicemail               a voicemail is recorded
//	expect hangup                  the call is ended
//	expect text "TEXT"             a text is sent to the caller

// Step kinds of calls.
const (
	StepCall          StepKind = iota + 300 // call
	StepPress                               // press DIGITS
	StepRinging                             // ringing USER answers | no answer | busy | fails
	StepRecord                              // record DURATION
	StepCallerHangsUp                       // caller hangs up
)

// CallLine is a call line's event.
type CallLine struct {
	Event vm.Event
	User  string // ringing: the user named
}

// Expectation kinds of calls.
const (
	ExpSay ExpectKind = iota + 300
	ExpGather
	ExpPlay
	ExpRing // Tags: the members; Strategy "in order" for ringing in order
	ExpVoicemail
	ExpHangup
	ExpText
)

const wantCall = `want: call, press DIGITS, ringing USER answers, ringing [USER] no answer|busy|fails, record DURATION or caller hangs up`

// parseCallLine reads a call line; ok is false for a line that is not
// one (`call answered by …` is a history line).
func parseCallLine(toks []token, text string) (s Step, ok bool, err error) {
	w := words(toks)
	line := &CallLine{}
	s = Step{Text: text, Call: line}
	switch {
	case w[0] == "call" && len(w) == 1:
		s.Kind, line.Event.Kind = StepCall, vm.EventCall
	case w[0] == "call":
		return s, false, nil
	case w[0] == "press":
		if len(w) > 2 || len(w) == 2 && strings.Trim(w[1], "0123456789*#") != "" {
			return s, true, errors.New("want: press DIGITS (0-9, * and #), or press alone for none")
		}
		s.Kind, line.Event.Kind = StepPress, vm.EventDigits
		if len(w) == 2 {
			line.Event.Message.Body = w[1]
		}
	case w[0] == "record":
		if len(w) != 2 {
			return s, true, errors.New("want: record DURATION (e.g. record 20s)")
		}
		d, err := check.ParseDuration(w[1])
		if err != nil {
			return s, true, err
		}
		s.Kind, line.Event.Kind = StepRecord, vm.EventRecorded
		line.Event.Call = vm.CallEvent{Length: d}
	case w[0] == "caller":
		if strings.Join(w, " ") != "caller hangs up" {
			return s, true, errors.New(wantCall)
		}
		s.Kind, line.Event.Kind = StepCallerHangsUp, vm.EventHangup
	case w[0] == "ringing":
		s.Kind, line.Event.Kind = StepRinging, vm.EventDial
		rest := w[1:]
		status := map[string]string{"answers": "answered", "no answer": "no-answer", "busy": "busy", "fails": "failed"}
		for n := 0; n <= 1 && n <= len(rest); n++ {
			if st, ok := status[strings.Join(rest[n:], " ")]; ok {
				if n == 1 {
					line.User = rest[0]
				}
				line.Event.Call = vm.CallEvent{Status: st, Member: line.User}
				break
			}
		}
		if line.Event.Call.Status == "" || line.Event.Call.Status == "answered" && line.User == "" {
			return s, true, errors.New("want: ringing USER answers, or ringing [USER] no answer|busy|fails")
		}
	default:
		return s, false, nil
	}
	return s, true, nil
}

// runCallLine plays a call line on the conversation. A ringing line
// naming a user who is not being rung is an error: the test says who
// the flow should ring.
func runCallLine(ctx context.Context, conv *sim.Conversation, s Step) (*vm.Result, error) {
	if conv.Prog.Channel != "voice" {
		return nil, fmt.Errorf("%s handles texts: a call needs a call flow (the header `channel voice`)", conv.Prog.Name)
	}
	ev := s.Call.Event
	switch s.Kind {
	case StepRinging:
		rung := conv.Ringing()
		if rung == nil {
			return nil, fmt.Errorf("nobody is being rung")
		}
		if u := s.Call.User; u != "" && !slices.Contains(rung, u) {
			return nil, fmt.Errorf("%s is not being rung (ringing: %s)", u, strings.Join(rung, ", "))
		}
	case StepRecord:
		ev.Call.Recording = "https://recordings.example.com/" + conv.Env.Clock.UTC().Format("20060102T150405") + ".mp3"
	}
	if s.Kind != StepCall && conv.State == nil {
		return nil, fmt.Errorf("the call is over")
	}
	return conv.Call(ctx, ev)
}

// parseCallExpect reads an expectation of a call; ok is false for
// another expectation.
func parseCallExpect(toks []token) (e Expect, ok bool, err error) {
	rest := toks[1:]
	switch toks[0].s {
	case "say", "gather", "play", "text":
		e.Kind = map[string]ExpectKind{"say": ExpSay, "gather": ExpGather, "play": ExpPlay, "text": ExpText}[toks[0].s]
		e.Text, e.Re, err = parseText(rest, toks[0].s)
	case "ring":
		e.Kind = ExpRing
		if len(rest) >= 2 && rest[0].s == "in" && rest[1].s == "order" {
			e.Strategy, rest = "in order", rest[2:]
		}
		for _, t := range rest {
			if t.s != "," {
				e.Tags = append(e.Tags, strings.TrimSuffix(t.s, ","))
			}
		}
		if len(e.Tags) == 0 {
			err = errors.New("want: expect ring USER, USER… or expect ring in order USER")
		}
	case "voicemail", "hangup":
		e.Kind = map[string]ExpectKind{"voicemail": ExpVoicemail, "hangup": ExpHangup}[toks[0].s]
		if len(rest) != 0 {
			err = fmt.Errorf("want: expect %s", toks[0].s)
		}
	default:
		return e, false, nil
	}
	return e, true, err
}

func describeCallExpect(e Expect) (string, bool) {
	text := fmt.Sprintf("%q", e.Text)
	if e.Re != nil {
		text = fmt.Sprintf("~ %q", e.Text)
	}
	switch e.Kind {
	case ExpSay:
		return "say " + text, true
	case ExpGather:
		return "gather " + text, true
	case ExpPlay:
		return "play " + text, true
	case ExpText:
		return "text " + text, true
	case ExpRing:
		if e.Strategy != "" {
			return "ring in order " + strings.Join(e.Tags, ", "), true
		}
		return "ring " + strings.Join(e.Tags, ", "), true
	case ExpVoicemail:
		return "voicemail", true
	case ExpHangup:
		return "hangup", true
	}
	return "", false
}

// checkCall checks a call's expectation against the step's actions;
// handled is false for another expectation.
func (s *stepState) checkCall(e Expect) (ok, handled bool) {
	kind := map[ExpectKind]vm.ActionKind{ExpSay: vm.ActSay, ExpGather: vm.ActGather, ExpPlay: vm.ActPlay, ExpText: vm.ActText,
		ExpRing: vm.ActDial, ExpVoicemail: vm.ActRecord, ExpHangup: vm.ActHangup}
	k, handled := kind[e.Kind]
	if !handled {
		return false, false
	}
	return s.take(func(a vm.Action) bool {
		switch {
		case a.Kind != k:
			return false
		case e.Kind == ExpRing:
			return a.Voice != nil && a.Voice.InOrder == (e.Strategy != "") && slices.Equal(a.Voice.Members, e.Tags)
		case e.Kind == ExpSay || e.Kind == ExpGather || e.Kind == ExpPlay || e.Kind == ExpText:
			return textMatches(e, a.Text)
		}
		return true
	}), true
}

// ParseCall reads a call line as `flowc run --call` takes it after its
// colon: `press 2`, `ringing alice answers`, `record 30s`.
func ParseCall(line string) (Step, error) {
	toks, err := tokenize(line)
	if err != nil {
		return Step{}, err
	}
	if len(toks) == 0 {
		return Step{}, errors.New(wantCall)
	}
	s, ok, err := parseCallLine(toks, line)
	if !ok && err == nil {
		err = errors.New(wantCall)
	}
	return s, err
}

// RunCall runs a line ParseCall read on the call.
func RunCall(ctx context.Context, conv *sim.Conversation, s Step) (*vm.Result, error) {
	return runCallLine(ctx, conv, s)
}
