package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/runtime/applet"
)

// TestMain doubles as the applet worker: `flowc run` and `flowc test`
// (called in process by these tests) re-execute the running binary, here
// the test binary, as `__applet-worker`, as the server does with flowc.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == applet.WorkerCommand {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	// The applets of the examples and of most tests here are ordinary
	// code, but the default time limit (50 ms, wall-clock) is within reach
	// of a scheduling hiccup on a loaded two-core CI machine. Tests about
	// the limit itself set FLOWC_APPLET_TIMEOUT with t.Setenv.
	if os.Getenv("FLOWC_APPLET_TIMEOUT") == "" {
		os.Setenv("FLOWC_APPLET_TIMEOUT", "2s")
	}
	os.Exit(m.Run())
}

// appletAttack is one hostile applet. Its main(ctx) runs attack on the
// message "attack" and check on any other message: the harness sends
// "attack" once and then "check" from other contacts, which must find
// nothing left behind.
//
// To add an attack, add a row: the table runs through a real `flowc serve`
// (TestAppletAttacksServe) and through `flowc test` (TestAppletAttacksOffline).
// An attack on the flow itself rather than its applet (an expression)
// sets flow instead of attack.
type appletAttack struct {
	name string
	// flow, if set, replaces the flow's default statements (run x(body)
	// and the replies below). It must reply want to the message "attack"
	// and "clean" to "check"; it may call the applet x, whose main returns
	// check(ctx) for any message but "attack".
	flow    string
	prelude string // top-level JS before main
	attack  string // statements; returning nothing replies "ok"
	// want is the reply to "attack": "err" (the flow's on error branch)
	// or "ok" (the attack was harmless and the call returned).
	want string
	// kinds are the error kinds acceptable for want "err" (checked by
	// `flowc test`, which sees the error).
	kinds []string
	// check replaces probeJS for the "check" calls: statements returning
	// "clean" when nothing of the attack is visible.
	check string
}

// probeJS is the default check: the built-ins and the global object are as
// on a new runtime, and an ordinary computation works.
const probeJS = `
	const dirty = [];
	if ([].push(1) !== 1) dirty.push("Array.prototype.push");
	if (({}).polluted !== undefined || Array.prototype.secret !== undefined) dirty.push("prototype property");
	if (JSON.stringify({ a: [1] }) !== '{"a":[1]}') dirty.push("JSON");
	if (" a ".trim() !== "a") dirty.push("String.prototype.trim");
	if (typeof leak !== "undefined") dirty.push("global");
	if (String(new Error("m")) !== "Error: m") dirty.push("Error.prototype.toString");
	if ("hello world".split(" ").map(w => w.toUpperCase()).join("-") !== "HELLO-WORLD") dirty.push("computation");
	return dirty.length === 0 ? "clean" : "dirty: " + dirty.join(", ");`

// hugeNameJS gives X an 8 MB name.
const hugeNameJS = "Object.defineProperty(X, 'name', { value: 'x'.repeat(8e6) });\n"

