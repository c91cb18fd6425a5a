package applet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// preludeSrc turns a fresh goja runtime into a sandbox. It runs once per
// runtime, before any applet code.
//
//   - eval and goja's GoError are deleted; the Function, GeneratorFunction
//     and AsyncFunction constructors are replaced by stubs that throw, so no
//     code is ever compiled from a string at run time (goja's parser is not
//     interruptible and eval would bypass the compile-once cache).
//   - With lock set (pooled runtimes), a few properties of built-in
//     prototypes that ordinary code overrides on its own objects
//     (toString, constructor, name, message, ...) become accessors, so that
//     `obj.toString = f` still defines an own property once the prototype
//     is frozen; then every object reachable from the global object,
//     including intrinsics only reachable through instances (iterator and
//     generator prototypes, %ThrowTypeError%, ...), and the global object
//     itself are frozen. Nothing a call does can then be seen by the next
//     call on the same runtime.
const preludeSrc = `(function (global, lock) {
"use strict";
const getProto = Object.getPrototypeOf, defProp = Object.defineProperty,
	getDesc = Object.getOwnPropertyDescriptor, ownKeys = Reflect.ownKeys, freeze = Object.freeze;

// Kept only to be frozen below, in case goja hands one of them out.
const hidden = [global.eval, global.GoError, global.Function,
	getProto(function* () {}).constructor, getProto(async function () {}).constructor];
delete global.eval;
delete global.GoError;

function disable(proto, name) {
	const stub = function () {
		throw new EvalError(name + " constructor is disabled in applets: code generation from strings is not allowed");
	};
	defProp(stub, "name", { value: name });
	defProp(stub, "prototype", { value: proto, writable: false });
	defProp(proto, "constructor", { value: stub, writable: false, enumerable: false, configurable: true });
	return stub;
}
defProp(global, "Function", { value: disable(Function.prototype, "Function"), writable: true, enumerable: false, configurable: true });
disable(getProto(function* () {}), "GeneratorFunction");
disable(getProto(async function () {}), "AsyncFunction");

if (!lock) return;

function tame(obj, name) {
	const d = getDesc(obj, name);
	if (!d || !("value" in d) || !d.configurable) return;
	const value = d.value;
	defProp(obj, name, {
		get: function () { return value; },
		set: function (v) {
			if (this === obj) {
				throw new TypeError("Cannot assign to read only property '" + String(name) + "' of a built-in prototype");
			}
			defProp(this, name, { value: v, writable: true, enumerable: true, configurable: true });
		},
		enumerable: d.enumerable,
		configurable: false,
	});
}
for (const n of ["constructor", "toString", "toLocaleString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]) {
	tame(Object.prototype, n);
}
for (const E of [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AggregateError]) {
	for (const n of ["constructor", "name", "message", "toString"]) tame(E.prototype, n);
}
tame(Function.prototype, "toString");

const seen = new Set(), todo = [];
function visit(v) {
	if (((typeof v === "object" && v !== null) || typeof v === "function") && !seen.has(v)) {
		seen.add(v);
		todo.push(v);
	}
}
visit(global);
// Intrinsics that are not reachable through properties of the global object.
visit([][Symbol.iterator]());
visit(new Map()[Symbol.iterator]());
visit(new Set()[Symbol.iterator]());
visit(""[Symbol.iterator]());
visit(/a/[Symbol.matchAll]("a"));
visit(function* () {});
visit((function* () {})());
visit(async function () {});
visit(async () => {});
visit(() => {});
visit((function () { return arguments; })());
visit(Promise.resolve());
visit(new Proxy({}, {}));
for (const h of hidden) visit(h);
while (todo.length > 0) {
	const o = todo.pop();
	visit(getProto(o));
	for (const k of ownKeys(o)) {
		const d = getDesc(o, k);
		if (d === undefined) continue;
		if ("value" in d) {
			visit(d.value);
		} else {
			visit(d.get);
			visit(d.set);
		}
	}
	freeze(o);
}
})`

var (
	preludeOnce sync.Once
	preludeProg *goja.Program
)

func prelude() *goja.Program {
	preludeOnce.Do(func() {
		preludeProg = goja.MustCompile("<sandbox>", preludeSrc, true)
	})
	return preludeProg
}

var regexOnce sync.Once

// setupRegexp bounds regexp2 matches. Both knobs are process-wide.
// SetTimeoutCheckPeriod makes the timeout precise to a few ms instead of the
// default 100ms.
func setupRegexp(timeout time.Duration) {
	regexOnce.Do(func() {
		regexp2.SetTimeoutCheckPeriod(5 * time.Millisecond)
		regexp2.DefaultMatchTimeout = timeout
	})
}

