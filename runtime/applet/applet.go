// Package applet runs flow authors' JavaScript applets in a sandbox.
//
// An applet is a JavaScript file that declares a top-level function
// main(ctx). It is compiled once with Compile and then called any number of
// times through a Runner:
//
//   - NewFresh creates a new goja runtime for every call (simple, slow);
//   - NewPool keeps a pool of runtimes whose built-ins and global object are
//     deep-frozen, so a call cannot leave anything behind for the next one;
//   - NewWorkerPool runs every call in a separate worker process (the flowc
//     binary re-executed in worker mode, see ServeWorker) that limits its own
//     memory and is killed and replaced when it overruns its time or dies.
//
// The in-process runners bound time (Runtime.Interrupt, regexp timeouts) and
// call depth but cannot bound memory, and a few built-ins (String.prototype.repeat,
// Array.prototype.join, JSON.parse on deeply nested input, ...) can allocate
// gigabytes or overflow the Go stack without ever returning to the
// interpreter. They are for tests and trusted code. Every flowc command
// (serve, run, test) uses NewWorkerPool with the same limits: an applet
// may come from anyone who can edit a flow.
//
// See docs/applets.md for the applet-side API.
package applet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// EntryPoint is the name of the function every applet must declare.
const EntryPoint = "main"

// Compile runs in the process that calls it (the server too), on sources
// written by flow authors, so it is bounded as well: goja's parser and
// compiler are recursive and, on some shapes of input, quadratic (a
// 300 KB chain of nested arrow functions or of `a+a+a+...` takes minutes).
// The limits below keep the worst case around a second.
const (
	// MaxSourceBytes is the largest applet source Compile accepts.
	MaxSourceBytes = 256 << 10
	// maxNesting bounds bracket nesting, checked before parsing.
	maxNesting = 256
	// maxArrows bounds the number of arrow functions, checked before
	// parsing (the parser backtracks over nested arrows).
	maxArrows = 2000
	// maxSyntaxDepth bounds the depth of the syntax tree, checked after parsing
	// and before compiling (the compiler is quadratic in it).
	maxSyntaxDepth = 400
)

// wrapPrefix and wrapSuffix turn the applet file into a function expression,
// so that its top-level declarations live in a fresh scope on every call and
// never touch the (frozen) global object. The prefix stays on the first line
// so that line numbers in JS stack traces match the file; only columns on
// line 1 are shifted, which positions reported through Error undo.
const (
	wrapPrefix = `(function(){"use strict";`
	wrapSuffix = "\n;return typeof main === \"function\" ? main : void 0;})"
)

// Script is an applet compiled once with goja. A Script is immutable and may
// be used by any number of goroutines and runners at the same time.
type Script struct {
	Name   string // the applet's name in the flow (run NAME(...))
	Path   string // the .js file, used in positions and stack traces
	Source []byte

	prog *goja.Program
	hash string // hex sha256 of path and source; identifies the script to workers
}

// Hash identifies the script's path and source; workers cache compiled
// programs by it.
func (s *Script) Hash() string { return s.hash }

// SyntaxError is returned by Compile for a source that is not a valid applet.
// Line and Col are 1-based positions inside the .js file.
type SyntaxError struct {
	Path      string
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Compile compiles an applet. The whole file is strict-mode code. A JS syntax
// error, a file without a top-level main declaration, a file larger than
// MaxSourceBytes or nested deeper than the parser can safely handle comes
// back as *SyntaxError.
func Compile(name, path string, src []byte) (*Script, error) {
	if path == "" {
		path = name + ".js"
	}
	fail := func(line, col int, format string, args ...any) (*Script, error) {
		return nil, &SyntaxError{Path: path, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	if len(src) > MaxSourceBytes {
		return fail(0, 0, "applet source is %d bytes, the limit is %d", len(src), MaxSourceBytes)
	}
	if !utf8.Valid(src) {
		return fail(0, 0, "applet source is not valid UTF-8")
	}
	if line, col, ok := checkNesting(src); !ok {
		return fail(line, col, "brackets nested more than %d deep", maxNesting)
	}
	if n := bytes.Count(src, []byte("=>")); n > maxArrows {
		return fail(0, 0, "more than %d arrow functions (%d)", maxArrows, n)
	}
	text := string(src)

	// Parse the file on its own first: this gives exact positions, and
	// guarantees that the text is a complete script, so it cannot close the
	// wrapper function early and run code in the global scope.
	alone, err := parser.ParseFile(nil, path, text, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, parseError(path, text, err, 0)
	}
	if !declaresMain(alone) {
		return fail(1, 1, "applet must declare a top-level function %s(ctx)", EntryPoint)
	}
	if node := tooDeep(reflect.ValueOf(alone.Body), 0); node != nil {
		p := alone.File.Position(int(node.Idx0()) - alone.File.Base())
		return fail(p.Line, p.Column, "expression or statement nested more than %d levels deep", maxSyntaxDepth)
	}

	wrapped := wrapPrefix + text + wrapSuffix
	prg, err := parser.ParseFile(nil, path, wrapped, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, parseError(path, text, err, len(wrapPrefix))
	}
	prog, err := goja.CompileAST(prg, true)
	if err != nil {
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) && ce.File != nil {
			p := ce.File.Position(ce.Offset)
			line, col := adjustPos(p.Line, p.Column)
			return fail(line, col, "%s", SyntaxMessage(ce.Message, text, line, col))
		}
		return fail(0, 0, "%s", strings.TrimPrefix(err.Error(), "SyntaxError: "))
	}
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(src)
	return &Script{
		Name:   name,
		Path:   path,
		Source: src,
		prog:   prog,
		hash:   hex.EncodeToString(h.Sum(nil)),
	}, nil
}

func parseError(path, text string, err error, prefix int) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		line, col := e.Position.Line, e.Position.Column
		if prefix > 0 {
			line, col = adjustPos(line, col)
		}
		return &SyntaxError{Path: path, Line: line, Col: col, Msg: SyntaxMessage(e.Message, text, line, col)}
	}
	return &SyntaxError{Path: path, Msg: err.Error()}
}

