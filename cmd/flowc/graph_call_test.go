package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphDrawsCallFlows: a call flow starts at the inbound call; a
// gather's edges are the keys pressed, a ring's its outcomes (an
// unwritten answered ends the call, an unwritten busy goes with no
// answer), a voicemail goes on when recorded; a path that leaves the
// caller in silence is a dead end.
func TestGraphDrawsCallFlows(t *testing.T) {
	out := graphOf(t, filepath.Join("..", "..", "examples", "main-line.flow"), "mermaid")
	for _, want := range []string{
		`start(["inbound call<br/>main-line"])`,
		`-->|"press 1"|`,
		`[/"ring team:sales in order for 15s<br/>line 26"/]`,
		`n7 -->|"answered"| done`,
		`n7 -->|"no-answer / busy"|`,
		`-->|"recorded"|`,
		`(("hangup<br/>line 45"))`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("graph lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dead end") {
		t.Errorf("the example has no dead end:\n%s", out)
	}
	silent := filepath.Join(t.TempDir(), "silent.flow")
	src := "flow silent\nchannel voice\nnumbers \"+15550900\"\nring team:sales < on no-answer -> say \"Nobody is here.\" >\n"
	if err := os.WriteFile(silent, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := graphOf(t, silent, "dot"); !strings.Contains(out, `dead end\ncaller left in silence`) {
		t.Errorf("no dead end for the caller left in silence:\n%s", out)
	}
}