// Interrupt values, so that the reason of an interrupt survives to the error.
type interruptReason int

const (
	reasonTimeout interruptReason = iota + 1
	reasonCanceled
	reasonMemory
)

// sandbox is one goja runtime prepared for applets.
type sandbox struct {
	rt     *goja.Runtime
	lim    Limits
	locked bool // built-ins and global object frozen: reusable across calls
	uses   int

	pcg *rand.PCG
	rnd *rand.Rand
	now time.Time

	// console output of the current call
	logf    LogFunc
	logs    int
	dropped int

	timer    *time.Timer                     // interrupts the runtime at the deadline
	wrappers map[*goja.Program]goja.Callable // applet wrapper functions, see exec

	// The Symbol.for registry of the current call (see symbolRegistry).
	symbols    map[string]*goja.Symbol
	symbolKeys map[*goja.Symbol]string
}

// maxWrappers bounds a runtime's cache of wrapper functions.
const maxWrappers = 64

// maxUses recycles a pooled runtime after this many calls, which bounds
// whatever a runtime accumulates internally that no call can reach.
const maxUses = 10000

const seedStream = 0x666c6f7763 // "flowc": second PCG word, fixed

func newSandbox(lim Limits, lock bool) (*sandbox, error) {
	sb := &sandbox{rt: goja.New(), lim: lim, locked: lock, wrappers: make(map[*goja.Program]goja.Callable)}
	sb.pcg = rand.NewPCG(0, seedStream)
	sb.rnd = rand.New(sb.pcg)
	rt := sb.rt
	rt.SetRandSource(sb.rnd.Float64)
	rt.SetTimeSource(func() time.Time { return sb.now })
	rt.SetMaxCallStackSize(lim.MaxCallStack)
	rt.SetParserOptions(parser.WithDisableSourceMaps)

	console := rt.NewObject()
	for _, level := range logLevels {
		level := level
		if err := console.Set(level, func(call goja.FunctionCall) goja.Value {
			sb.console(level, call.Arguments)
			return goja.Undefined()
		}); err != nil {
			return nil, err
		}
	}
	if err := rt.GlobalObject().DefineDataProperty("console", console, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return nil, err
	}
	if err := sb.symbolRegistry(); err != nil {
		return nil, err
	}

	v, err := rt.RunProgram(prelude())
	if err != nil {
		return nil, fmt.Errorf("applet: sandbox setup: %w", err)
	}
	fn, _ := goja.AssertFunction(v)
	if _, err := fn(goja.Undefined(), rt.GlobalObject(), rt.ToValue(lock)); err != nil {
		return nil, fmt.Errorf("applet: sandbox setup: %w", err)
	}
	return sb, nil
}

// maxLogLine bounds a console line, in bytes (before truncatedMark).
const maxLogLine = 1024

var logLevels = []string{"log", "info", "warn", "error", "debug"}

// logLevel returns level if it is one of logLevels, else "log".
func logLevel(level string) string {
	for _, l := range logLevels {
		if l == level {
			return l
		}
	}
	return "log"
}

func (sb *sandbox) console(level string, args []goja.Value) {
	if sb.logf == nil {
		return
	}
	if sb.logs >= sb.lim.MaxLogLines {
		sb.dropped++
		return
	}
	sb.logs++
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(formatValue(sb.rt, a, maxLogLine))
		if b.Len() > maxLogLine {
			break
		}
	}
	msg := b.String()
	if len(msg) > maxLogLine {
		msg = truncate(msg, maxLogLine)
	}
	sb.logf(level, msg)
}