var appletAttacks = []appletAttack{
	{name: "infinite-loop", attack: "for (;;) {}", want: "err", kinds: []string{"timeout"}},
	{name: "loop-in-promise-job", attack: "Promise.resolve().then(() => { for (;;) {} });", want: "err", kinds: []string{"timeout"}},
	{name: "deep-recursion", prelude: "function f(n) { return f(n + 1) + 1; }", attack: "f(0);", want: "err", kinds: []string{"stack"}},
	{name: "catastrophic-regex-backreference", attack: "return String(/(a+)+\\1$/.test('a'.repeat(40) + '!'));", want: "err", kinds: []string{"timeout"}},
	{name: "catastrophic-regex-lookahead", attack: "return String(/^(?=(a+)+$)./.test('a'.repeat(40) + '!'));", want: "err", kinds: []string{"timeout"}},
	{name: "json-parse-nesting", attack: "JSON.parse('['.repeat(1e7));", want: "err", kinds: []string{"stack", "memory", "timeout"}},
	{name: "string-repeat-1e10", attack: "return 'x'.repeat(1e10).length;", want: "err", kinds: []string{"memory"}},
	{name: "pad-end-1gib", attack: "return ''.padEnd(2 ** 30, 'x').length;", want: "err", kinds: []string{"memory"}},
	{name: "array-join-2e32", attack: "return Array(2 ** 32 - 1).join().length;", want: "err", kinds: []string{"memory", "timeout"}},
	{name: "array-fill-2e31", attack: "return new Array(2 ** 31).fill(0).length;", want: "err", kinds: []string{"memory", "timeout"}},
	// With the server's limits (50 ms, 256 MiB) a loop that allocates may
	// run out of either first: both end it.
	{name: "string-doubling", attack: "let s = 'x'; for (;;) s = s + s;", want: "err", kinds: []string{"memory", "timeout"}},
	{name: "array-growth", attack: "const a = []; for (;;) a.push(new Float64Array(1e6));", want: "err", kinds: []string{"memory", "timeout"}},
	{name: "huge-result", attack: "return 'x'.repeat(1e6);", want: "err", kinds: []string{"result"}},
	{name: "eval", attack: "return eval('1');", want: "err", kinds: []string{"throw"}},
	{name: "function-constructor", attack: "return (() => 1).constructor('return globalThis')();", want: "err", kinds: []string{"throw"}},
	// Issue #10, item 1: error text is bounded (see maxRecordGrowth).
	{name: "huge-function-name-thrown", prelude: "function X() {}", attack: hugeNameJS + "throw X;", want: "err", kinds: []string{"throw"}},
	{name: "huge-constructor-name-returned", prelude: "class X extends Map {}", attack: hugeNameJS + "return new X();", want: "err", kinds: []string{"result"}},
	{name: "huge-error-message", attack: "const e = new Error('m'.repeat(8e6)); e.name = 'n'.repeat(8e6); throw e;", want: "err", kinds: []string{"throw"}},
	{name: "console-flood", attack: "const big = 'x'.repeat(1e6); for (let i = 0; i < 1000; i++) console.log(big, big);", want: "ok"},
	// Item 2: garbage of one call does not fail the next ones: 40 MB at a
	// time, 320 MB in all, then checks that keep 100 MB alive each.
	{name: "garbage", want: "ok",
		attack: "for (let r = 0; r < 8; r++) { const a = []; for (let i = 0; i < 40; i++) a.push(new Uint8Array(1 << 20)); }",
		check:  "const a = []; for (let i = 0; i < 100; i++) a.push(new Uint8Array(1 << 20)); return a.length === 100 ? probe(ctx) : 'dirty';"},
	// Item 3: the Symbol.for registry is per call. 100 MB of keys kept by
	// the registry plus the 100 MB the check keeps alive would pass the
	// watchdog's 192 MiB (¾ of 256 MiB).
	{name: "symbol-registry", want: "ok",
		attack: "const base = 'k'.repeat(1 << 20); for (let i = 0; i < 100; i++) Symbol.for(base + i); Symbol.for('k');",
		check: "const a = []; for (let i = 0; i < 100; i++) a.push(new Uint8Array(1 << 20));\n" +
			"return Symbol.keyFor(Symbol.for('k')) === 'k' && Symbol.for('k') === Symbol.for('k') ? probe(ctx) : 'dirty';"},
	// Attacks on the flow's expressions rather than its applet (issue
	// #10): each would pin a core or allocate hundreds of MB; the budget
	// stops the evaluation, the condition is false (or the variable
	// unset), and the flow answers "ok" on that path. Completed, they
	// would answer "dirty".
	{name: "expr-nested-loops", want: "ok", flow: `when (body == "check") < reply "clean" >
else when all(1..40000, all(1..40000, all(1..40000, true))) < reply "dirty" > else reply "ok"`},
	{name: "expr-repeat", want: "ok", flow: `when (body == "check") < reply "clean" >
set s = repeat(body, 90000)
when (s == nil) < reply "ok" > else reply "dirty"`},
	{name: "expr-string-concat", want: "ok", flow: `when (body == "check") < reply "clean" >
set a = body` + strings.Repeat(" + body", 40) + ` + repeat(body, 9000)
when (a == nil) < reply "ok" > else reply "dirty"`},
	{name: "reply-over-1600-characters", want: "ok", flow: `when (body == "check") < reply "clean" >
reply "{{repeat('x', 1000)}}{{repeat('y', 1000)}}"
reply "ok"`},
	{name: "tamper-built-ins", want: "ok", attack: `for (const f of [
		() => { Array.prototype.push = () => 0; }, () => { Object.prototype.polluted = 1; }, () => { Array.prototype.secret = 1; },
		() => { JSON.stringify = () => ""; }, () => { String.prototype.trim = () => ""; }, () => { globalThis.leak = 1; },
		() => { Error.prototype.toString = () => ""; }, () => { Error.prepareStackTrace = () => ""; },
	]) { try { f(); } catch (e) {} }`},
}

