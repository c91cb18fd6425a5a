package server_test

// Regression tests of the voice review (each failed before its fix).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// 1. A gather without a `timeout` branch: TwiML timeout="1" (the caller
// has one second), and the empty-digits callback answers no verb at
// all, so Twilio hangs up; the call stays "live" in the store.
func TestAGatherWithoutATimeoutBranchWaitsAndAsksAgain(t *testing.T) {
	const flow = `flow line
channel voice
numbers "+15550100"
timezone "America/New_York"

gather "Press 1 for sales" <
  1    -> hangup
  else -> hangup
>
`
	h := startFlowsAt(t, nil, map[string]string{"line.flow": flow}, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
	first := h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
	if strings.Contains(first, `timeout="1"`) {
		t.Errorf("a gather with no timeout branch gives the caller 1 second: %s", first)
	}
	empty := h.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1"), http.StatusOK)
	if !strings.Contains(empty, "<Gather") && !strings.Contains(empty, "<Hangup") {
		t.Errorf("no digits at a gather with no timeout branch: %s (no verb: Twilio hangs up, the call is left live)", empty)
	}
}

// 2. The caller hangs up after talking to bob; the call's status
// callback is handled before the <Dial> action: a "missed call" lands
// in team:sales's inbox although bob answered, and last_called_by is
// never recorded.
func TestAHangupAfterAnAnswerIsNoMissedCall(t *testing.T) {
	h := startLine(t, nil)
	h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
	dial := parseTwiML(t, h.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "1"), http.StatusOK))
	leg := dial.legOf("bob")
	h.voice(leg[strings.Index(leg, "/webhooks"):], url.Values{"CallSid": {legSID}, "ParentCallSid": {"CA1"}, "CallStatus": {"in-progress"}}, http.StatusNoContent)
	h.voice("/webhooks/twilio/voice/status", callForm("CA1", "CallStatus", "completed"), http.StatusNoContent)
	h.voice("/webhooks/twilio/voice?step=2&on=dial", callForm("CA1", "DialCallStatus", "completed"), http.StatusOK)
	for _, it := range h.inbox("team", "sales") {
		if strings.Contains(it.Body, "Missed call") {
			t.Errorf("bob answered, yet team:sales has %q", it.Body)
		}
	}
	if got := h.text(caller, lineNum, "hi"); !strings.Contains(got, "last called by bob") {
		t.Errorf("after bob answered: %s, want last_called_by bob", got)
	}
}

// 3. The caller leaves a voicemail and hangs up (the usual way to end
// one); the status callback is handled before the <Record> action: the
// voicemail is never delivered (the action is answered from the
// hangup's step; the recording status callback is only logged).
func TestAVoicemailSurvivesTheStatusCallbackComingFirst(t *testing.T) {
	h := startLine(t, nil)
	h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
	h.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "2"), http.StatusOK) // else -> message
	h.voice("/webhooks/twilio/voice/status", callForm("CA1", "CallStatus", "completed"), http.StatusNoContent)
	h.voice("/webhooks/twilio/voice?step=2&on=record", callForm("CA1", "RecordingUrl", recordAt, "RecordingDuration", "30"), http.StatusOK)
	h.voice("/webhooks/twilio/voice/recording?step=2", url.Values{"CallSid": {"CA1"}, "RecordingSid": {"RE1"}, "RecordingStatus": {"completed"},
		"RecordingUrl": {recordAt}, "RecordingDuration": {"30"}}, http.StatusNoContent)
	n := 0
	for _, it := range h.outbox("") {
		if it.Kind == "email" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d voicemail e-mails, want 1: the recording exists at Twilio and is lost", n)
	}
}

// 4. answered_by is reset only by a dial that was not answered: a
// second ring after an answered one reports the first answerer.
func TestASecondRingReportsItsOwnAnswerer(t *testing.T) {
	const flow = `flow line
channel voice
numbers "+15550100"
timezone "America/New_York"

ring user:bob <
  on answered -> ring user:alice
>
hangup
`
	h := startFlowsAt(t, nil, map[string]string{"line.flow": flow, "texts.flow": voiceTexts}, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
	d1 := parseTwiML(t, h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK))
	leg := d1.legOf("bob")
	h.voice(leg[strings.Index(leg, "/webhooks"):], url.Values{"CallSid": {legSID}, "ParentCallSid": {"CA1"}, "CallStatus": {"in-progress"}}, http.StatusNoContent)
	d2 := parseTwiML(t, h.voice("/webhooks/twilio/voice?step=1&on=dial", callForm("CA1", "DialCallStatus", "completed"), http.StatusOK))
	leg = d2.legOf("alice")
	h.voice(leg[strings.Index(leg, "/webhooks"):], url.Values{"CallSid": {"CA98"}, "ParentCallSid": {"CA1"}, "CallStatus": {"in-progress"}}, http.StatusNoContent)
	h.voice("/webhooks/twilio/voice?step=2&on=dial", callForm("CA1", "DialCallStatus", "completed"), http.StatusOK)
	code, body := h.admin("GET", "/v1/admin/calls/CA1", adminToken, nil)
	if code != http.StatusOK {
		t.Fatalf("trace: %d %s", code, body)
	}
	var ce struct {
		Steps []struct{ Event string } `json:"steps"`
	}
	json.Unmarshal(body, &ce)
	if len(ce.Steps) < 3 || ce.Steps[2].Event != "dial: answered by alice" {
		t.Errorf("second ring's answer: %+v, want answered by alice", ce.Steps)
	}
	if got := h.text(caller, lineNum, "hi"); !strings.Contains(got, "last called by alice") {
		t.Errorf("%s, want last_called_by alice", got)
	}
}

