package applet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain doubles as the worker process: NewWorkerPool in these tests
// re-executes the test binary with WorkerCommand as its first argument,
// just as the server re-executes flowc.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WorkerCommand {
		if err := ServeWorker(os.Stdin, os.Stdout, Limits{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == badWorkerCommand {
		serveOversizedAnswers()
		os.Exit(0)
	}
	// regexp2's match timeout is process-wide and set by the first runner
	// made: fix it to the attack tests' own before any test runs, so that
	// no order of tests (-run, -shuffle) leaves them a looser one.
	setupRegexp(testLimits.WithDefaults().RegexTimeout)
	os.Exit(m.Run())
}

// badWorkerCommand runs serveOversizedAnswers: a worker that completes the
// handshake and then answers every call with a frame larger than any
// legitimate answer.
const badWorkerCommand = "__bad-applet-worker"

func serveOversizedAnswers() {
	fr := &frameReader{r: bufio.NewReader(os.Stdin)}
	bw := bufio.NewWriter(os.Stdout)
	var req request
	if fr.next(&req) != nil {
		return
	}
	writeFrame(bw, &response{Ready: true, PID: os.Getpid(), Version: protocolVersion})
	for fr.next(&req) == nil {
		writeFrame(bw, &response{ID: req.ID, Err: &wireError{Kind: "throw", Message: strings.Repeat("x", 32<<20)}})
	}
}

func testBinary(t testing.TB) string { return os.Args[0] }

// testLimits keeps the worker's memory small: this machine runs the
// memory attacks for real. The time limit is short so that the attacks end
// quickly, but not so short that an ordinary call on a busy 2-core machine
// (go test runs packages in parallel) could exceed it.
var testLimits = Limits{
	Timeout:   250 * time.Millisecond,
	MaxMemory: 128 << 20,
}

// normalLimits is for tests that expect calls to succeed.
var normalLimits = Limits{
	Timeout:   5 * time.Second,
	MaxMemory: 128 << 20,
}

// attackDeadline bounds every attack call, including replacing a worker.
const attackDeadline = 5 * time.Second

type runnerSpec struct {
	name      string
	inProcess bool
	new       func(t testing.TB, l Limits) Runner
}

var allRunners = []runnerSpec{
	{"fresh", true, func(t testing.TB, l Limits) Runner { return NewFresh(l) }},
	{"pool", true, func(t testing.TB, l Limits) Runner { return NewPool(l, 2) }},
	{"worker", false, func(t testing.TB, l Limits) Runner {
		r, err := NewWorkerPool(l, 1, []string{os.Args[0], WorkerCommand})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}},
}

func workerOnly() []runnerSpec { return allRunners[2:] }

func mustCompile(t testing.TB, name, src string) *Script {
	t.Helper()
	s, err := Compile(name, name+".js", []byte(src))
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

const okSrc = `function main(ctx) {
	return { inbox: "team:" + ctx.vars.team, reply: "hi " + ctx.contact.name, n: ctx.args.length };
}`

var okInput = Input{
	Contact: map[string]any{"name": "Ann"},
	Vars:    map[string]any{"team": "sales"},
	Args:    []any{1.0, "two"},
}

var okWant = map[string]any{"inbox": "team:sales", "reply": "hi Ann", "n": 2.0}

// checkHealthy asserts that the runner still serves an ordinary call.
func checkHealthy(t *testing.T, r Runner) {
	t.Helper()
	s := mustCompile(t, "ok", okSrc)
	ctx, cancel := context.WithTimeout(context.Background(), attackDeadline)
	defer cancel()
	got, err := r.Call(ctx, s, okInput)
	if err != nil {
		t.Fatalf("next call failed: %v", err)
	}
	if !reflect.DeepEqual(got, okWant) {
		t.Fatalf("next call = %#v, want %#v", got, okWant)
	}
}

type attackCase struct {
	src      string
	kind     ErrorKind
	msg      []string // substrings of Error.Message
	line     int      // expected Error.Line, if > 0
	runners  []runnerSpec
	maxTime  time.Duration
	raceSkip bool
	timeout  time.Duration // overrides testLimits.Timeout
}

// runAttack runs the applet on each runner, checks the error and that the
// runner's next call succeeds.
func runAttack(t *testing.T, c attackCase) {
	t.Helper()
	runners := c.runners
	if runners == nil {
		runners = allRunners
	}
	if c.raceSkip && raceEnabled {
		t.Skip("skipped under the race detector: RLIMIT_AS is off and the allocation would really happen")
	}
	maxTime := c.maxTime
	if maxTime == 0 {
		// A limit ends an attack within about a second here (the time
		// limit, then the kill of a worker ignoring it); the bound is a wide
		// margin for a loaded machine (2 s failed at a load average of 16).
		maxTime = 5 * time.Second
	}
	for _, rs := range runners {
		t.Run(rs.name, func(t *testing.T) {
			lim := testLimits
			if c.timeout > 0 {
				lim.Timeout = c.timeout
			}
			r := rs.new(t, lim)
			defer r.Close()
			s := mustCompile(t, "attack", c.src)
			deadline := attackDeadline
			if c.timeout > 0 {
				deadline += 3 * c.timeout // past Timeout + RegexTimeout + killGrace
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			res, err := r.Call(ctx, s, Input{})
			elapsed := time.Since(start)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Call = %#v, %v; want *Error of kind %v", res, err, c.kind)
			}
			if e.Kind != c.kind {
				t.Fatalf("kind = %v, want %v (%v)", e.Kind, c.kind, e)
			}
			for _, m := range c.msg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
			if e.Applet != "attack" || e.Path != "attack.js" {
				t.Errorf("error names %q %q", e.Applet, e.Path)
			}
			if c.line > 0 && e.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", e.Line, c.line, e)
			}
			if elapsed > maxTime {
				t.Errorf("call took %v, want < %v", elapsed, maxTime)
			}
			t.Logf("%v in %v", e, elapsed)
			checkHealthy(t, r)
		})
	}
}

func TestAttackInfiniteLoop(t *testing.T) {
	runAttack(t, attackCase{
		src:  "function main(ctx) {\n  let i = 0;\n  while (true) { i++; }\n}",
		kind: Timeout, msg: []string{"time limit of 250ms"}, line: 3,
	})
}

func TestAttackInfiniteLoopInPromiseJob(t *testing.T) {
	// Jobs run before the call returns, so they are under the same budget.
	runAttack(t, attackCase{
		src:  "function main(ctx) {\n  Promise.resolve().then(() => { for (;;) {} });\n  return 1;\n}",
		kind: Timeout, msg: []string{"time limit"}, line: 2,
	})
}

func TestAttackCatastrophicRegex(t *testing.T) {
	// goja runs /(a+)+$/ on Go's linear-time regexp engine, so by itself it
	// is harmless; patterns Go's engine lacks (backreferences, lookaround)
	// run on backtracking regexp2, whose match timeout ends them.
	t.Run("re2", func(t *testing.T) {
		s := mustCompile(t, "re", `function main(ctx) { return /(a+)+$/.test("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"); }`)
		// testLimits, not normalLimits: the first runner made in a
		// process sets regexp2's process-wide match timeout, and when
		// this test runs first (go test -run CatastrophicRegex) a 5 s
		// limit would leave the backtracking cases below 7.5 s to time
		// out, past their deadline.
		r := NewPool(testLimits, 1)
		defer r.Close()
		got, err := r.Call(context.Background(), s, Input{})
		if err != nil || got != false {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	for _, re := range []string{`/(a+)+\1$/`, `/^(?=(a+)+$)./`, `/(a|aa)+(?!b)$/`} {
		t.Run(re, func(t *testing.T) {
			runAttack(t, attackCase{
				src:  "function main(ctx) {\n  const s = 'a'.repeat(40) + '!';\n  return " + re + ".test(s);\n}",
				kind: Timeout, msg: []string{"time limit"}, line: 3,
			})
		})
	}
	t.Run("replace-in-loop", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function main(ctx) {\n  let n = 0;\n  for (;;) n += 'aaaaaaaaaaaaaaaaaaaaaaaaa!'.replace(/(a+)+\\1$/, 'x').length;\n}",
			kind: Timeout, msg: []string{"time limit"}, line: 3,
		})
	})
}

// The memory attacks get a time limit they cannot reach (they hit the
// memory limit within a second), so that each test exercises exactly one
// limit; their context deadline is past the worker's kill deadline.
const (
	memoryAttackTimeout = 30 * time.Second
	memoryAttackMaxTime = 10 * time.Second
)

func TestAttackStringRepeat(t *testing.T) {
	runAttack(t, attackCase{
		src:     "function main(ctx) {\n  return 'x'.repeat(1e10).length;\n}",
		kind:    Memory,
		msg:     []string{"memory limit of 128 MiB"},
		runners: workerOnly(), raceSkip: true, timeout: memoryAttackTimeout, maxTime: memoryAttackMaxTime,
	})
}

func TestAttackArrayGrowth(t *testing.T) {
	for name, expr := range map[string]string{
		"sparse":  "new Array(1e6)",
		"typed":   "new Float64Array(1e6)",
		"strings": "'x'.repeat(1e5).split('')",
	} {
		t.Run(name, func(t *testing.T) {
			runAttack(t, attackCase{
				src:     "function main(ctx) {\n  let a = [];\n  while (true) a.push(" + expr + ");\n}",
				kind:    Memory,
				msg:     []string{"memory limit of 128 MiB"},
				runners: workerOnly(), timeout: memoryAttackTimeout, maxTime: memoryAttackMaxTime,
			})
		})
	}
	t.Run("allocating-loop-times-out", func(t *testing.T) {
		// A loop that allocates as fast as it can but keeps at most one
		// array alive: only the time limit can end it (the watchdog counts
		// live memory, not the garbage).
		runAttack(t, attackCase{
			src:     "function main(ctx) {\n  let a;\n  while (true) a = new Array(1e5).fill(0);\n}",
			kind:    Timeout,
			msg:     []string{"time limit of 250ms"},
			runners: workerOnly(),
		})
	})
}

func TestAttackStringDoubling(t *testing.T) {
	runAttack(t, attackCase{
		src:     "function main(ctx) {\n  let s = 'x';\n  for (;;) s = s + s;\n}",
		kind:    Memory,
		msg:     []string{"memory limit of 128 MiB"},
		runners: workerOnly(), raceSkip: true, timeout: memoryAttackTimeout, maxTime: memoryAttackMaxTime,
	})
}

func TestAttackDeepRecursion(t *testing.T) {
	runAttack(t, attackCase{
		src:  "function f(n) {\n  return f(n + 1) + 1;\n}\nfunction main(ctx) { return f(0); }",
		kind: Stack, msg: []string{"maximum call stack size exceeded (500"}, line: 2,
	})
	t.Run("through-built-ins", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function f(n) {\n  return [n].map(f);\n}\nfunction main(ctx) { return f(0); }",
			kind: Stack, msg: []string{"maximum call stack size"},
		})
	})
	t.Run("native-json", func(t *testing.T) {
		// JSON.parse recurses in Go: in the worker, its Go stack is capped.
		runAttack(t, attackCase{
			src:     "function main(ctx) {\n  return JSON.parse('['.repeat(3e6)) && 1;\n}",
			kind:    Stack,
			msg:     []string{"recursed too deeply"},
			runners: workerOnly(), raceSkip: true, timeout: memoryAttackTimeout, maxTime: memoryAttackMaxTime,
		})
	})
}