// defaultAttackFlow calls the applet and makes its outcome the reply:
// "err" on the error branch, else what it returned ("clean", "ok" or
// "dirty" for anything else).
const defaultAttackFlow = `run x(body) as r <
  on error -> reply "err" then end
>
when (r == "clean") < reply "clean" > else when (r == "ok") < reply "ok" > else reply "dirty"`

// attackTimeout is the applets' time limit in these tests
// (FLOWC_APPLET_TIMEOUT), instead of the default 50 ms: ordinary calls and
// the attacks meant to end otherwise (the 100 MB of symbol-registry's
// check, say) stay far from it on a busy machine: at 500 ms they did not
// always. The per-message budget is raised far above it, so the applet's
// own limit is the one that ends a looping call (attackEventBudget).
const attackTimeout = "1500ms"

// attackEventBudget is the per-message budget of all applet calls
// (FLOWC_EVENT_BUDGET) in these tests: far above attackTimeout plus the
// regexp limit and a worker's replacement, so that the applet's own limit
// is always the one that ends an attack (no race between two limits).
const attackEventBudget = "10s"

// attackBudget bounds the answer to an attack: the limits end it within
// about 2.5 s (the time limit, then a worker ignoring it is killed at
// Timeout + RegexTimeout + 200 ms; a dead worker is replaced in the
// background).
const attackBudget = 8 * time.Second

// checkBudget bounds the answer to an ordinary message after an attack.
const checkBudget = 2 * time.Second

// maxRecordGrowth bounds how much the database may grow for one attack and
// its checks: an execution record carrying an 8 MB error would exceed it.
const maxRecordGrowth = 1 << 20

// writeAttackFlows writes one flow, applet and scenario test per attack
// into dir, attack i answering on number attackNumber(i).
func writeAttackFlows(t *testing.T, dir string) {
	t.Helper()
	for i, a := range appletAttacks {
		check := a.check
		if check == "" {
			check = "return probe(ctx);"
		}
		js := a.prelude + "\nfunction probe(ctx) {\n" + probeJS + "\n}\nfunction check(ctx) {\n" + check + "\n}\nfunction main(ctx) {\n" +
			"  if (ctx.args[0] !== 'attack') return check(ctx);\n  " + a.attack + "\n  return 'ok';\n}\n"
		body := a.flow
		if body == "" {
			body = defaultAttackFlow
		}
		flow := fmt.Sprintf("flow attack%d\nnumbers %q\ntimezone \"UTC\"\napplet x = \"attack%d.js\"\n\n%s\n", i, attackNumber(i), i, body)
		errLine := ""
		if a.want == "err" {
			errLine = fmt.Sprintf("  expect error ~ %q\n", ": ("+strings.Join(a.kinds, "|")+"): ")
		}
		test := fmt.Sprintf("at 2026-11-23T10:00\nfrom +15557650000\n\ntest \"attack\"\n  send \"attack\"\n%s  expect reply %q\n", errLine, a.want)
		for c := 1; c <= 2; c++ {
			test += fmt.Sprintf("\ntest \"check %d\"\n  send \"check\"\n  expect reply \"clean\"\n", c)
		}
		for ext, text := range map[string]string{".js": js, ".flow": flow, ".flowtest": test} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("attack%d%s", i, ext)), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func attackNumber(i int) string { return fmt.Sprintf("+1555091%04d", i) }

// TestAppletAttacksOffline runs every attack through `flowc test`, in this
// process: each must end on the error path within its budget, without
// taking the process down, and leave nothing to the tests after it.
func TestAppletAttacksOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts applet worker processes")
	}
	t.Setenv("FLOWC_APPLET_TIMEOUT", attackTimeout)
	t.Setenv("FLOWC_EVENT_BUDGET", attackEventBudget)
	dir := t.TempDir()
	writeAttackFlows(t, dir)
	for i, a := range appletAttacks {
		t.Run(a.name, func(t *testing.T) {
			start := time.Now()
			code, out, errs := runFlowc(t, "test", filepath.Join(dir, fmt.Sprintf("attack%d.flowtest", i)))
			elapsed := time.Since(start)
			if code != exitOK {
				t.Fatalf("flowc test: exit %d\n%s%s", code, out, errs)
			}
			if elapsed > attackBudget+2*checkBudget {
				t.Errorf("flowc test took %v", elapsed)
			}
		})
	}
}