// adjustPos maps a position in the wrapped text to the applet file.
func adjustPos(line, col int) (int, int) {
	if line == 1 {
		col -= len(wrapPrefix)
		if col < 1 {
			col = 1
		}
	}
	return line, col
}

// declaresMain reports whether the program declares main at top level.
func declaresMain(p *ast.Program) bool {
	isMain := func(t ast.BindingTarget) bool {
		id, ok := t.(*ast.Identifier)
		return ok && string(id.Name) == EntryPoint
	}
	for _, st := range p.Body {
		switch st := st.(type) {
		case *ast.FunctionDeclaration:
			if st.Function.Name != nil && string(st.Function.Name.Name) == EntryPoint {
				return true
			}
		case *ast.VariableStatement:
			for _, b := range st.List {
				if isMain(b.Target) {
					return true
				}
			}
		case *ast.LexicalDeclaration:
			for _, b := range st.List {
				if isMain(b.Target) {
					return true
				}
			}
		case *ast.ClassDeclaration:
			// A class named main is reported at call time (classes cannot be called).
			if st.Class.Name != nil && string(st.Class.Name.Name) == EntryPoint {
				return true
			}
		}
	}
	return false
}

var (
	astPkg   = reflect.TypeOf(ast.Program{}).PkgPath()
	nodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()
)

// tooDeep walks the syntax tree and returns the first node found deeper
// than maxSyntaxDepth, or nil. It follows only types of package ast.
func tooDeep(v reflect.Value, depth int) ast.Node {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return tooDeep(v.Elem(), depth)
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem().PkgPath() != astPkg || v.Type().Elem().Kind() != reflect.Struct {
			return nil
		}
		if v.Type().Implements(nodeType) && v.CanInterface() {
			depth++
			if depth > maxSyntaxDepth {
				return v.Interface().(ast.Node)
			}
		}
		return tooDeep(v.Elem(), depth)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if n := tooDeep(v.Field(i), depth); n != nil {
				return n
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if n := tooDeep(v.Index(i), depth); n != nil {
				return n
			}
		}
	}
	return nil
}