// 5. A call flow deployed before migration 00017 (the old binary saved
// it with channel 'sms' and no numbers): deploying the same source
// again is "unchanged", so its numbers are never routed for calls.
func TestACallFlowDeployedBeforeCallRoutesIsRoutedAfterTheUpgrade(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"line.flow": voiceLine}
	res, err := lang.Load([]string{flowDir(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	progs, _ := compiler.All(res)
	st, err := sqlite.Open(ctx, t.TempDir()+"/flowc.db")
	if err != nil {
		t.Fatal(err)
	}
	p := progs[0]
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err = st.InTx(ctx, func(tx store.Tx) error { // what aa1ac4c's saveVersion/activate stored
		if err := tx.SaveProgram(ctx, &store.Program{Flow: p.Name, Version: p.Version, Encoded: buf.Bytes(), Numbers: p.Numbers, Created: now}); err != nil {
			return err
		}
		return tx.Activate(ctx, p.Name, p.Version, p.Numbers, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	h := startFlowsAt(t, st, files, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
	if body := h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK); strings.Contains(body, "<Reject") {
		t.Errorf("the call flow, redeployed after the upgrade, does not answer: %s", body)
	}
	// A rollback to another such version (saved as an SMS flow serving
	// no number) routes its calls too.
	const old = "0123456789abcdef"
	err = st.InTx(ctx, func(tx store.Tx) error {
		return tx.SaveProgram(ctx, &store.Program{Flow: "line", Version: old, Encoded: buf.Bytes(), Created: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := h.admin("POST", "/v1/admin/flows/line/rollback", adminToken, map[string]string{"version": old}); code != http.StatusOK {
		t.Fatalf("rollback: %d %s", code, body)
	}
	if body := h.voice("/webhooks/twilio/voice", callForm("CA2"), http.StatusOK); strings.Contains(body, "<Reject") {
		t.Errorf("after a rollback to the call flow: %s", body)
	}
}

// TestACallEndsAtItsStepLimit: a flow that loops through a gather forever
// is ended at server.MaxCallSteps: the last answer hangs up and the call
// is over in the store (a later status callback changes nothing).
func TestACallEndsAtItsStepLimit(t *testing.T) {
	const flow = `flow loop
channel voice
numbers "+15550100"
timezone "America/New_York"

goto again

section again <
  gather "Press a key" <
    1          -> goto again
    timeout 5s -> goto again
    else       -> goto again
  >
>
`
	h := startFlowsAt(t, nil, map[string]string{"loop.flow": flow}, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
	h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
	var last string
	for step := 1; step < server.MaxCallSteps; step++ {
		last = h.voice(fmt.Sprintf("/webhooks/twilio/voice?step=%d&on=gather", step), callForm("CA1", "Digits", "1"), http.StatusOK)
	}
	if !strings.Contains(last, "<Gather") {
		t.Fatalf("step %d: %s, want the gather still", server.MaxCallSteps, last)
	}
	last = h.voice(fmt.Sprintf("/webhooks/twilio/voice?step=%d&on=gather", server.MaxCallSteps), callForm("CA1", "Digits", "1"), http.StatusOK)
	if !strings.Contains(last, "<Hangup/>") || strings.Contains(last, "<Gather") {
		t.Errorf("past the limit: %s, want a hangup", last)
	}
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		c, err := tx.(store.CallsTx).Call(context.Background(), "CA1")
		if err == nil && (c.State != nil || c.Ended.IsZero() || c.Step != server.MaxCallSteps+1) {
			t.Errorf("the call after its limit: step %d, ended %v, state %d bytes; want over at step %d", c.Step, c.Ended, len(c.State), server.MaxCallSteps+1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
