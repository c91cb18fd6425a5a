package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/flowc-dev/flowc/server/store/sqlite"
)

// TestListChangesReachAnotherReplica: a list entry added and removed
// through replica A's admin API is in (then out of) the lists replica B
// hands its next step (inbound.Input.Lists, what list("blocked") reads),
// although B cached the list before each change; while nothing changes,
// B reads the list from memory. Two servers on one SQLite file, as two
// processes.
func TestListChangesReachAnotherReplica(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flowc.db")
	stA, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer stA.Close()
	stB, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer stB.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Config{AdminToken: "admin", Logger: quiet}, stA)
	a.EnsureAdminToken(context.Background())
	b := New(Config{Logger: quiet}, stB)
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()
	admin := func(method, entry string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+"/v1/admin/lists/blocked/"+entry, nil)
		req.Header.Set("Authorization", "Bearer admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d", method, entry, resp.StatusCode, want)
		}
	}
	seq := 0
	// blocked is the list B's next step sees, and the map's identity.
	blocked := func() (map[string]bool, string) {
		t.Helper()
		seq++
		snap, err := b.readStep(context.Background(), Inbound{SID: fmt.Sprint("SM", seq), From: "+15551230000", To: "+15550100"}, false, jsonFields)
		if err != nil {
			t.Fatal(err)
		}
		set, err := snap.in.Lists(context.Background(), "blocked")
		if err != nil {
			t.Fatal(err)
		}
		return set, fmt.Sprintf("%p", set)
	}
	if set, _ := blocked(); len(set) != 0 {
		t.Fatalf("before any entry: %v", set)
	}
	admin("PUT", "%2B15551230000", http.StatusCreated)
	admin("PUT", "%2B15551230000", http.StatusOK) // there already
	set, id := blocked()
	if !set["+15551230000"] || len(set) != 1 {
		t.Fatalf("after the PUT on A, B sees %v", set)
	}
	if again, id2 := blocked(); id2 != id || len(again) != 1 {
		t.Errorf("nothing changed: B read the list again (%s, then %s)", id, id2)
	}
	admin("DELETE", "%2B15551230000", http.StatusNoContent)
	admin("DELETE", "%2B15551230000", http.StatusNotFound)
	if set, _ := blocked(); len(set) != 0 {
		t.Fatalf("after the DELETE on A, B sees %v", set)
	}
}