func TestAttackEvalAndFunctionConstructor(t *testing.T) {
	cases := map[string][2]string{
		"eval":          {"return eval('1 + 1');", "ReferenceError: eval is not defined"},
		"indirect-eval": {"return globalThis['ev' + 'al']('1');", "TypeError"},
		"Function":      {"return Function('return this')();", "EvalError: Function constructor is disabled"},
		"new-Function":  {"return new Function('return 1')();", "EvalError: Function constructor is disabled"},
		"constructor":   {"return (() => 1).constructor('return globalThis')();", "EvalError: Function constructor is disabled"},
		"generator":     {"return Object.getPrototypeOf(function* () {}).constructor('yield 1');", "EvalError: GeneratorFunction constructor is disabled"},
		"async":         {"return (async function () {}).constructor('return 1');", "EvalError: AsyncFunction constructor is disabled"},
		"reflect":       {"return Reflect.construct(Function, ['return 1'])();", "EvalError"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			runAttack(t, attackCase{
				src:  "function main(ctx) {\n  " + c[0] + "\n}",
				kind: Throw, msg: []string{c[1]}, line: 2,
			})
		})
	}
	t.Run("instanceof-still-works", func(t *testing.T) {
		s := mustCompile(t, "inst", `function main() { return [(() => 1) instanceof Function, typeof Function, Function.name, (function(){}).constructor === Function]; }`)
		for _, rs := range allRunners {
			r := rs.new(t, normalLimits)
			got, err := r.Call(context.Background(), s, Input{})
			r.Close()
			want := []any{true, "function", "Function", true}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %#v, %v", rs.name, got, err)
			}
		}
	})
}

