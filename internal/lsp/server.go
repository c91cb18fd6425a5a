package lsp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	flowrt "github.com/flowc-dev/flowc/runtime"
)

// Options configure a server.
type Options struct {
	// Debounce is how long diagnostics wait after a change for the next
	// one, so that typing a word checks once, not once per key.
	Debounce time.Duration
	// Version is reported as serverInfo.version.
	Version string
	// Logf receives the server's log lines (stderr for `flowc lsp`).
	Logf func(format string, args ...any)
}

// DefaultDebounce is Options.Debounce when unset: short next to the
// 50 ms a check of a 1,000-line file may take, long enough to merge the
// changes of one keystroke burst.
const DefaultDebounce = 30 * time.Millisecond

// JSON-RPC error codes of the protocol.
const (
	codeServerNotInitialized = -32002
	codeInvalidRequest       = -32600
	codeMethodNotFound       = -32601
	codeInvalidParams        = -32602
	codeRequestFailed        = -32803
)

// GCPercent is the GOGC `flowc lsp` runs at: a check allocates much
// short-lived garbage over a small live heap, and collecting less often
// saves about a third of the CPU of a check (see
// BenchmarkDiagnosticsAfterChange).
const GCPercent = 400

// CompiledExprs is how many compiled expressions `flowc lsp` keeps per
// generation (runtime.CacheCompiled): after a change the file is
// recompiled, and every expression the change left alone is taken from
// the cache instead of expr-lang compiling it again. A 1,000-line flow
// has some 600; what is not looked up again ages out. An entry is about
// 2 KB, so the cache stays under some 20 MB (two generations).
const CompiledExprs = 4096

// maxBufferBytes bounds an open buffer's text in memory: past
// MaxFileBytes it is only reported as too large, past this it is
// dropped.
const maxBufferBytes = 4 * MaxFileBytes

// Server is one language server session.
type Server struct {
	opts Options
	conn *jsonrpc2.Conn

	mu          sync.Mutex
	ws          *workspace
	initialized bool
	shutdown    bool
	exited      bool
	published   map[string]bool // URIs last given non-empty diagnostics

	dirty chan struct{} // a change waits for its diagnostics
}

// Serve runs a session over in and out (the client's stdio) until the
// client sends exit or closes the stream. The error is nil after
// shutdown then exit, as the protocol's exit code 0.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	flowrt.CacheCompiled(CompiledExprs)
	s := &Server{opts: opts, dirty: make(chan struct{}, 1), published: map[string]bool{}}
	stream := jsonrpc2.NewBufferedStream(stdio{in, out}, limitedCodec{})
	s.conn = jsonrpc2.NewConn(ctx, stream, jsonrpc2.HandlerWithError(s.handle).SuppressErrClosed(), jsonrpc2.SetLogger(logger(opts.Logf)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.diagnosticsLoop()
	}()
	select {
	case <-s.conn.DisconnectNotify():
	case <-ctx.Done():
		s.conn.Close()
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.shutdown {
		return fmt.Errorf("the client left without shutdown")
	}
	return nil
}

// logger sends jsonrpc2's log lines to Options.Logf.
type logger func(string, ...any)

func (l logger) Printf(format string, args ...any) { l(strings.TrimSuffix(format, "\n"), args...) }

type stdio struct {
	io.Reader
	io.Writer
}

func (s stdio) Close() error {
	if c, ok := s.Reader.(io.Closer); ok {
		c.Close()
	}
	if c, ok := s.Writer.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// limitedCodec is jsonrpc2's VSCodeObjectCodec (the protocol's
// Content-Length framing) with one guard in front: a message whose
// Content-Length exceeds MaxMessageBytes ends the connection before its
// body is read into memory. It only peeks at the header; reading it is
// left to jsonrpc2.
type limitedCodec struct{}

func (limitedCodec) WriteObject(w io.Writer, obj any) error {
	return jsonrpc2.VSCodeObjectCodec{}.WriteObject(w, obj)
}

func (limitedCodec) ReadObject(r *bufio.Reader, v any) error {
	// Peek one byte more at a time until the end of the header: never
	// asks for bytes the client has not sent.
	for n := 1; ; n++ {
		b, err := r.Peek(n)
		if err != nil {
			return err
		}
		if n > 4096 {
			return fmt.Errorf("a message header longer than 4096 bytes")
		}
		if !bytes.HasSuffix(b, []byte("\r\n\r\n")) {
			continue
		}
		for _, line := range strings.Split(string(b), "\r\n") {
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil && n > MaxMessageBytes {
					return fmt.Errorf("a message of %d bytes: flowc lsp reads at most %d", n, MaxMessageBytes)
				}
			}
		}
		break
	}
	return jsonrpc2.VSCodeObjectCodec{}.ReadObject(r, v)
}

func rpcError(code int64, format string, args ...any) *jsonrpc2.Error {
	return &jsonrpc2.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// handle answers one request or notification. jsonrpc2 calls it for one
// message at a time, in the order they arrive, so a hover sent after a
// change sees the change.
func (s *Server) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case req.Method == "exit":
		s.mu.Lock()
		s.exited = true
		s.mu.Unlock()
		conn.Close()
		return nil, nil
	case req.Method == "initialize":
		if initialized {
			return nil, rpcError(codeInvalidRequest, "initialize was already sent")
		}
		return s.initialize(req)
	case !initialized:
		if req.Notif {
			return nil, nil
		}
		return nil, rpcError(codeServerNotInitialized, "%s before initialize", req.Method)
	case shutdown && !req.Notif:
		return nil, rpcError(codeInvalidRequest, "%s after shutdown", req.Method)
	case req.Method == "shutdown":
		s.mu.Lock()
		s.shutdown = true
		s.mu.Unlock()
		return nil, nil
	}
	h, ok := handlers[req.Method]
	if !ok {
		if req.Notif || strings.HasPrefix(req.Method, "$/") {
			return nil, nil
		}
		return nil, rpcError(codeMethodNotFound, "flowc lsp does not implement %s", req.Method)
	}
	var params json.RawMessage
	if req.Params != nil {
		params = *req.Params
	}
	return h(s, params)
}

