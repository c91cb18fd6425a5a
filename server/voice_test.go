package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// The voice webhook's guarantees beyond the example's scenarios
// (voice_example_test.go): signatures, bad requests named, numbers with
// no call flow, reused and out-of-order CallSids, voicemail by e-mail,
// who answered in the contact's history, availability, and a call that
// moves between replicas.

const voiceLine = `flow line
channel voice
numbers "+15550100"
timezone "America/New_York"

say "Hello"
gather "Press 1 for sales" <
  1          -> ring team:sales all for 20s <
    on answered  -> hangup
    on no-answer -> goto message
    on busy      -> goto message
  >
  timeout 5s -> goto message
  else       -> goto message
>

section message <
  voicemail max 1m then forward email:"desk@example.com"
  hangup
>
`

const voiceTexts = `flow texts
numbers "+15550100"
timezone "America/New_York"

reply "last called by {{contact.last_called_by ?? 'nobody'}}"
`

const (
	caller   = "+15557654321"
	lineNum  = "+15550100"
	legSID   = "CA99999999999999999999999999999999"
	recordAt = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
)

func startLine(t *testing.T, st store.Store) *harness {
	return startFlowsAt(t, st, map[string]string{"line.flow": voiceLine, "texts.flow": voiceTexts}, time.Date(2026, 11, 23, 10, 0, 0, 0, ny), nil)
}

