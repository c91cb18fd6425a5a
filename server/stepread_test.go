package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStepReadSeesThePreviousCommit: a step's read (one statement outside
// any transaction; on SQLite on a read-only WAL connection, not the
// writers' one) sees the previous message's commit every time. A stale
// read would still end in the right answer, through a conflict at the
// commit and a second run, so the test counts conflicts: there must be
// none, in 30 messages of one conversation.
func TestStepReadSeesThePreviousCommit(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			h := startWith(t, setup{token: authToken, store: sc.open(t)}, "testdata/counter.flow")
			if got := h.text(ann, "+15550900", "hi"); got != twiml("next") {
				t.Fatalf("the first message: %s", got)
			}
			for i := 1; i <= 30; i++ {
				if got, want := h.text(ann, "+15550900", fmt.Sprint("m", i)), twiml(fmt.Sprintf("%d m%d", i, i), "next"); got != want {
					t.Fatalf("message %d: %s, want %s", i, got, want)
				}
			}
			resp, err := http.Get(h.http.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), "\nflowc_step_conflicts_total 0\n") {
				i := strings.Index(string(b), "\nflowc_step_conflicts_total")
				t.Fatalf("conflicts: %.60q, want 0 (a step read a state older than the previous commit)", string(b)[max(i, 0):])
			}
		})
	}
}