// symbolRegistry replaces Symbol.for and Symbol.keyFor with versions that
// use a registry of the current call. goja's registry belongs to the
// runtime and would outlive the call on a reused runtime: no applet can
// list it, but it keeps every key alive (a call registering 100 MB of keys
// would leave them to count against the memory of the calls after it),
// and a registered symbol is the same in every later call. Within a call
// the functions behave as the standard says.
func (sb *sandbox) symbolRegistry() error {
	rt := sb.rt
	symbolFor := func(call goja.FunctionCall) goja.Value {
		key := call.Argument(0).ToString().String() // throws TypeError for a symbol
		if s, ok := sb.symbols[key]; ok {
			return s
		}
		if sb.symbols == nil {
			sb.symbols = make(map[string]*goja.Symbol)
			sb.symbolKeys = make(map[*goja.Symbol]string)
		}
		s := goja.NewSymbol(key)
		sb.symbols[key] = s
		sb.symbolKeys[s] = key
		return s
	}
	keyFor := func(call goja.FunctionCall) goja.Value {
		arg := call.Argument(0)
		s, ok := arg.(*goja.Symbol)
		if !ok {
			panic(rt.NewTypeError("%s is not a symbol", arg.String()))
		}
		if key, ok := sb.symbolKeys[s]; ok {
			return rt.ToValue(key)
		}
		return goja.Undefined()
	}
	symbol, ok := rt.Get("Symbol").(*goja.Object)
	if !ok {
		return fmt.Errorf("applet: sandbox setup: no Symbol constructor")
	}
	for name, f := range map[string]func(goja.FunctionCall) goja.Value{"for": symbolFor, "keyFor": keyFor} {
		fn := rt.ToValue(f).(*goja.Object)
		if err := fn.DefineDataProperty("name", rt.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
		if err := fn.DefineDataProperty("length", rt.ToValue(1), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
		if err := symbol.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return nil
}

// call runs one applet call on the sandbox. reusable reports whether the
// runtime may serve another call: only a locked runtime whose call ended
// normally or with a Throw or Result error, and whose timers did not fire.
func (sb *sandbox) call(ctx context.Context, s *Script, in Input) (res any, err error, reusable bool) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Canceled, Message: "call canceled before it started: " + err.Error(), cause: err}, sb.locked
	}
	sb.uses++
	sb.now = in.Now
	if sb.now.IsZero() {
		sb.now = time.Now()
	}
	sb.pcg.Seed(uint64(in.Seed), seedStream)
	sb.logf, sb.logs, sb.dropped = loggerFrom(ctx), 0, 0

	rt := sb.rt
	// The timer is made once per runtime; a runtime whose timer fired is
	// never used again, so a late firing cannot hit a later call.
	if sb.timer == nil {
		sb.timer = time.AfterFunc(sb.lim.Timeout, func() { rt.Interrupt(reasonTimeout) })
	} else {
		sb.timer.Reset(sb.lim.Timeout)
	}
	var stopCtx func() bool
	if ctx.Done() != nil {
		stopCtx = context.AfterFunc(ctx, func() { rt.Interrupt(reasonCanceled) })
	}
	res, err = sb.exec(s, in)
	sb.symbols, sb.symbolKeys = nil, nil // nothing registered outlives the call
	fired := !sb.timer.Stop()
	if stopCtx != nil && !stopCtx() {
		fired = true
	}
	if e, ok := err.(*Error); ok {
		e.bound()
		if e.Kind == Canceled {
			e.cause = ctx.Err()
		}
	}
	if sb.dropped > 0 && sb.logf != nil {
		sb.logf("warn", fmt.Sprintf("(%d more console lines dropped)", sb.dropped))
	}
	sb.logf = nil
	// A thrown exception or a rejected result leaves nothing behind in a
	// locked runtime (goja unwinds and drains its job queue); an interrupt,
	// a stack overflow or an internal error might, so those runtimes go.
	clean := err == nil
	if e, ok := err.(*Error); ok && (e.Kind == Throw || e.Kind == Result) {
		clean = true
	}
	reusable = sb.locked && clean && !fired && sb.uses < maxUses
	return res, err, reusable
}

// exec runs the program, main and the result conversion; the interrupt
// timer is running throughout, so getters, toString and the like invoked
// while formatting or converting values are bounded too.
func (sb *sandbox) exec(s *Script, in Input) (res any, err error) {
	rt := sb.rt
	defer func() {
		if x := recover(); x != nil {
			err = sb.jsError(s, x)
			if e, ok := err.(*Error); ok && e.Kind == Crash {
				e.Stack = string(debug.Stack())
			}
		}
	}()
	// The program evaluates to the wrapper function: calling it runs the
	// applet's top-level code in a fresh scope and returns main. The
	// wrapper closes over nothing but the (frozen) global scope and no
	// applet code can reach it, so a locked runtime keeps it across calls.
	wrapperFn := sb.wrappers[s.prog]
	if wrapperFn == nil {
		wrapper, err := rt.RunProgram(s.prog)
		if err != nil {
			return nil, sb.jsError(s, err)
		}
		fn, ok := goja.AssertFunction(wrapper)
		if !ok {
			return nil, sb.errorf(s, Crash, "applet wrapper is not a function")
		}
		if sb.locked {
			if len(sb.wrappers) >= maxWrappers {
				clear(sb.wrappers)
			}
			sb.wrappers[s.prog] = fn
		}
		wrapperFn = fn
	}
	mainv, err := wrapperFn(goja.Undefined())
	if err != nil {
		return nil, sb.jsError(s, err)
	}
	mainFn, ok := goja.AssertFunction(mainv)
	if !ok {
		return nil, sb.errorf(s, Throw, "applet must declare a function %s(ctx)", EntryPoint)
	}
	ctxObj, err := sb.buildCtx(in)
	if err != nil {
		return nil, err
	}
	ret, err := mainFn(goja.Undefined(), ctxObj)
	if err != nil {
		return nil, sb.jsError(s, err)
	}
	if obj, ok := ret.(*goja.Object); ok {
		if obj.ExportType() == promiseType {
			p := obj.Export().(*goja.Promise)
			// An async main: the job queue has been drained when main returned.
			switch p.State() {
			case goja.PromiseStateFulfilled:
				ret = p.Result()
			case goja.PromiseStateRejected:
				return nil, sb.thrown(s, p.Result(), nil)
			default:
				return nil, sb.errorf(s, Result, "%s returned a promise that never settled (applets have no timers or I/O to wait for)", EntryPoint)
			}
		}
	}
	var xerr error
	if ex := rt.Try(func() {
		x := exporter{rt: rt, budget: sb.lim.MaxResultBytes}
		res, xerr = x.export(ret)
	}); ex != nil {
		return nil, sb.jsError(s, ex)
	}
	if xerr != nil {
		return nil, sb.errorf(s, Result, "%v", xerr)
	}
	return res, nil
}

