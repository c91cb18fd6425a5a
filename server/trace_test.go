package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/vm"
)

// storedTrace is a message's stored execution record.
type storedTrace struct {
	Actions []string `json:"actions"`
	Errors  []string `json:"errors"`
	Steps   []struct {
		Op   string `json:"op"`
		Note string `json:"note"`
	} `json:"steps"`
}

func (h *harness) trace(t *testing.T, sid string) (storedTrace, int) {
	t.Helper()
	m := h.messageT(t, sid)
	if m == nil {
		t.Fatalf("message %s not stored", sid)
	}
	var tr storedTrace
	if err := json.Unmarshal(m.Trace, &tr); err != nil {
		t.Fatalf("stored trace is not JSON: %v", err)
	}
	return tr, len(m.Trace)
}

// TestHugeAppletErrorIsClippedInTheStoredRecord (issue #10): an applet
// failing with an 8 MB error text produced a 16 MiB stored record (the
// text twice: in the errors and in the step's note). Each error text is
// at most server.MaxErrorBytes, marked as cut.
func TestHugeAppletErrorIsClippedInTheStoredRecord(t *testing.T) {
	huge := strings.Repeat("boom ", 8<<20/5)
	applets := func(context.Context, *vm.Applet, vm.AppletInput) (any, error) { return nil, errors.New(huge) }
	h := startWith(t, setup{token: authToken, applets: applets}, "testdata/slow.flow")
	f := h.form("SMhugeerror", ann, "+15550950", "hi")
	if code, body := h.postForm(f); code != http.StatusOK || body != twiml("applet failed", "done ") {
		t.Fatalf("%d %s", code, body)
	}
	tr, size := h.trace(t, "SMhugeerror")
	if size > server.MaxTraceBytes {
		t.Fatalf("stored trace is %d bytes, over %d", size, server.MaxTraceBytes)
	}
	if len(tr.Errors) != 1 {
		t.Fatalf("errors %d, want 1", len(tr.Errors))
	}
	texts := []string{tr.Errors[0]}
	for _, s := range tr.Steps {
		if strings.HasPrefix(s.Note, "error: ") {
			texts = append(texts, s.Note)
		}
	}
	if len(texts) != 2 {
		t.Fatalf("want the error in errors and in one step's note, got %d texts", len(texts))
	}
	for _, e := range texts {
		if len(e) > server.MaxErrorBytes+64 || !strings.Contains(e, "boom boom") || !strings.HasSuffix(e, " more bytes)") {
			t.Errorf("error text of %d bytes, ending %q: want at most ~%d, marked as cut", len(e), e[max(0, len(e)-40):], server.MaxErrorBytes)
		}
	}
}

// TestLongTraceIsTruncatedAndSaysSo: a run of thousands of steps is
// stored as at most server.MaxTraceBytes of JSON, its last step saying
// how many were left out.
func TestLongTraceIsTruncatedAndSaysSo(t *testing.T) {
	const sets = 3000
	var b strings.Builder
	b.WriteString("flow long\nnumbers \"+15550960\"\ntimezone \"UTC\"\n\n")
	for i := 0; i < sets; i++ {
		fmt.Fprintf(&b, "set v%d = %d\n", i%50, i)
	}
	b.WriteString("reply \"done\"\n")
	path := filepath.Join(t.TempDir(), "long.flow")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, authToken, path)
	if code, body := h.postForm(h.form("SMlongtrace", ann, "+15550960", "hi")); code != http.StatusOK || body != twiml("done") {
		t.Fatalf("%d %s", code, body)
	}
	tr, size := h.trace(t, "SMlongtrace")
	if size > server.MaxTraceBytes {
		t.Fatalf("stored trace is %d bytes, over %d", size, server.MaxTraceBytes)
	}
	last := tr.Steps[len(tr.Steps)-1]
	var more int
	if _, err := fmt.Sscanf(last.Note, "trace truncated: %d more steps", &more); err != nil || last.Op != "truncated" {
		t.Fatalf("last step %+v, want a truncation marker", last)
	}
	if kept := len(tr.Steps) - 1; kept+more < sets {
		t.Fatalf("%d steps kept + %d left out < the %d sets run", kept, more, sets)
	}
	// The actions (kept before the steps) all fit, or say they did not.
	if lastAct := tr.Actions[len(tr.Actions)-1]; len(tr.Actions) < sets && !strings.HasSuffix(lastAct, " more actions") {
		t.Fatalf("%d actions kept of %d, the last %q: want a truncation marker", len(tr.Actions), sets, lastAct)
	}
}