// tamperSrc tries every way to leave state behind, swallowing the errors
// the locked runtimes throw.
const tamperSrc = `let counter = 0;
function main(ctx) {
	const attempts = [
		() => { Array.prototype.push = function () { return "pwned"; }; },
		() => { Array.prototype.secret = ctx.args[0]; },
		() => { Object.prototype.polluted = "yes"; },
		() => { Object.defineProperty(Object.prototype, "x", { value: 1, enumerable: true }); },
		() => { JSON.stringify = () => "pwned"; },
		() => { Math.random = () => 4; },
		() => { delete Array.prototype.map; },
		() => { String.prototype.trim = () => "pwned"; },
		() => { globalThis.leak = ctx.args[0]; },
		() => { globalThis.Object = null; },
		() => { Object.defineProperty(globalThis, "Math", { value: 1 }); },
		() => { Object.setPrototypeOf(Array.prototype, null); },
		() => { Object.preventExtensions(globalThis); },
		() => { Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true }); },
		() => { Object.getPrototypeOf(function* () {}).prototype.next = () => 1; },
		() => { Error.prototype.toString = () => "pwned"; },
		() => { console.log = () => "pwned"; },
		() => { Symbol.for("leak").description; },
	];
	let failed = 0;
	for (const a of attempts) { try { a(); } catch (e) { failed++; } }
	counter++;
	return { counter, failed };
}`

const probeSrc = `function main(ctx) {
	const a = [];
	return {
		push: a.push(1) === 1 && a.length === 1,
		secret: Array.prototype.secret === undefined,
		polluted: ({}).polluted === undefined && ({}).x === undefined,
		json: JSON.stringify({ a: 1 }) === '{"a":1}',
		random: Math.random() < 1,
		map: typeof Array.prototype.map === "function",
		trim: " a ".trim() === "a",
		leak: typeof leak === "undefined" && !("leak" in globalThis),
		object: typeof Object === "function",
		math: typeof Math === "object",
		arrayProto: Object.getPrototypeOf(Array.prototype) === Object.prototype,
		iter: [...[1, 2]].length === 2,
		gen: (function* () { yield 1; })().next().value === 1,
		errString: String(new Error("m")) === "Error: m",
		consoleLog: typeof console.log === "function",
	};
}`

