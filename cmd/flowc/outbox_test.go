package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestDeliveryShownByTraceInboxOutbox: a menu's timeout reply leaves
// through the provider, its delivery report comes back, and `flowc
// trace`, `flowc inbox` and `flowc outbox` show what became of it.
func TestDeliveryShownByTraceInboxOutbox(t *testing.T) {
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SMreply42","status":"queued"}`)
	}))
	defer prov.Close()
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	as := startAdminServer(t, "../../server/testdata/timeout.flow", server.Config{Now: clock,
		Outbound: &server.Outbound{TwilioAPIURL: prov.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "x"}})
	srv, flowc := as.srv, as.flowc
	post := func(path string, f url.Values) {
		resp, err := http.PostForm(as.url+path, f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
	post("/webhooks/twilio/sms", url.Values{"MessageSid": {"SMin1"}, "From": {"+15550001234"}, "To": {"+15550910"}, "Body": {"hi"}, "SmsStatus": {"received"}})
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	if _, err := srv.FireTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.SendOutbox(context.Background()); err != nil || n != 1 {
		t.Fatalf("sent %d, %v", n, err)
	}
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	post("/webhooks/twilio/status", url.Values{"MessageSid": {"SMreply42"}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}})

	code, out, errOut := flowc("outbox", "--status", "sent", "--json")
	var items []delivery
	if code != exitOK || json.Unmarshal([]byte(out), &items) != nil || len(items) != 1 {
		t.Fatalf("outbox --json: %d %s %s", code, out, errOut)
	}
	want := "undelivered (error 30003)"
	if code, out, _ := flowc("trace", items[0].MessageSID); code != exitOK || !strings.Contains(out, "→ sms 1 to +15550001234: "+want+" at 2026-11-23T10:11:05Z [SMreply42]") {
		t.Fatalf("trace of the timer run: %d\n%s", code, out)
	}
	if code, out, _ := flowc("inbox", "team:sales"); code != exitOK || !strings.Contains(out, "sms "+want+" 10:11") {
		t.Fatalf("inbox: %d\n%s", code, out)
	}
	if code, out, _ := flowc("outbox", "--status", "all"); code != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "STATE") {
		t.Fatalf("outbox: %d\n%s", code, out)
	}
	if code, _, errOut := flowc("outbox", "--status", "nope"); code != exitFail || !strings.Contains(errOut, `status "nope"`) {
		t.Fatalf("outbox --status nope: %d %s", code, errOut)
	}
}