func callForm(sid string, kv ...string) url.Values {
	f := url.Values{"CallSid": {sid}, "From": {caller}, "To": {lineNum}, "CallStatus": {"in-progress"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// voice posts a signed voice request, wanting code.
func (h *harness) voice(path string, form url.Values, code int) string {
	h.t.Helper()
	got, body := h.postSigned(path, form)
	if got != code {
		h.t.Fatalf("POST %s %v: %d %s, want %d", path, form, got, body, code)
	}
	return body
}

func TestVoiceEndpointsRefuseUnsignedRequests(t *testing.T) {
	h := startLine(t, nil)
	for _, path := range []string{"/webhooks/twilio/voice", "/webhooks/twilio/voice?step=1&on=gather", "/webhooks/twilio/voice/status",
		"/webhooks/twilio/voice/leg?step=1&member=alice", "/webhooks/twilio/voice/recording?step=1"} {
		form := callForm("CA1", "ParentCallSid", "CA1", "RecordingSid", "RE1", "RecordingStatus", "completed", "Digits", "1")
		for _, sig := range []string{"", "bm90IGEgc2lnbmF0dXJl", h.sign(path, url.Values{"CallSid": {"CA2"}})} {
			req, _ := http.NewRequest(http.MethodPost, h.http.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if sig != "" {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with signature %q: %d, want 403", path, sig, resp.StatusCode)
			}
		}
	}
	if n := countCalls(t, h); n != 0 {
		t.Errorf("%d calls stored from unsigned requests", n)
	}
}

func TestVoiceRequestsNameTheFieldAtFault(t *testing.T) {
	h := startLine(t, nil)
	h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
	long := strings.Repeat("9", 65)
	for _, tc := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/webhooks/twilio/voice", url.Values{"From": {caller}, "To": {lineNum}}, "CallSid is missing"},
		{"/webhooks/twilio/voice", callForm("CA" + long), "CallSid is longer than 64 bytes"},
		{"/webhooks/twilio/voice", callForm("CA1", "From", "+1\x00"), "From contains a NUL"},
		{"/webhooks/twilio/voice?step=x&on=gather", callForm("CA1"), "step is not a whole number"},
		{"/webhooks/twilio/voice?step=1&on=dance", callForm("CA1"), `on "dance" is not one of gather, dial, record`},
		{"/webhooks/twilio/voice?step=1", callForm("CA1"), "on is missing"}, // found by FuzzCallRequest
		{"/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "12a"), "Digits is not at most 64 of 0-9, * and #"},
		{"/webhooks/twilio/voice?step=1&on=dial", callForm("CA1"), "DialCallStatus is missing"},
		{"/webhooks/twilio/voice?step=1&on=dial", callForm("CA1", "DialCallStatus", "exploded"), `DialCallStatus "exploded" is not one of`},
		{"/webhooks/twilio/voice?step=1&on=record", callForm("CA1", "RecordingUrl", "javascript:alert(1)", "RecordingDuration", "3"), "RecordingUrl"},
		{"/webhooks/twilio/voice?step=1&on=record", callForm("CA1", "RecordingUrl", recordAt, "RecordingDuration", "-1"), "RecordingDuration is not a whole number of seconds"},
		{"/webhooks/twilio/voice/status", callForm("CA1", "CallStatus", "exploded"), `CallStatus "exploded" is not a call status`},
		{"/webhooks/twilio/voice/leg?step=1&member=alice", url.Values{"CallStatus": {"in-progress"}}, "ParentCallSid is missing"},
		{"/webhooks/twilio/voice/leg?step=0&member=alice", url.Values{"ParentCallSid": {"CA1"}, "CallStatus": {"in-progress"}}, "step is not a whole number"},
	} {
		body := h.voice(tc.path, tc.form, http.StatusBadRequest)
		if !strings.Contains(body, tc.want) {
			t.Errorf("POST %s %v: %q, want it to say %q", tc.path, tc.form, body, tc.want)
		}
	}
	if n := countSteps(t, h, "CA1"); n != 1 {
		t.Errorf("call CA1 has %d steps after refused requests, want 1", n)
	}
}

// TestCallsThatAreNotTheServersToRun: a number with no call flow is
// rejected (nothing stored, a retry answered the same), a CallSid of
// another call is a 409, and so is a callback for a step the call has
// not reached; a callback of a call that is over hangs up.
func TestCallsThatAreNotTheServersToRun(t *testing.T) {
	h := startLine(t, nil)
	for range 2 {
		if body := h.voice("/webhooks/twilio/voice", callForm("CA1", "To", "+15559999"), http.StatusOK); !strings.Contains(body, `<Reject reason="rejected"/>`) {
			t.Errorf("a call to a number with no call flow: %s, want <Reject>", body)
		}
	}
	if n := countCalls(t, h); n != 0 {
		t.Errorf("%d calls stored for a number with no call flow", n)
	}
	h.voice("/webhooks/twilio/voice", callForm("CA2"), http.StatusOK)
	if body := h.voice("/webhooks/twilio/voice", callForm("CA2", "From", "+15550000"), http.StatusConflict); !strings.Contains(body, "is a call from "+caller) {
		t.Errorf("CallSid of another caller: %s", body)
	}
	if body := h.voice("/webhooks/twilio/voice?step=3&on=gather", callForm("CA2", "Digits", "1"), http.StatusConflict); !strings.Contains(body, "next callback is step=1") {
		t.Errorf("a callback ahead of the call: %s", body)
	}
	h.voice("/webhooks/twilio/voice/status", callForm("CA2", "CallStatus", "completed"), http.StatusNoContent)
	if body := h.voice("/webhooks/twilio/voice?step=2&on=gather", callForm("CA2", "Digits", "1"), http.StatusOK); !strings.Contains(body, "<Hangup/>") {
		t.Errorf("a callback of a call that is over: %s, want <Hangup/>", body)
	}
}

// TestWhoAnsweredAndVoicemailByEmail: the member whose leg answered is
// the contact's last_called_by (an SMS flow on the line reads it), a
// voicemail forwarded by e-mail carries the recording, and ringing all
// at once rings every available member only.
func TestWhoAnsweredAndVoicemailByEmail(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startLine(t, sc.open(t))
			if got := h.text(caller, lineNum, "hi"); !strings.Contains(got, "last called by nobody") {
				t.Fatalf("before any call: %s", got)
			}
			h.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
			dial := parseTwiML(t, h.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "1"), http.StatusOK))
			if got := dial.describe(); len(got) != 1 || got[0] != "dial 20s alice,bob" {
				t.Fatalf("press 1: %q, want alice and bob rung at once", got)
			}
			leg := dial.legOf("bob")
			h.voice(leg[strings.Index(leg, "/webhooks"):], url.Values{"CallSid": {legSID}, "ParentCallSid": {"CA1"}, "CallStatus": {"in-progress"}}, http.StatusNoContent)
			if body := h.voice("/webhooks/twilio/voice?step=2&on=dial", callForm("CA1", "DialCallStatus", "completed"), http.StatusOK); !strings.Contains(body, "<Hangup/>") {
				t.Fatalf("after the answered call: %s", body)
			}
			if got := h.text(caller, lineNum, "hi again"); !strings.Contains(got, "last called by bob") {
				t.Errorf("after bob answered: %s, want last_called_by bob", got)
			}

			// bob away: only alice is rung; nobody answers: a voicemail by e-mail.
			if code, body := h.admin("PATCH", "/v1/admin/directory/users/bob", adminToken, map[string]any{"available": false}); code != http.StatusOK {
				t.Fatalf("PATCH bob: %d %s", code, body)
			}
			h.voice("/webhooks/twilio/voice", callForm("CA2"), http.StatusOK)
			dial = parseTwiML(t, h.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA2", "Digits", "1"), http.StatusOK))
			if got := dial.describe(); len(got) != 1 || got[0] != "dial 20s alice" {
				t.Fatalf("press 1 with bob away: %q, want alice alone", got)
			}
			rec := parseTwiML(t, h.voice("/webhooks/twilio/voice?step=2&on=dial", callForm("CA2", "DialCallStatus", "no-answer"), http.StatusOK))
			if got := rec.describe(); len(got) != 1 || got[0] != "record 60s" {
				t.Fatalf("no answer: %q, want a voicemail of at most 60s", got)
			}
			h.voice("/webhooks/twilio/voice?step=3&on=record", callForm("CA2", "RecordingUrl", recordAt, "RecordingDuration", "42"), http.StatusOK)
			h.voice("/webhooks/twilio/voice/recording?step=3", url.Values{"CallSid": {"CA2"}, "RecordingSid": {"RE1"}, "RecordingStatus": {"completed"},
				"RecordingUrl": {recordAt}, "RecordingDuration": {"42"}}, http.StatusNoContent) // the same step as the action's: nothing more
			var mails []store.OutboxItem
			for _, it := range h.outbox("") {
				if it.Kind == "email" {
					mails = append(mails, it)
				}
			}
			if len(mails) != 1 || mails[0].To != "desk@example.com" || !strings.Contains(mails[0].Body, recordAt) || !strings.Contains(mails[0].Body, "Voicemail (42s)") {
				t.Errorf("voicemail e-mails %+v, want one to desk@example.com with the recording", mails)
			}
			h.voice("/webhooks/twilio/voice/status", callForm("CA2", "CallStatus", "completed"), http.StatusNoContent)
		})
	}
}