func TestIsolation(t *testing.T) {
	tamper := mustCompile(t, "tamper", tamperSrc)
	probe := mustCompile(t, "probe", probeSrc)
	for _, rs := range allRunners {
		t.Run(rs.name, func(t *testing.T) {
			r := rs.new(t, normalLimits)
			defer r.Close()
			ctx := context.Background()
			// Twice each, so that a pooled runtime serves both scripts.
			for i := 0; i < 3; i++ {
				got, err := r.Call(ctx, tamper, Input{Args: []any{"secret"}})
				if err != nil {
					t.Fatalf("tamper: %v", err)
				}
				m := got.(map[string]any)
				if m["counter"] != 1.0 {
					t.Errorf("module state survived a call: counter = %v", m["counter"])
				}
				// All but Symbol.for and preventExtensions of the (already
				// frozen) global object throw on a locked runtime.
				if rs.name != "fresh" && m["failed"] != 16.0 {
					t.Errorf("%v of 18 tampering attempts failed on a locked runtime, want 16", m["failed"])
				}
				got, err = r.Call(ctx, probe, Input{})
				if err != nil {
					t.Fatalf("probe: %v", err)
				}
				for k, v := range got.(map[string]any) {
					if v != true {
						t.Errorf("call %d: %s leaked from the previous call", i, k)
					}
				}
			}
		})
	}
}

func TestOverrideOnOwnObjectsStillWorks(t *testing.T) {
	// Frozen prototypes must not break assigning toString, constructor,
	// name or message on the applet's own objects.
	src := `class AppError extends Error {
	constructor(m) { super(m); this.name = "AppError"; }
}
function Legacy() {}
Legacy.prototype = Object.create(Object.prototype);
Legacy.prototype.constructor = Legacy;
Legacy.prototype.toString = function () { return "legacy"; };
function main(ctx) {
	const o = {};
	o.toString = () => "own";
	o.valueOf = () => 7;
	const e = new AppError("bad");
	e.message = "worse";
	return [String(o), o + 0, String(new Legacy()), new Legacy().constructor === Legacy, String(e), e instanceof Error];
}`
	s := mustCompile(t, "override", src)
	want := []any{"own", 7.0, "legacy", true, "AppError: worse", true}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), s, Input{})
		r.Close()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, %v; want %#v", rs.name, got, err, want)
		}
	}
}

func TestNoHostObjects(t *testing.T) {
	src := `function main(ctx) {
	const standard = new Set(["Object", "Function", "Array", "String", "Number", "BigInt", "RegExp", "Date",
		"Boolean", "Proxy", "Reflect", "Error", "AggregateError", "TypeError", "ReferenceError", "SyntaxError",
		"RangeError", "EvalError", "URIError", "Math", "JSON", "ArrayBuffer", "DataView", "Uint8Array",
		"Uint8ClampedArray", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
		"Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "Symbol", "WeakSet", "WeakMap",
		"Map", "Set", "Promise", "globalThis", "NaN", "undefined", "Infinity", "isNaN", "parseInt",
		"parseFloat", "isFinite", "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent",
		"escape", "unescape", "console"]);
	const extra = Object.getOwnPropertyNames(globalThis).filter(n => !standard.has(n));
	const names = ["require", "process", "module", "exports", "setTimeout", "setInterval", "setImmediate",
		"queueMicrotask", "fetch", "XMLHttpRequest", "GoError", "eval", "Deno", "Bun", "global", "self", "os", "fs"];
	const present = names.filter(n => typeof globalThis[n] !== "undefined");
	let req;
	try { require("fs"); req = "require worked"; } catch (e) { req = String(e); }
	return { extra, present, req, thisAtTop: typeof this, consoleKeys: Object.keys(console).sort() };
}`
	s := mustCompile(t, "secrets", src)
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), s, Input{})
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", rs.name, err)
		}
		m := got.(map[string]any)
		if len(m["extra"].([]any)) != 0 || len(m["present"].([]any)) != 0 {
			t.Errorf("%s: host names reachable: extra %v, present %v", rs.name, m["extra"], m["present"])
		}
		if m["req"] != "ReferenceError: require is not defined" {
			t.Errorf("%s: require: %v", rs.name, m["req"])
		}
		if m["thisAtTop"] != "undefined" {
			t.Errorf("%s: top-level this is %v", rs.name, m["thisAtTop"])
		}
		if !reflect.DeepEqual(m["consoleKeys"], []any{"debug", "error", "info", "log", "warn"}) {
			t.Errorf("%s: console has %v", rs.name, m["consoleKeys"])
		}
	}
}

