package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"
)

// TestLSPCommand: `flowc lsp` answers a session on stdin and stdout and
// exits 0 after shutdown and exit; 1 when the client leaves without
// them, as the protocol says.
func TestLSPCommand(t *testing.T) {
	session := func(msgs ...map[string]any) *bytes.Buffer {
		var in bytes.Buffer
		for _, m := range msgs {
			m["jsonrpc"] = "2.0"
			if err := (jsonrpc2.VSCodeObjectCodec{}).WriteObject(&in, m); err != nil {
				t.Fatal(err)
			}
		}
		return &in
	}
	initialize := map[string]any{"id": 1, "method": "initialize", "params": map[string]any{"rootUri": nil}}
	var out, errb bytes.Buffer
	in := session(initialize, map[string]any{"id": 2, "method": "shutdown"}, map[string]any{"method": "exit"})
	if code := run([]string{"lsp", "--stdio"}, in, &out, &errb); code != exitOK {
		t.Fatalf("exit %d after shutdown and exit; stderr:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"hoverProvider":true`) || !strings.Contains(out.String(), `"id":2,"result":null`) {
		t.Errorf("stdout:\n%s", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"lsp"}, session(initialize), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "without shutdown") {
		t.Errorf("a client gone without shutdown: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"lsp", "examples/"}, strings.NewReader(""), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "unexpected argument") {
		t.Errorf("flowc lsp examples/: exit %d, stderr %q", code, errb.String())
	}
}
