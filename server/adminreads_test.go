package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
)

// TestAdminReadsWaitForASlot: with the default of one admin read at
// once, a listing that finds the slot taken (the last read's rest) waits
// for it: one whose request ends first gets a 503 saying so and does
// not reach the store; once the rest ends the listing is served.
func TestAdminReadsWaitForASlot(t *testing.T) {
	h, tok := adminHarness(t)
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var ends []func()
	server.SetAdminReadClock(h.srv, func() time.Time { clock = clock.Add(5 * time.Millisecond); return clock },
		func(_ time.Duration, f func()) { ends = append(ends, f) })
	get := func(ctx context.Context, path string) (int, string) {
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	// A bound, not a synchronisation: a read that wrongly waited would
	// fail after it instead of hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ended, stop := context.WithCancel(context.Background())
	stop()

	for _, path := range []string{"/v1/admin/numbers", "/v1/admin/inbox/team/sales?limit=10"} {
		if code, body := get(ctx, path); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if len(ends) != 1 {
			t.Fatalf("%s: %d rests, want the read's", path, len(ends))
		}
		code, body := get(ended, path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "admin reads busy") || !strings.Contains(body, "FLOWC_ADMIN_READS") {
			t.Fatalf("%s while the slot rests, request ended: %d %s, want 503 admin reads busy", path, code, body)
		}
		ends[0]()
		ends = nil
	}
	if code, body := get(ctx, "/v1/admin/numbers"); code != http.StatusOK {
		t.Fatalf("after the rest: %d %s", code, body)
	}
}