// TestACallMovesBetweenReplicas: each of a call's requests may reach
// another replica (or a restarted server): the call goes on from the
// stored step, and a callback both receive is answered once.
func TestACallMovesBetweenReplicas(t *testing.T) {
	for _, qs := range queueStores {
		t.Run(qs.name, func(t *testing.T) {
			db := qs.db(t)
			a, _ := db(t)
			b, _ := db(t)
			ha, hb := startLine(t, a), startLine(t, b)
			ha.voice("/webhooks/twilio/voice", callForm("CA1"), http.StatusOK)
			first := hb.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "1"), http.StatusOK)
			if again := ha.voice("/webhooks/twilio/voice?step=1&on=gather", callForm("CA1", "Digits", "2"), http.StatusOK); again != first {
				t.Errorf("the same callback on the other replica: %s, first %s", again, first)
			}
			if got := parseTwiML(t, first).describe(); len(got) != 1 || !strings.HasPrefix(got[0], "dial ") {
				t.Errorf("press 1 on the second replica: %q", got)
			}
			ha.voice("/webhooks/twilio/voice?step=2&on=dial", callForm("CA1", "DialCallStatus", "busy"), http.StatusOK)
			if n := countSteps(t, ha, "CA1"); n != 3 {
				t.Errorf("%d steps, want 3", n)
			}
		})
	}
}

func countCalls(t *testing.T, h *harness) int {
	t.Helper()
	n := 0
	for _, sid := range []string{"CA1", "CA2"} {
		err := h.store.InTx(context.Background(), func(tx store.Tx) error {
			_, err := tx.(store.CallsTx).Call(context.Background(), sid)
			if err == nil {
				n++
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func countSteps(t *testing.T, h *harness, sid string) int {
	t.Helper()
	var steps []store.CallStep
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		var err error
		steps, err = tx.(store.CallsTx).CallSteps(context.Background(), sid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(steps)
}