// checkNesting is a conservative pre-check of bracket depth. It counts
// brackets inside strings and comments too, which can only make it stricter.
func checkNesting(src []byte) (line, col int, ok bool) {
	depth := 0
	line, col = 1, 0
	for _, c := range src {
		col++
		switch c {
		case '\n':
			line, col = line+1, 0
		case '(', '[', '{':
			depth++
			if depth > maxNesting {
				return line, col, false
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return 0, 0, true
}

// Input is what an applet call receives. It must hold plain data only: nil,
// bool, string, float64 (other Go integer and float types are accepted and
// become numbers), []any, []string, map[string]any and map[string]string.
type Input struct {
	Message map[string]any // body, from, to, media []any, keyword
	Contact map[string]any // known bool, name, owner, tags []any, ...
	Vars    map[string]any // flow variables
	Args    []any          // positional arguments from `run NAME(args…)`
	Now     time.Time      // the clock of the call: Date.now() and new Date() return it (time.Now() if zero)
	Seed    int64          // Math.random is deterministic from this seed
}

// Limits bounds an applet call. Zero fields take their defaults.
type Limits struct {
	Timeout        time.Duration // per call, default 50ms
	MaxCallStack   int           // JS call depth, default 500
	MaxMemory      uint64        // worker processes only: bytes, default 256 MiB
	MaxResultBytes int           // size of the JSON-encoded result, default 64 KiB
	// RegexTimeout bounds a single match of a backtracking regular
	// expression (goja runs patterns that Go's regexp package supports on
	// that linear-time engine; lookaround and backreferences need the
	// backtracking regexp2, which ignores Runtime.Interrupt). goja treats a
	// match that times out as "no match", so RegexTimeout should stay above
	// Timeout: the call's own timer then ends the call with a Timeout error
	// and the regexp timeout only gives control back to the interpreter.
	// Default 1.5 × Timeout. regexp2's timeout is process-wide: the first
	// runner (or ServeWorker) created in a process sets it.
	RegexTimeout time.Duration
	// MaxLogLines bounds console.* lines captured per call, default 100.
	MaxLogLines int
}

// Default limits.
const (
	DefaultTimeout        = 50 * time.Millisecond
	DefaultMaxCallStack   = 500
	DefaultMaxMemory      = 256 << 20
	DefaultMaxResultBytes = 64 << 10
	DefaultMaxLogLines    = 100
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxCallStack <= 0 {
		l.MaxCallStack = DefaultMaxCallStack
	}
	if l.MaxMemory == 0 {
		l.MaxMemory = DefaultMaxMemory
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultMaxResultBytes
	}
	if l.RegexTimeout <= 0 {
		l.RegexTimeout = l.Timeout * 3 / 2
	}
	if l.MaxLogLines <= 0 {
		l.MaxLogLines = DefaultMaxLogLines
	}
	return l
}

// Runner calls applets.
type Runner interface {
	// Call runs s.main(ctx) and returns its result as plain data: nil,
	// bool, float64, string, []any or map[string]any. Every failure of the
	// applet is an *Error; other errors (closed runner, unsupported input)
	// are plain errors.
	Call(ctx context.Context, s *Script, in Input) (any, error)
	Close() error
}

// ErrClosed is returned by Call on a closed runner.
var ErrClosed = errors.New("applet: runner is closed")

// ErrorKind classifies an applet failure.
type ErrorKind int

const (
	Throw    ErrorKind = iota + 1 // the applet threw (or main is missing / not callable)
	Timeout                       // the call ran past Limits.Timeout
	Memory                        // the call ran past Limits.MaxMemory (worker pool only)
	Stack                         // the call nested deeper than Limits.MaxCallStack (or overflowed the worker's Go stack)
	Result                        // the result is not plain data or is larger than Limits.MaxResultBytes
	Crash                         // the sandbox failed: a worker died for another reason, an internal panic, ...
	Canceled                      // the caller's context was canceled
)

var kindNames = [...]string{
	Throw:    "throw",
	Timeout:  "timeout",
	Memory:   "memory",
	Stack:    "stack",
	Result:   "result",
	Crash:    "crash",
	Canceled: "canceled",
}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

func kindFromString(s string) ErrorKind {
	for k, n := range kindNames {
		if n == s && n != "" {
			return ErrorKind(k)
		}
	}
	return Crash
}

// Bounds on the text of an Error. An applet controls much of it (thrown
// messages, constructor and function names, result keys), and the server
// stores it with the execution record and logs it: an 8 MB function name
// must not become an 8 MB record. Longer text is cut and ends with
// truncatedMark.
const (
	MaxErrorMessage = 1 << 10 // bytes of Error.Message
	MaxErrorStack   = 4 << 10 // bytes of Error.Stack
)

// truncatedMark ends every text cut by a bound (error text, console lines).
const truncatedMark = "…(truncated)"

// bound cuts Message and Stack to their limits. Every Error leaving a
// runner goes through it, in the worker and again in the parent.
func (e *Error) bound() *Error {
	e.Message = truncate(e.Message, MaxErrorMessage)
	e.Stack = truncate(e.Stack, MaxErrorStack)
	return e
}

// Error is every failure of an applet call.
type Error struct {
	Applet, Path string
	Kind         ErrorKind
	Message      string
	Line, Col    int    // JS position in Path when known (1-based), else 0
	Stack        string // JS stack trace when known, one "at ..." line per frame
	cause        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("applet ")
	if e.Applet != "" {
		b.WriteString(e.Applet)
	} else {
		b.WriteString("?")
	}
	if e.Path != "" {
		b.WriteString(" (")
		b.WriteString(e.Path)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the context's error for Kind Canceled.
func (e *Error) Unwrap() error { return e.cause }

// LogFunc receives the lines an applet writes with console.log and friends.
// level is "log", "info", "warn", "error" or "debug".
type LogFunc func(level, msg string)

type logKey struct{}

// WithLogger returns a context whose calls deliver console output to f.
// Without it, console output is discarded.
func WithLogger(ctx context.Context, f LogFunc) context.Context {
	return context.WithValue(ctx, logKey{}, f)
}

func loggerFrom(ctx context.Context) LogFunc {
	f, _ := ctx.Value(logKey{}).(LogFunc)
	return f
}

// framePos is a JS stack frame position mapped back to the applet file.
func framePos(f *goja.StackFrame) file.Position {
	p := f.Position()
	p.Line, p.Column = adjustPos(p.Line, p.Column)
	return p
}