// TestAppletAttackFlowcRun: `flowc run` answers an attack with the error
// branch and goes on with the next message.
func TestAppletAttackFlowcRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts applet worker processes")
	}
	t.Setenv("FLOWC_APPLET_TIMEOUT", attackTimeout)
	t.Setenv("FLOWC_EVENT_BUDGET", attackEventBudget)
	dir := t.TempDir()
	writeAttackFlows(t, dir)
	for i, a := range appletAttacks {
		if a.name != "string-repeat-1e10" && a.name != "json-parse-nesting" {
			continue
		}
		var out, errb strings.Builder
		code := run([]string{"run", filepath.Join(dir, fmt.Sprintf("attack%d.flow", i))}, strings.NewReader("attack\ncheck\n"), &out, &errb)
		if code != exitOK || !strings.Contains(out.String(), `"err"`) || !strings.Contains(out.String(), `"clean"`) {
			t.Errorf("%s: exit %d\n%s%s", a.name, code, out.String(), errb.String())
		}
	}
}

// TestAppletAttacksServe runs every attack through a real `flowc serve`
// and its worker pool, by Twilio webhooks in dev mode: the attack is
// answered by the error branch within its budget, the server stays healthy,
// ordinary messages from other contacts are answered at once and find
// nothing left behind, and the stored records stay small.
func TestAppletAttacksServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flowc binary")
	}
	bin, err := buildFlowc()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLOWC_APPLET_TIMEOUT", attackTimeout) // inherited by flowc serve
	t.Setenv("FLOWC_EVENT_BUDGET", attackEventBudget)
	dir := t.TempDir()
	writeAttackFlows(t, dir)
	db := filepath.Join(t.TempDir(), "flowc.db")
	addr := freeAddr(t)
	cmd := startServe(t, bin, dir, db, addr)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()

	seq := 0
	text := func(t *testing.T, from, to, body string, budget time.Duration) string {
		t.Helper()
		seq++
		form := url.Values{"MessageSid": {fmt.Sprintf("SMattack%026d", seq)}, "From": {from}, "To": {to}, "Body": {body},
			"NumMedia": {"0"}, "AccountSid": {"AC0123"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
		start := time.Now()
		resp, err := http.PostForm("http://"+addr+"/webhooks/twilio/sms", form)
		if err != nil {
			t.Fatalf("%q to %s: %v", body, to, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if d := time.Since(start); d > budget {
			t.Errorf("%q to %s answered in %v, want < %v", body, to, d, budget)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q to %s: %d %s", body, to, resp.StatusCode, b)
		}
		m := regexp.MustCompile(`<Message>([^<]*)</Message>`).FindStringSubmatch(string(b))
		if m == nil {
			return string(b)
		}
		return m[1]
	}
	for i, a := range appletAttacks {
		t.Run(a.name, func(t *testing.T) {
			before := dbSize(db)
			if got := text(t, "+15557650001", attackNumber(i), "attack", attackBudget); got != a.want {
				t.Errorf("attack answered %q, want %q", got, a.want)
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz after the attack: %v %v", err, resp)
			}
			resp.Body.Close()
			// More checks than the pool has workers (2 on this machine):
			// each worker serves at least one.
			for c := 0; c < 3; c++ {
				if got := text(t, fmt.Sprintf("+1555766%04d", c), attackNumber(i), "check", checkBudget); got != "clean" {
					t.Errorf("check %d after the attack answered %q, want \"clean\"", c, got)
				}
			}
			if grown := dbSize(db) - before; grown > maxRecordGrowth {
				t.Errorf("the database grew by %d bytes for one attack", grown)
			}
		})
	}
}

// dbSize is the size of the SQLite database with its write-ahead log.
func dbSize(db string) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(db + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}
