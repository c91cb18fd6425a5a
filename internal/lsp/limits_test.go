package lsp

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// TestConfinedToRoot: the workspace reads nothing outside its root, not
// through "..", not through a symbolic link to a directory or to an
// applet file.
func TestConfinedToRoot(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{
		"x.flow":     "flow x\nnumbers \"+15550100\"\nreply \"outside\"\n",
		"secret.js":  "function main(ctx) { return 'secret'; }\n",
		"outside.js": "function main(ctx) { return 1; }\n",
	})
	root := filepath.Join(t.TempDir(), "ws")
	writeFiles(t, root, map[string]string{
		"a.flow": "flow a\nnumbers \"+15550101\"\napplet up = \"../outside.js\"\napplet link = \"lib.js\"\nrun up(body) as r\nrun link(body) as s\nreply \"a\"\n",
	})
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.js"), filepath.Join(root, "lib.js")); err != nil {
		t.Fatal(err)
	}
	var logs []string
	w := newWorkspace(root, func(f string, a ...any) { logs = append(logs, f) })
	snap := w.current()
	var names []string
	for _, f := range snap.files {
		names = append(names, f.name)
	}
	if strings.Join(names, " ") != "a.flow" {
		t.Errorf("the workspace checked %q; want a.flow only (linked/x.flow is outside the root)", names)
	}
	var msgs []string
	for _, d := range snap.diags[w.uriOfRel("a.flow")] {
		msgs = append(msgs, d.Code+": "+d.Message)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, `"../outside.js"`) || !strings.Contains(all, "lib.js cannot be read") {
		t.Errorf("want errors for both applet files outside the root, got\n%s", all)
	}
	if strings.Contains(all, "secret") {
		t.Errorf("the linked file was read:\n%s", all)
	}
	// Go to definition of the applet does not lead out either.
	f := snap.byURI[w.uriOfRel("a.flow")]
	if rel := appletFile(f, "up"); rel != "" {
		t.Errorf("applet up resolves to %q", rel)
	}
	if _, err := fs.Stat(w.rootFS, appletFile(f, "link")); err == nil {
		t.Error("the workspace's file system follows lib.js out of the root")
	}
}

// TestMessageTooLarge: a Content-Length over MaxMessageBytes ends the
// session before the body is read (without the guard, the server would
// wait for a gigabyte that never comes).
func TestMessageTooLarge(t *testing.T) {
	sr, cw := io.Pipe()
	cr, sw := io.Pipe()
	go io.Copy(io.Discard, cr)
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), sr, sw, Options{}) }()
	go io.WriteString(cw, "Content-Length: 1000000000\r\n\r\n{")
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve returned nil for a session that never shut down")
		}
	case <-time.After(wait):
		t.Fatal("the server is still reading a message of 1,000,000,000 bytes")
	}
	cw.Close()
}

// TestNotInitialized: requests before initialize fail with the
// protocol's ServerNotInitialized; an unknown method is MethodNotFound.
func TestNotInitialized(t *testing.T) {
	c := startServer(t, Options{})
	err := c.call("textDocument/hover", textDocumentPositionParams{}, nil)
	var je *jsonrpc2.Error
	if !errors.As(err, &je) || je.Code != codeServerNotInitialized {
		t.Errorf("hover before initialize: %v", err)
	}
	c.mustCall("initialize", initializeParams{}, nil)
	if err := c.call("initialize", initializeParams{}, nil); err == nil {
		t.Error("a second initialize was accepted")
	}
	if err := c.call("textDocument/semanticTokens/full", struct{}{}, nil); !errors.As(err, &je) || je.Code != codeMethodNotFound {
		t.Errorf("an unknown method: %v", err)
	}
	// A document outside any root is checked from its buffer.
	c.open("file:///nowhere/x.flow", "flow x\nnumbers \"+15550100\"\nrply \"x\"\n")
	if d := hasCode(c.waitDiags("file:///nowhere/x.flow", 1), "flow/applet"); d == nil {
		t.Error("a document outside the root got no diagnostics")
	}
}

// TestPositionsUTF16: ranges count UTF-16 units, as the protocol does:
// an emoji is two, not one rune or four bytes; changes are applied at
// the same units.
func TestPositionsUTF16(t *testing.T) {
	root := t.TempDir()
	c := startServer(t, Options{})
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, nil)
	uri := uriOf(filepath.Join(root, "e.flow"))
	text := "flow e\nnumbers \"+15550100\"\nreply \"😀\" then rply \"x\"\n"
	c.open(uri, text)
	d := hasCode(c.waitDiags(uri, 1), "flow/applet")
	want := Range{Start: Position{Line: 2, Character: 16}, End: Position{Line: 2, Character: 20}}
	if d == nil || d.Range != want {
		t.Fatalf("unknown applet after an emoji: want %v, got %+v", want, d)
	}
	c.notify("textDocument/didChange", didChangeParams{TextDocument: versionedTextDocumentIdentifier{URI: uri, Version: 2},
		ContentChanges: []contentChange{{Range: &want, Text: "reply"}}})
	if ds := c.waitDiags(uri, 2); hasCode(ds, "flow/applet") != nil {
		t.Errorf("the change at UTF-16 %v did not land on rply: %+v", want, ds)
	}
	big := "flow big\n" + strings.Repeat("# padding\n", MaxFileBytes/10+1)
	c.open(uriOf(filepath.Join(root, "big.flow")), big)
	if d := hasCode(c.waitDiags(uriOf(filepath.Join(root, "big.flow")), 1), CodeTooLarge); d == nil {
		t.Error("a buffer over MaxFileBytes was not reported as too large")
	}
}

// TestClientSpelledURI: an open document whose URI the client spells
// its own way (VS Code writes "@" as "%40") is the file of that path, not
// a second file with the same flow: diagnostics go to the client's URI.
func TestClientSpelledURI(t *testing.T) {
	root := filepath.Join(t.TempDir(), "team@1")
	text := "flow a\nnumbers \"+15550100\"\nrply \"x\"\n"
	writeFiles(t, root, map[string]string{"a.flow": text})
	c := startServer(t, Options{})
	c.mustCall("initialize", initializeParams{RootURI: uriOf(root)}, nil)
	spelled := strings.Replace(uriOf(filepath.Join(root, "a.flow")), "team@1", "team%401", 1)
	if spelled == uriOf(filepath.Join(root, "a.flow")) {
		t.Fatal("the test needs a URI spelled differently from Go's")
	}
	c.open(spelled, text)
	ds := c.waitDiags(spelled, 1)
	if hasCode(ds, "flow/applet") == nil || hasCode(ds, "flow/duplicate-flow") != nil {
		t.Errorf("diagnostics of the document: %+v", ds)
	}
	var locs []Location
	c.mustCall("textDocument/definition", textDocumentPositionParams{TextDocument: textDocumentIdentifier{URI: spelled}, Position: Position{Line: 2, Character: 1}}, &locs)
	if len(locs) != 0 {
		t.Errorf("definition of an unknown applet: %+v", locs)
	}
}