func (sb *sandbox) errorf(s *Script, kind ErrorKind, format string, args ...any) *Error {
	return &Error{Applet: s.Name, Path: s.Path, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// jsError maps an error or panic value from goja to *Error.
func (sb *sandbox) jsError(s *Script, x any) error {
	switch e := x.(type) {
	case *Error:
		return e
	case *goja.InterruptedError:
		out := sb.errorf(s, Crash, "interrupted")
		switch e.Value() {
		case reasonTimeout:
			out.Kind = Timeout
			out.Message = fmt.Sprintf("exceeded the time limit of %v", sb.lim.Timeout)
		case reasonCanceled:
			out.Kind = Canceled
			out.Message = "call canceled"
		case reasonMemory:
			out.Kind = Memory
			out.Message = fmt.Sprintf("exceeded the memory limit of %s", formatBytes(sb.lim.MaxMemory))
		}
		sb.position(out, s, e.Stack())
		return out
	case *goja.StackOverflowError:
		out := sb.errorf(s, Stack, "maximum call stack size exceeded (%d nested calls)", sb.lim.MaxCallStack)
		sb.position(out, s, e.Stack())
		return out
	case *goja.Exception:
		return sb.thrown(s, e.Value(), e.Stack())
	case goja.Value:
		return sb.thrown(s, e, nil)
	case error:
		return sb.errorf(s, Crash, "internal error: %v", e)
	default:
		return sb.errorf(s, Crash, "internal error: %v", e)
	}
}

// thrown describes a value thrown by the applet. It may run JS (getters on
// the thrown object) and so must be called with the timer running; a
// failure while describing yields a generic message.
func (sb *sandbox) thrown(s *Script, v goja.Value, stack []goja.StackFrame) *Error {
	out := sb.errorf(s, Throw, "")
	var msg string
	if ex := sb.rt.Try(func() { msg = describeThrown(sb.rt, v) }); ex != nil {
		msg = "uncaught exception (its message could not be read)"
	}
	out.Message = msg
	sb.position(out, s, stack)
	return out
}

func describeThrown(rt *goja.Runtime, v goja.Value) string {
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() == "Error" {
		name := valueString(obj.Get("name"))
		msg := valueString(obj.Get("message"))
		if name == "" {
			name = "Error"
		}
		if msg == "" {
			return truncate(name, maxLogLine)
		}
		return truncate(name+": "+msg, maxLogLine)
	}
	if goja.IsString(v) {
		b, _ := marshalJSON(truncate(v.String(), 200))
		return "threw a non-Error value: " + string(b)
	}
	return "threw a non-Error value: " + formatValue(rt, v, 200)
}

func valueString(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	if _, ok := v.(*goja.Object); ok {
		return "[object]"
	}
	return v.String()
}

// position fills Line, Col and Stack from JS frames of the script.
func (sb *sandbox) position(out *Error, s *Script, stack []goja.StackFrame) {
	var b strings.Builder
	n := 0
	for i := range stack {
		f := &stack[i]
		if f.SrcName() != s.Path {
			continue
		}
		p := framePos(f)
		if out.Line == 0 && p.Line > 0 {
			out.Line, out.Col = p.Line, p.Column
		}
		if n < 20 {
			name := f.FuncName()
			if name == "" {
				name = "<anonymous>"
			}
			fmt.Fprintf(&b, "at %s (%s:%d:%d)\n", name, s.Path, p.Line, p.Column)
		}
		n++
	}
	out.Stack = b.String()
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// truncate cuts s to at most n bytes (on a rune boundary) followed by
// truncatedMark.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + truncatedMark
}