func TestAttackHugeResult(t *testing.T) {
	t.Run("string", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function main(ctx) {\n  return 'x'.repeat(1e6);\n}",
			kind: Result, msg: []string{"larger than 65536 bytes"},
		})
	})
	t.Run("exponential-sharing", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function main(ctx) {\n  let a = ['x'];\n  for (let i = 0; i < 40; i++) a = [a, a];\n  return a;\n}",
			kind: Result, msg: []string{"larger than"},
		})
	})
	t.Run("sparse-array", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function main(ctx) {\n  const a = [];\n  a[4e9] = 1;\n  return { a };\n}",
			kind: Result, msg: []string{"larger than"},
		})
	})
}

func TestResultValidation(t *testing.T) {
	cases := map[string]string{
		"return function () {};":                             "result: a function cannot be returned",
		"return { reply: 'x', fn: () => 1 };":                "result.fn: a function cannot be returned",
		"const a = [1]; a.push(a); return a;":                "result[1]: cyclic value",
		"const o = { x: {} }; o.x.o = o; return o;":          "result.x.o: cyclic value",
		"return { s: Symbol('x') };":                         "result.s: a symbol cannot be returned",
		"return [0 / 0];":                                    "result[0]: NaN cannot be returned",
		"return { 'a b': Infinity };":                        `result["a b"]: Infinity cannot be returned`,
		"return new Map();":                                  "result: Map objects cannot be returned",
		"return [new Uint8Array(2)];":                        "result[0]: Uint8Array objects cannot be returned",
		"return /x/;":                                        "result: RegExp objects cannot be returned",
		"return new Error('e');":                             "result: Error objects cannot be returned",
		"return 10n;":                                        "result: a BigInt cannot be returned",
		"return new Proxy({}, {});":                          "result: a Proxy cannot be returned",
		"return { get x() { throw new Error('getter'); } };": "Error: getter",
	}
	for body, want := range cases {
		t.Run(body, func(t *testing.T) {
			kind := Result
			if strings.Contains(body, "getter") {
				kind = Throw
			}
			runAttack(t, attackCase{src: "function main(ctx) {\n  " + body + "\n}", kind: kind, msg: []string{want}})
		})
	}
	t.Run("getter-loop", func(t *testing.T) {
		runAttack(t, attackCase{
			src:  "function main(ctx) {\n  return { get x() { for (;;) {} } };\n}",
			kind: Timeout, msg: []string{"time limit"}, line: 2,
		})
	})
}

func TestThrowNonError(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"42", "threw a non-Error value: 42"},
		{"{a: 1}", `threw a non-Error value: {"a":1}`},
		{"null", "threw a non-Error value: null"},
		{"undefined", "threw a non-Error value: undefined"},
		{"'oops'", `threw a non-Error value: "oops"`},
		{"[1, [2]]", "threw a non-Error value: [1,[2]]"},
		{"Symbol('s')", "threw a non-Error value: Symbol(s)"},
		{"{get message() { for (;;) {} }}", "time limit"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			kind := Throw
			if strings.Contains(c.expr, "for (;;)") {
				// describing the value runs its getter under the time budget
				kind = Timeout
			}
			runAttack(t, attackCase{
				src:  "function main(ctx) {\n  if (ctx) throw " + c.expr + ";\n}",
				kind: kind, msg: []string{c.want}, line: 2,
			})
		})
	}
}

