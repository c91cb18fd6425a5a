package server

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twilio/twilio-go/twiml"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// A call step's actions as TwiML, written with twilio-go's twiml package
// (docs/voice.md has the table):
//
//	ActSay       <Say voice language>TEXT</Say>
//	ActPlay      <Play>URL</Play>
//	ActGather    <Gather input="dtmf" timeout action actionOnEmptyResult="true"><Say>PROMPT</Say></Gather>
//	ActDial      <Dial timeout action answerOnBridge="true"> a <Number>, <Client> or <Sip> per way to
//	             ring each member, each with a statusCallback for its answer (VoiceLegPath);
//	             all at once: every member in one Dial; in order: the one member rung now
//	ActRecord    <Record maxLength action recordingStatusCallback [transcribe]>
//	ActForward   <Dial><Number>NUMBER</Number></Dial> (to a number)
//	ActHangup    <Hangup/>, also after the last verb of a flow that ended without one
//
// Each waiting verb's action names the step (?step=N&on=…), which is how
// its callback finds the step it answers (voice.go). A dial whose members
// have no way to be rung (no phone or client in the directory) is a
// <Redirect> to its own callback with unringable=1: the flow goes on as
// if the dial failed, and the caller hears no silence.

// rejectTwiML answers a call to a number no call flow serves: Twilio
// rejects it (the caller hears it is not in service), and nothing is
// billed.
const rejectTwiML = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Reject reason="rejected"/></Response>`

// callbackURL is one of the voice endpoints with its query: absolute
// under the public URL when one is configured (what Twilio signs and the
// server checks), else relative to the request, which Twilio resolves.
func (s *Server) callbackURL(path string, q url.Values) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + path + "?" + q.Encode()
}

// renderCall writes the TwiML of a step's actions for call c (its Step
// is the step answered). ends: the call is over after them.
func (s *Server) renderCall(actions []vm.Action, c *store.Call, dir *directory.Directory, ends bool) string {
	step := strconv.Itoa(c.Step)
	action := func(on string, extra ...string) string {
		q := url.Values{"step": {step}, "on": {on}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return s.callbackURL(VoicePath, q)
	}
	var verbs []twiml.Element
	hungUp := false
	for _, a := range actions {
		v := a.Voice
		if v == nil {
			v = &vm.VoiceAction{}
		}
		switch a.Kind {
		case vm.ActSay:
			verbs = append(verbs, twiml.VoiceSay{Message: xmlText(a.Text), Voice: xmlText(v.Voice), Language: xmlText(v.Language)})
		case vm.ActPlay:
			verbs = append(verbs, twiml.VoicePlay{Url: xmlText(a.Text)})
		case vm.ActGather:
			timeout := v.Timeout
			if timeout <= 0 { // a gather without `timeout`: Twilio's default wait (the VM asks again after it)
				timeout = vm.DefaultGatherTimeout
			}
			g := twiml.VoiceGather{Input: "dtmf", Timeout: seconds(timeout), Action: action("gather"), Method: "POST", ActionOnEmptyResult: "true"}
			if v.Digits > 0 {
				g.NumDigits = strconv.Itoa(v.Digits)
			}
			if a.Text != "" {
				g.InnerElements = []twiml.Element{twiml.VoiceSay{Message: xmlText(a.Text), Voice: xmlText(v.Voice), Language: xmlText(v.Language)}}
			}
			verbs = append(verbs, g)
		case vm.ActDial:
			nouns := s.memberNouns(v.Members, dir, step)
			if len(nouns) == 0 {
				verbs = append(verbs, twiml.VoiceRedirect{Url: action("dial", "unringable", "1"), Method: "POST"})
				continue
			}
			verbs = append(verbs, twiml.VoiceDial{Timeout: seconds(v.Timeout), Action: action("dial"), Method: "POST",
				AnswerOnBridge: "true", InnerElements: nouns})
		case vm.ActRecord:
			r := twiml.VoiceRecord{MaxLength: seconds(v.Length), Action: action("record"), Method: "POST", PlayBeep: "true",
				RecordingStatusCallback: s.callbackURL(VoiceRecordingPath, url.Values{"step": {step}}), RecordingStatusCallbackMethod: "POST"}
			if v.Transcribe {
				r.Transcribe = "true"
			}
			verbs = append(verbs, r)
		case vm.ActForward:
			verbs = append(verbs, twiml.VoiceDial{InnerElements: []twiml.Element{twiml.VoiceNumber{PhoneNumber: xmlText(a.Target.Name)}}})
		case vm.ActHangup:
			verbs = append(verbs, twiml.VoiceHangup{})
			hungUp = true
		}
	}
	if ends && !hungUp {
		verbs = append(verbs, twiml.VoiceHangup{})
	}
	out, err := twiml.Voice(verbs)
	if err != nil { // etree writing to a string does not fail; answer something Twilio can play
		return hangupTwiML
	}
	return out
}

// memberNouns are the nouns of a dial ringing members: each member's
// phone (<Number>) and client (<Client> or <Sip>), from the directory,
// with the leg's status callback naming the member and the step.
func (s *Server) memberNouns(members []string, dir *directory.Directory, step string) []twiml.Element {
	var nouns []twiml.Element
	for _, m := range members {
		if dir == nil {
			continue
		}
		u, ok := dir.User(m)
		if !ok {
			continue
		}
		cb := s.callbackURL(VoiceLegPath, url.Values{"step": {step}, "member": {m}})
		if u.Phone != "" {
			nouns = append(nouns, twiml.VoiceNumber{PhoneNumber: xmlText(u.Phone), StatusCallbackEvent: "answered", StatusCallback: cb, StatusCallbackMethod: "POST"})
		}
		switch c := u.Client; {
		case strings.HasPrefix(c, "client:"):
			nouns = append(nouns, twiml.VoiceClient{Identity: xmlText(strings.TrimPrefix(c, "client:")), StatusCallbackEvent: "answered", StatusCallback: cb, StatusCallbackMethod: "POST"})
		case strings.HasPrefix(c, "sip:"):
			nouns = append(nouns, twiml.VoiceSip{SipUrl: xmlText(c), StatusCallbackEvent: "answered", StatusCallback: cb, StatusCallbackMethod: "POST"})
		}
	}
	return nouns
}

// xmlText is s as XML can hold it: invalid UTF-8, and characters XML
// 1.0 has no place for (control characters but tab and line feeds,
// U+FFFE, U+FFFF), become U+FFFD; a carriage return a line feed, as an
// XML parser reads it anyway. A say's text comes from templates that
// insert contacts' and applets' values: none of them can break the
// answer Twilio has to parse.
func xmlText(s string) string {
	ok := func(r rune) bool {
		return r == '\t' || r == '\n' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
	}
	clean := utf8.ValidString(s) && !strings.ContainsRune(s, '\r')
	for _, r := range s {
		if !ok(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ReplaceAll(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n"), "\r", "\n")
	return strings.Map(func(r rune) rune {
		if !ok(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// seconds is a duration as TwiML's whole seconds (at least 1).
func seconds(d time.Duration) string {
	n := int((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return fmt.Sprint(n)
}
