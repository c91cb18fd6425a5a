package lsp

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// testClient is an LSP client for tests: jsonrpc2 on the client side of
// a pipe, with the server's notifications collected.
type testClient struct {
	t     testing.TB
	conn  *jsonrpc2.Conn
	diags chan publishDiagnosticsParams
	done  chan error
	seen  []publishDiagnosticsParams
	// texts are the open documents as the client holds them.
	texts map[string]string
}

type pipeRWC struct {
	io.Reader
	io.WriteCloser
}

// startServer runs Serve on one end of two pipes and returns a client on
// the other.
func startServer(t testing.TB, opts Options) *testClient {
	t.Helper()
	sr, cw := io.Pipe()
	cr, sw := io.Pipe()
	c := &testClient{t: t, diags: make(chan publishDiagnosticsParams, 1000), done: make(chan error, 1), texts: map[string]string{}}
	if opts.Debounce == 0 {
		opts.Debounce = time.Millisecond
	}
	go func() {
		err := Serve(context.Background(), sr, sw, opts)
		sw.Close()
		c.done <- err
	}()
	h := jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		if req.Method == "textDocument/publishDiagnostics" && req.Params != nil {
			var p publishDiagnosticsParams
			if err := json.Unmarshal(*req.Params, &p); err != nil {
				t.Errorf("publishDiagnostics: %v", err)
			}
			c.diags <- p
		}
		return nil, nil
	})
	c.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(pipeRWC{cr, cw}, jsonrpc2.VSCodeObjectCodec{}), h)
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// wait bounds every wait for the server: far above any real answer time
// on a loaded machine, only there so a broken server fails the test
// instead of hanging it.
const wait = 60 * time.Second

func (c *testClient) call(method string, params, result any) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return c.conn.Call(ctx, method, params, result)
}

func (c *testClient) mustCall(method string, params, result any) {
	c.t.Helper()
	if err := c.call(method, params, result); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *testClient) notify(method string, params any) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, params); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

// waitDiags returns the diagnostics published for uri at version
// (-1: a file that is not open, published without a version), skipping
// older publications.
func (c *testClient) waitDiags(uri string, version int) []lspDiagnostic {
	c.t.Helper()
	match := func(p publishDiagnosticsParams) bool {
		return p.URI == uri && (version < 0 || p.Version != nil && *p.Version == version)
	}
	// Publications for other files may have come first: they are kept.
	for i := len(c.seen) - 1; i >= 0; i-- {
		if match(c.seen[i]) {
			return c.seen[i].Diagnostics
		}
	}
	timeout := time.After(wait)
	for {
		select {
		case p := <-c.diags:
			c.seen = append(c.seen, p)
			if match(p) {
				return p.Diagnostics
			}
		case <-timeout:
			c.t.Fatalf("no diagnostics for %s version %d", uri, version)
		}
	}
}

func (c *testClient) open(uri, text string) {
	c.texts[uri] = text
	c.notify("textDocument/didOpen", didOpenParams{TextDocument: textDocumentItem{URI: uri, LanguageID: "flowc", Version: 1, Text: text}})
}

func (c *testClient) replaceAll(uri string, version int, text string) {
	c.texts[uri] = text
	c.notify("textDocument/didChange", didChangeParams{TextDocument: versionedTextDocumentIdentifier{URI: uri, Version: version},
		ContentChanges: []contentChange{{Text: text}}})
}

// posOf is the position of the n-th byte after the first occurrence of
// needle in uri's text (ASCII text: bytes are UTF-16 units).
func (c *testClient) posOf(uri, needle string, n int) Position {
	c.t.Helper()
	text := c.texts[uri]
	i := strings.Index(text, needle)
	if i < 0 {
		c.t.Fatalf("%q not in %s", needle, uri)
	}
	i += n
	line := strings.Count(text[:i], "\n")
	return Position{Line: line, Character: i - (strings.LastIndex(text[:i], "\n") + 1)}
}

func (c *testClient) at(uri, needle string, n int) textDocumentPositionParams {
	return textDocumentPositionParams{TextDocument: textDocumentIdentifier{URI: uri}, Position: c.posOf(uri, needle, n)}
}

// textOf is the text a range covers in a document of the workspace.
func textOf(t *testing.T, text string, r Range) string {
	t.Helper()
	lines := strings.SplitAfter(text, "\n")
	off := func(p Position) int {
		n := 0
		for i := 0; i < p.Line; i++ {
			n += len(lines[i])
		}
		return n + p.Character
	}
	return text[off(r.Start):off(r.End)]
}

// applyEdits applies non-overlapping edits to text, last first.
func applyEdits(t *testing.T, text string, edits []textEdit) string {
	t.Helper()
	lines := strings.SplitAfter(text, "\n")
	off := func(p Position) int {
		n := 0
		for i := 0; i < p.Line && i < len(lines); i++ {
			n += len(lines[i])
		}
		return n + p.Character
	}
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		text = text[:off(e.Range.Start)] + e.NewText + text[off(e.Range.End):]
	}
	return text
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func hasCode(ds []lspDiagnostic, code string) *lspDiagnostic {
	for i := range ds {
		if ds[i].Code == code {
			return &ds[i]
		}
	}
	return nil
}

func timeAfter() <-chan time.Time { return time.After(wait) }

func bgCtx() context.Context { return context.Background() }

// waitFor returns the first publication for uri whose diagnostics
// satisfy ok, among those received since forget and those to come.
func (c *testClient) waitFor(uri string, ok func([]lspDiagnostic) bool) []lspDiagnostic {
	c.t.Helper()
	for _, p := range c.seen {
		if p.URI == uri && ok(p.Diagnostics) {
			return p.Diagnostics
		}
	}
	timeout := time.After(wait)
	for {
		select {
		case p := <-c.diags:
			c.seen = append(c.seen, p)
			if p.URI == uri && ok(p.Diagnostics) {
				return p.Diagnostics
			}
		case <-timeout:
			c.t.Fatalf("no diagnostics for %s as wanted", uri)
		}
	}
}

// forget drops the publications received so far: what waitFor and
// waitDiags find afterwards came after this point.
func (c *testClient) forget() { c.seen = nil }