// handlers are the methods past initialize, by name.
var handlers = map[string]func(*Server, json.RawMessage) (any, error){
	"initialized":                         func(*Server, json.RawMessage) (any, error) { return nil, nil },
	"textDocument/didOpen":                (*Server).didOpen,
	"textDocument/didChange":              (*Server).didChange,
	"textDocument/didClose":               (*Server).didClose,
	"textDocument/didSave":                (*Server).didSave,
	"workspace/didChangeWatchedFiles":     (*Server).didChangeWatchedFiles,
	"textDocument/hover":                  (*Server).hover,
	"textDocument/completion":             (*Server).completion,
	"textDocument/definition":             (*Server).definition,
	"textDocument/references":             (*Server).references,
	"textDocument/documentSymbol":         (*Server).documentSymbols,
	"textDocument/prepareRename":          (*Server).prepareRename,
	"textDocument/rename":                 (*Server).rename,
	"textDocument/formatting":             (*Server).formatting,
	"textDocument/codeAction":             (*Server).codeAction,
	"workspace/didChangeConfiguration":    func(*Server, json.RawMessage) (any, error) { return nil, nil },
	"workspace/didChangeWorkspaceFolders": func(*Server, json.RawMessage) (any, error) { return nil, nil },
}

func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		return rpcError(codeInvalidParams, "missing params")
	}
	if err := json.Unmarshal(params, v); err != nil {
		return rpcError(codeInvalidParams, "params: %v", err)
	}
	return nil
}

func (s *Server) initialize(req *jsonrpc2.Request) (any, error) {
	var p initializeParams
	if req.Params != nil {
		if err := json.Unmarshal(*req.Params, &p); err != nil {
			return nil, rpcError(codeInvalidParams, "initialize params: %v", err)
		}
	}
	// The workspace root: the first folder, else rootUri, else rootPath.
	root := ""
	switch {
	case len(p.WorkspaceFolders) > 0:
		root = pathOf(p.WorkspaceFolders[0].URI)
	case p.RootURI != "":
		root = pathOf(p.RootURI)
	case p.RootPath != "":
		root = p.RootPath
	}
	if root != "" {
		if abs, err := filepath.Abs(root); err == nil {
			root = abs
		}
		if len(p.WorkspaceFolders) > 1 {
			s.opts.Logf("flowc lsp: %d workspace folders: checking %s only", len(p.WorkspaceFolders), root)
		}
	}
	s.mu.Lock()
	s.ws = newWorkspace(root, s.opts.Logf)
	s.initialized = true
	s.mu.Unlock()
	s.opts.Logf("flowc lsp: workspace root %q", root)
	return initializeResult{
		Capabilities: serverCapabilities{
			PositionEncoding:           "utf-16",
			TextDocumentSync:           textDocumentSyncOptions{OpenClose: true, Change: 2, Save: saveOptions{}},
			HoverProvider:              true,
			CompletionProvider:         completionOptions{TriggerCharacters: []string{":", ".", "\"", "{", " "}},
			DefinitionProvider:         true,
			ReferencesProvider:         true,
			DocumentSymbolProvider:     true,
			RenameProvider:             renameOptions{PrepareProvider: true},
			DocumentFormattingProvider: true,
			CodeActionProvider:         codeActionOptions{CodeActionKinds: []string{"quickfix"}},
		},
		ServerInfo: serverInfo{Name: "flowc", Version: s.opts.Version},
	}, nil
}

