package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestDeliveryShownByTraceInboxOutbox: a menu's timeout reply leaves
// through the provider, its delivery report comes back, and `flowc
// trace`, `flowc inbox` and `flowc outbox` show what became of it.
func TestDeliveryShownByTraceInboxOutbox(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SMreply42","status":"queued"}`)
	}))
	defer prov.Close()
	res, _ := lang.Load([]string{"../../server/testdata/timeout.flow"})
	progs, _ := compiler.All(res)
	dir, _ := server.LoadDirectory("../../examples/directory.json")
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := server.New(server.Config{Directory: dir, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Outbound: &server.Outbound{TwilioAPIURL: prov.URL, TwilioAccountSID: "AC123", TwilioAuthToken: "x"}}, st)
	if err := srv.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	token, _, err := srv.EnsureAdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	flowc := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(append(args, "--server", hs.URL, "--token", token), nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	post := func(path string, f url.Values) {
		resp, err := http.PostForm(hs.URL+path, f)
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
