package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppletJavaScript: an applet whose JavaScript does not compile is
// reported in the .js file and at the declaration in the flow; a change
// to another flow keeps it (compiled from the cache), and fixing the
// file on disk clears it.
func TestAppletJavaScript(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"b.flow":            "flow b\nnumbers \"+15550101\"\napplet lookup = \"applets/lookup.js\"\n\nrun lookup(body) as r\nreply \"b\"\n",
		"applets/lookup.js": "function main(ctx) {\n  return (;\n}\n",
	})
	c := startServer(t, Options{})
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, nil)
	a, b := uriOf(filepath.Join(root, "a.flow")), uriOf(filepath.Join(root, "b.flow"))
	js := uriOf(filepath.Join(root, "applets", "lookup.js"))
	c.open(a, "flow a\nnumbers \"+15550100\"\nreply \"a\"\n")
	broken := func(ds []lspDiagnostic) bool { return hasCode(ds, "flow/applet-js") != nil }
	d := hasCode(c.waitFor(b, broken), "flow/applet-js")
	if d.Range.Start.Line != 2 || !strings.Contains(d.Message, "applets/lookup.js:2:") || len(d.RelatedInformation) != 1 || d.RelatedInformation[0].Location.URI != js {
		t.Errorf("at the declaration: %+v", d)
	}
	if d := hasCode(c.waitDiags(js, -1), "flow/applet-js"); d == nil || d.Range.Start.Line != 1 {
		t.Errorf("in the .js file: %+v", d)
	}
	c.forget()
	c.replaceAll(a, 2, "flow a\nnumbers \"+15550100\"\nreply \"a2\"\n")
	c.waitDiags(a, 2)
	c.waitFor(b, broken)
	if err := os.WriteFile(filepath.Join(root, "applets", "lookup.js"), []byte("function main(ctx) {\n  return 1;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.forget()
	c.notify("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": js, "type": 2}}})
	c.waitFor(b, func(ds []lspDiagnostic) bool { return !broken(ds) })
	c.waitFor(js, func(ds []lspDiagnostic) bool { return len(ds) == 0 })
}