func TestThrownErrorPosition(t *testing.T) {
	src := "// greet\nfunction helper(x) {\n  return x.name.first;\n}\n\nfunction main(ctx) {\n  if (ctx.args[0] === 'boom') {\n    throw new RangeError('bad input ' + ctx.args[0]);\n  }\n  return helper(ctx.contact);\n}\n"
	s := mustCompile(t, "greet", src)
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		_, err := r.Call(context.Background(), s, Input{Args: []any{"boom"}})
		var e *Error
		if !errors.As(err, &e) || e.Kind != Throw || e.Message != "RangeError: bad input boom" || e.Line != 8 || e.Col != 11 {
			t.Errorf("%s: %#v", rs.name, err)
		}
		_, err = r.Call(context.Background(), s, Input{Contact: map[string]any{}})
		if !errors.As(err, &e) || e.Kind != Throw || !strings.HasPrefix(e.Message, "TypeError: ") || e.Line != 3 {
			t.Errorf("%s: %#v", rs.name, err)
		} else if !strings.Contains(e.Stack, "at helper (greet.js:3:") || !strings.Contains(e.Stack, "at main (greet.js:10:") {
			t.Errorf("%s: stack %q", rs.name, e.Stack)
		}
		if got := e.Error(); !strings.HasPrefix(got, "applet greet (greet.js:3:") || !strings.Contains(got, ": throw: TypeError: ") {
			t.Errorf("%s: Error() = %q", rs.name, got)
		}
		r.Close()
	}
	// A position on line 1 is not shifted by the wrapper.
	s = mustCompile(t, "one", "function main() { throw new Error('x'); }")
	_, err := NewFresh(normalLimits).Call(context.Background(), s, Input{})
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Col != 25 {
		t.Errorf("line 1: %#v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	src := `function main(ctx) {
	return {
		message: ctx.message, contact: ctx.contact, vars: ctx.vars, args: ctx.args, now: ctx.now,
		keys: Object.keys(ctx.vars),
		decision: { inbox: "team:" + ctx.contact.owner, reply: "Thanks " + ctx.contact.name + "!", tags: ctx.contact.tags.concat(["seen"]) },
		nested: [1, [2, [3]], { a: null, b: undefined, c: true }],
		date: new Date(0), neg0: -0,
	};
}`
	s := mustCompile(t, "rt", src)
	now := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	in := Input{
		Message: map[string]any{"body": "STOP <now> & \"later\"", "from": "+15550001", "to": "+15550002", "media": []any{"https://x/y.png"}, "keyword": "stop"},
		Contact: map[string]any{"known": true, "name": "Zoë", "owner": "ops", "tags": []any{"vip", "β"}},
		Vars:    map[string]any{"z": 1, "a": int64(2), "m": 2.5, "s": []string{"p", "q"}, "ms": map[string]string{"k": "v"}},
		Args:    []any{"x", 3.25, false, nil, map[string]any{"deep": []any{1.0}}},
		Now:     now,
	}
	want := map[string]any{
		"message":  map[string]any{"body": "STOP <now> & \"later\"", "from": "+15550001", "to": "+15550002", "media": []any{"https://x/y.png"}, "keyword": "stop"},
		"contact":  map[string]any{"known": true, "name": "Zoë", "owner": "ops", "tags": []any{"vip", "β"}},
		"vars":     map[string]any{"z": 1.0, "a": 2.0, "m": 2.5, "s": []any{"p", "q"}, "ms": map[string]any{"k": "v"}},
		"args":     []any{"x", 3.25, false, nil, map[string]any{"deep": []any{1.0}}},
		"now":      "2026-03-04T05:06:07.008Z",
		"keys":     []any{"a", "m", "ms", "s", "z"},
		"decision": map[string]any{"inbox": "team:ops", "reply": "Thanks Zoë!", "tags": []any{"vip", "β", "seen"}},
		"nested":   []any{1.0, []any{2.0, []any{3.0}}, map[string]any{"a": nil, "b": nil, "c": true}},
		"date":     "1970-01-01T00:00:00.000Z",
		"neg0":     0.0,
	}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), s, in)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", rs.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", rs.name, got, want)
		}
	}
	// The caller's data is copied, never shared with the applet.
	mut := mustCompile(t, "mut", `function main(ctx) { ctx.vars.x = 1; ctx.args.push(2); ctx.contact.tags.push("t"); return null; }`)
	vars, tags := map[string]any{}, []any{}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		if _, err := r.Call(context.Background(), mut, Input{Vars: vars, Contact: map[string]any{"tags": tags}}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if len(vars) != 0 || len(tags) != 0 {
		t.Errorf("applet modified the caller's input: %v %v", vars, tags)
	}
}

func TestReturnPrimitives(t *testing.T) {
	cases := map[string]any{
		"'s'": "s", "1.5": 1.5, "true": true, "null": nil, "undefined": nil, "[]": []any{}, "({})": map[string]any{},
	}
	s := map[string]*Script{}
	for expr := range cases {
		s[expr] = mustCompile(t, "p", "function main() { return "+expr+"; }")
	}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		for expr, want := range cases {
			got, err := r.Call(context.Background(), s[expr], Input{})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s = %#v, %v; want %#v", rs.name, expr, got, err, want)
			}
		}
		r.Close()
	}
}

func TestDeterminism(t *testing.T) {
	src := `function main(ctx) {
	return { r: [Math.random(), Math.random(), Math.random()], now: Date.now(), date: new Date().toISOString(),
		ctxNow: ctx.now, hours: new Date(Date.UTC(2020, 0, 1, 12)).getUTCHours() };
}`
	s := mustCompile(t, "det", src)
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	var first map[string]any
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		for seed := int64(1); seed <= 2; seed++ {
			a, err := r.Call(context.Background(), s, Input{Seed: seed, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.Call(context.Background(), s, Input{Seed: seed, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: same seed, different results: %v %v", rs.name, a, b)
			}
			m := a.(map[string]any)
			if m["now"] != float64(now.UnixMilli()) || m["date"] != "2031-01-02T03:04:05.000Z" || m["ctxNow"] != m["date"] {
				t.Errorf("%s: clock: %v", rs.name, m)
			}
			if seed == 1 {
				if first == nil {
					first = m
				} else if !reflect.DeepEqual(first, m) {
					t.Errorf("%s differs from %s: %v %v", rs.name, allRunners[0].name, m, first)
				}
			} else if reflect.DeepEqual(first["r"], m["r"]) {
				t.Errorf("%s: seeds 1 and 2 give the same numbers", rs.name)
			}
		}
		r.Close()
	}
}

func TestSyntaxError(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"function main(ctx) {\n  let x = ;\n}", 2, 11, "unexpected `;`"},
		{"function main(ctx) {\n  return 1;\n", 3, 1, "the file ends too early"},
		{"let let = 1;\nfunction main() {}", 1, 5, "let is disallowed"},
		{"function main() { with ({}) {} }", 1, 19, "Strict mode code may not include a with statement"},
		{"function helper() {}", 1, 1, "must declare a top-level function main(ctx)"},
		{"}); globalThis.x = 1; (function(){\nfunction main() {}", 1, 1, "unexpected `}`"},
		{"return 1;\nfunction main() {}", 1, 1, "`return` outside a function"},
		{"function main(ctx) {\n  let import = 1;\n}", 2, 7, "`import` is a reserved word in JavaScript"},
		{"function main(ctx) {\n  let x = 1 y;\n}", 2, 13, "unexpected name `y`"},
		{strings.Repeat("[", 100000) + "\nfunction main() {}", 1, 257, "nested more than 256 deep"},
	}
	for _, c := range cases {
		_, err := Compile("bad", "bad.js", []byte(c.src))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v, want *SyntaxError", c.src, err)
			continue
		}
		if se.Path != "bad.js" || se.Line != c.line || (c.col > 0 && se.Col != c.col) || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%.40q: got %s:%d:%d %q; want line %d col %d containing %q", c.src, se.Path, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
	if _, err := Compile("big", "", make([]byte, MaxSourceBytes+1)); err == nil {
		t.Error("oversized source compiled")
	}
	for _, ok := range []string{"const main = (ctx) => 1;", "var main = function () {};", "let main; main = () => 1;", "function main() {}"} {
		if _, err := Compile("ok", "", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestAsyncMain(t *testing.T) {
	ok := mustCompile(t, "async", `async function main(ctx) { const v = await Promise.resolve(ctx.args[0]); return { v }; }`)
	rej := mustCompile(t, "asyncrej", "async function main(ctx) {\n  await null;\n  throw new TypeError('nope');\n}")
	never := mustCompile(t, "asyncnever", "function main(ctx) { return new Promise(() => {}); }")
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), ok, Input{Args: []any{"x"}})
		if err != nil || !reflect.DeepEqual(got, map[string]any{"v": "x"}) {
			t.Errorf("%s: %#v %v", rs.name, got, err)
		}
		_, err = r.Call(context.Background(), rej, Input{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != Throw || e.Message != "TypeError: nope" {
			t.Errorf("%s: %v", rs.name, err)
		}
		_, err = r.Call(context.Background(), never, Input{})
		if !errors.As(err, &e) || e.Kind != Result || !strings.Contains(e.Message, "never settled") {
			t.Errorf("%s: %v", rs.name, err)
		}
		r.Close()
	}
}

func TestMainNotAFunction(t *testing.T) {
	runAttack(t, attackCase{src: "var main = 5;", kind: Throw, msg: []string{"must declare a function main(ctx)"}})
}

func TestCancel(t *testing.T) {
	s := mustCompile(t, "loop", "function main() {\n  for (;;) {}\n}")
	for _, rs := range allRunners {
		t.Run(rs.name, func(t *testing.T) {
			// The worker pool answers at once and collects the worker
			// when its own time limit ends the call.
			r := rs.new(t, Limits{Timeout: time.Second, MaxMemory: testLimits.MaxMemory})
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := r.Call(ctx, s, Input{})
			var e *Error
			if !errors.As(err, &e) || e.Kind != Canceled || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("cancel took %v", d)
			}
			checkHealthy(t, r)
		})
	}
}

func TestConsoleLog(t *testing.T) {
	s := mustCompile(t, "log", `function main(ctx) {
	console.log("hello", 1, { a: [true] }, null, undefined);
	console.warn(new Error("careful"));
	for (let i = 0; i < 200; i++) console.debug(i);
	return 1;
}`)
	for _, rs := range allRunners {
		var mu sync.Mutex
		var lines []string
		ctx := WithLogger(context.Background(), func(level, msg string) {
			mu.Lock()
			lines = append(lines, level+" "+msg)
			mu.Unlock()
		})
		r := rs.new(t, normalLimits)
		if _, err := r.Call(ctx, s, Input{}); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if len(lines) != 101 || lines[0] != `log hello 1 {"a":[true]} null undefined` || lines[1] != "warn Error: careful" ||
			lines[100] != "warn (102 more console lines dropped)" {
			t.Errorf("%s: %d lines: %q ... %q", rs.name, len(lines), lines[:2], lines[len(lines)-1])
		}
	}
}

func TestUnsupportedInput(t *testing.T) {
	s := mustCompile(t, "ok", okSrc)
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		_, err := r.Call(context.Background(), s, Input{Vars: map[string]any{"t": time.Now()}})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Path != "vars.t" {
			t.Errorf("%s: %v", rs.name, err)
		}
		checkHealthy(t, r)
		r.Close()
	}
}

func TestConcurrentCalls(t *testing.T) {
	s := mustCompile(t, "ok", okSrc)
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					got, err := r.Call(context.Background(), s, okInput)
					if err == nil && !reflect.DeepEqual(got, okWant) {
						err = fmt.Errorf("got %v", got)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		r.Close()
		close(errs)
		for err := range errs {
			t.Errorf("%s: %v", rs.name, err)
		}
	}
}

func TestWorkerClosed(t *testing.T) {
	r := allRunners[2].new(t, testLimits)
	r.Close()
	if _, err := r.Call(context.Background(), mustCompile(t, "ok", okSrc), okInput); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v", err)
	}
	if _, err := NewWorkerPool(testLimits, 1, []string{"/nonexistent/flowc", WorkerCommand}); err == nil {
		t.Error("NewWorkerPool with a missing binary succeeded")
	}
	if _, err := NewWorkerPool(testLimits, 1, []string{"/bin/true"}); err == nil {
		t.Error("NewWorkerPool with a non-worker binary succeeded")
	}
}

func TestCompileHostileSources(t *testing.T) {
	// Shapes of input on which goja's parser or compiler is deeply
	// recursive or quadratic: each must be rejected (or compiled) quickly.
	for _, pat := range []string{"x=>", "a?b:", "a+", "!", "typeof ", "new ", "a=", "async x=>", "a.b", "(", "[", "{", "`${"} {
		src := strings.Repeat(pat, MaxSourceBytes/len(pat)-10) + "1;\nfunction main(){}"
		start := time.Now()
		_, err := Compile("hostile", "hostile.js", []byte(src))
		d := time.Since(start)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q × %d: err = %v, want *SyntaxError", pat, len(src)/len(pat), err)
		}
		limit := 3 * time.Second
		if raceEnabled {
			limit *= 10
		}
		if d > limit {
			t.Errorf("%q: Compile took %v", pat, d)
		}
	}
	// Ordinary nesting stays well within the limits.
	src := "function main(ctx) {\n" + strings.Repeat("if (ctx) {\n", 50) + "return [[[[{ a: (1 + 2) * 3 }]]]];\n" + strings.Repeat("}\n", 50) + "}"
	if _, err := Compile("deep", "", []byte(src)); err != nil {
		t.Error(err)
	}
}