// changed marks the diagnostics stale; diagnosticsLoop publishes them.
func (s *Server) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *Server) didOpen(params json.RawMessage) (any, error) {
	var p didOpenParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := p.TextDocument
	flow := d.LanguageID == "flowc" || d.LanguageID == "flow" || strings.HasSuffix(d.URI, ".flow")
	s.ws.change(func() { s.ws.open(&document{uri: d.URI, version: d.Version, text: d.Text, flow: flow}) })
	s.changed()
	return nil, nil
}

func (s *Server) didChange(params json.RawMessage) (any, error) {
	var p didChangeParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	var err error
	s.ws.change(func() {
		d, ok := s.ws.docs[p.TextDocument.URI]
		if !ok {
			err = rpcError(codeInvalidParams, "didChange of %s, which is not open", p.TextDocument.URI)
			return
		}
		text := d.text
		for _, c := range p.ContentChanges {
			if text, err = applyChange(text, c); err != nil {
				return
			}
			if len(text) > maxBufferBytes {
				// Past this the buffer is dropped, not kept growing:
				// the document counts as closed until it is opened
				// again.
				s.ws.close(d.uri)
				err = rpcError(codeInvalidParams, "%s grew past %d bytes: flowc lsp stops following it", d.uri, maxBufferBytes)
				return
			}
		}
		d.text, d.version = text, p.TextDocument.Version
	})
	if err != nil {
		s.opts.Logf("flowc lsp: %v", err)
		return nil, err
	}
	s.changed()
	return nil, nil
}

func (s *Server) didClose(params json.RawMessage) (any, error) {
	var p didCloseParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	s.ws.change(func() {
		s.ws.close(p.TextDocument.URI)
		s.ws.disk = nil // the file on disk takes the buffer's place
	})
	s.changed()
	return nil, nil
}

func (s *Server) didSave(params json.RawMessage) (any, error) {
	s.ws.change(func() { s.ws.disk = nil })
	s.changed()
	return nil, nil
}

func (s *Server) didChangeWatchedFiles(params json.RawMessage) (any, error) {
	s.ws.change(func() { s.ws.disk = nil })
	s.changed()
	return nil, nil
}

// diagnosticsLoop publishes the workspace's diagnostics after changes:
// it waits for a change, then Debounce more for the next, then checks
// the latest state once.
func (s *Server) diagnosticsLoop() {
	closed := s.conn.DisconnectNotify()
	for {
		select {
		case <-closed:
			return
		case <-s.dirty:
		}
		t := time.NewTimer(s.opts.Debounce)
	wait:
		for {
			select {
			case <-closed:
				t.Stop()
				return
			case <-s.dirty:
				t.Reset(s.opts.Debounce)
			case <-t.C:
				break wait
			}
		}
		s.publish(s.ws.current())
	}
}

// publish sends each file's diagnostics, and empty lists for the files
// that had some and have none now.
func (s *Server) publish(snap *snapshot) {
	s.mu.Lock()
	prev := s.published
	s.published = map[string]bool{}
	s.mu.Unlock()
	uris := map[string]bool{}
	for u := range prev {
		uris[u] = true
	}
	for u := range snap.diags {
		uris[u] = true
	}
	// Open documents always get an answer, so a client waiting for its
	// first diagnostics learns the file is clean.
	for u := range snap.versions {
		uris[u] = true
	}
	for u := range uris {
		list := snap.diags[u]
		p := publishDiagnosticsParams{URI: u, Diagnostics: []lspDiagnostic{}}
		if v, ok := snap.versions[u]; ok {
			p.Version = &v
		}
		for _, d := range list {
			p.Diagnostics = append(p.Diagnostics, toLSPDiagnostic(d, snap))
		}
		if len(p.Diagnostics) > 0 {
			s.mu.Lock()
			s.published[u] = true
			s.mu.Unlock()
		}
		if err := s.conn.Notify(context.Background(), "textDocument/publishDiagnostics", p); err != nil {
			return
		}
	}
}
