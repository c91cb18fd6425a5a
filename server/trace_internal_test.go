package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/vm"
)

// TestTraceJSONIsBoundedWhateverTheRun: however many and however long
// the errors, actions and steps of a run, its record is valid JSON of at
// most MaxTraceBytes, every string at most MaxErrorBytes plus its
// marker, and each list says how many entries it left out.
func TestTraceJSONIsBoundedWhateverTheRun(t *testing.T) {
	huge := strings.Repeat("<é>", 8<<20/4) // escapes to 6 bytes per '<' and '>': clipping must count JSON, not text
	p := &vm.Program{Name: "f", Version: "v1", File: "f.flow"}
	res := &vm.Result{}
	const errs, acts, steps = 200, 300, 5000
	for i := 0; i < errs; i++ {
		res.Errors = append(res.Errors, huge)
	}
	for i := 0; i < acts; i++ {
		res.Actions = append(res.Actions, vm.Action{Kind: vm.ActReply, Text: huge})
	}
	for i := 0; i < steps; i++ {
		res.Trace = append(res.Trace, vm.TraceStep{Note: huge})
	}
	b := traceJSON(p, res)
	if len(b) > MaxTraceBytes {
		t.Fatalf("trace is %d bytes, over %d", len(b), MaxTraceBytes)
	}
	var rec traceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	var more int
	last := rec.Errors[len(rec.Errors)-1]
	if _, err := fmt.Sscanf(last, "trace truncated: %d more errors", &more); err != nil || len(rec.Errors)-1+more != errs {
		t.Fatalf("last error %q with %d kept, want a marker accounting for all %d", last[:min(len(last), 80)], len(rec.Errors)-1, errs)
	}
	// Errors came first and filled the record: actions and steps only say so.
	if len(rec.Actions) != 1 || rec.Actions[0] != fmt.Sprintf("trace truncated: %d more actions", acts) {
		t.Fatalf("actions %v", rec.Actions)
	}
	if len(rec.Steps) != 1 || rec.Steps[0].Note != fmt.Sprintf("trace truncated: %d more steps", steps) {
		t.Fatalf("steps %v", rec.Steps)
	}
	for _, e := range rec.Errors[:len(rec.Errors)-1] {
		if len(e) > MaxErrorBytes+32 || !utf8.ValidString(e) || !strings.HasSuffix(e, " more bytes)") {
			t.Fatalf("error of %d bytes (valid UTF-8 %v), want at most %d, cut on a rune, marked", len(e), utf8.ValidString(e), MaxErrorBytes)
		}
	}
}

func TestClipLeavesShortTextAlone(t *testing.T) {
	s := strings.Repeat("x", MaxErrorBytes)
	if clip(s) != s {
		t.Fatal("a text of exactly MaxErrorBytes was clipped")
	}
}