func TestInputKeysAreData(t *testing.T) {
	s := mustCompile(t, "keys", `function main(ctx) {
	const v = ctx.vars;
	return [Object.getPrototypeOf(v) === Object.prototype, Object.keys(v).join(","), typeof v.toString, v.__proto__ === 1];
}`)
	in := Input{Vars: map[string]any{"__proto__": 1.0, "toString": "s", "constructor": "c"}}
	want := []any{true, "__proto__,constructor,toString", "string", true}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), s, in)
		r.Close()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v", rs.name, got, err)
		}
	}
}

func TestWorkerScriptCache(t *testing.T) {
	// More scripts than a worker caches: evicted ones are sent again.
	r := allRunners[2].new(t, normalLimits)
	defer r.Close()
	scripts := make([]*Script, maxScripts+20)
	for i := range scripts {
		scripts[i] = mustCompile(t, fmt.Sprintf("s%d", i), fmt.Sprintf("function main() { return %d; }", i))
	}
	for round := 0; round < 2; round++ {
		for i, s := range scripts {
			got, err := r.Call(context.Background(), s, Input{})
			if err != nil || got != float64(i) {
				t.Fatalf("round %d script %d: %v, %v", round, i, got, err)
			}
		}
	}
}

// Each goja parser message flowc rewrites, and what the author reads.
func TestSyntaxMessageInPlainWords(t *testing.T) {
	src := "let enum = 1;\nx = 1 foo;\nlet n = 1 2;\nlet é = #;"
	for _, c := range []struct {
		msg       string
		line, col int
		want      string
	}{
		{"Unexpected reserved word", 1, 5, "`enum` is a reserved word in JavaScript and cannot be used as a name"},
		{"Unexpected identifier", 2, 7, "unexpected name `foo`: an operator, `,` or `;` is probably missing before it"},
		{"Unexpected number", 3, 11, "unexpected number `2`"},
		{"Unexpected token ILLEGAL", 4, 9, "`#` cannot appear here in JavaScript"},
		{"Unexpected token )", 1, 1, "unexpected `)`"},
		{"Unexpected end of input", 5, 1, "the file ends too early: a closing `}`, `)`, `]` or quote is missing"},
		{"Unexpected string", 1, 1, "unexpected string: an operator, `,` or `;` is probably missing before it"},
		{"Invalid left-hand side in assignment", 1, 1, "cannot assign to this: the left of `=` must be a variable or a property (to compare, write `===`)"},
		{"Illegal return statement", 1, 1, "`return` outside a function: a top-level statement cannot return"},
		{"Illegal break statement", 1, 1, "`break` outside a loop or switch"},
		{"Illegal continue statement", 1, 1, "`continue` outside a loop"},
		{"Missing catch or finally after try", 1, 1, "`try` needs a `catch` or `finally` block"},
		{"Invalid regular expression: missing /", 1, 1, "unterminated regular expression: the closing `/` is missing"},
		{"Strict mode code may not include a with statement", 1, 1, "Strict mode code may not include a with statement"},
	} {
		if got := SyntaxMessage(c.msg, src, c.line, c.col); got != c.want {
			t.Errorf("%q at %d:%d = %q, want %q", c.msg, c.line, c.col, got, c.want)
		}
	}
}
