package applet

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// crossCallChannels lists ways a call could leave data for a later call on
// the same runtime; each writer runs in call 1 and its reader in call 2,
// which must see nothing. A writer may throw (a frozen built-in): that is
// a channel closed too.
var crossCallChannels = map[string]struct{ write, read string }{
	"regexp-legacy-statics": {
		write: "/(secret)/.exec('secret');",
		read:  "return [RegExp.$1, RegExp.lastMatch, RegExp.input, RegExp['$_']];",
	},
	"error-hooks": {
		write: "Error.prepareStackTrace = () => ctx.args[0]; Error.stackTraceLimit = 1;",
		read:  "return [typeof Error.prepareStackTrace, typeof Error.stackTraceLimit];",
	},
	"math-random-state": {
		write: "for (let i = 0; i < 1000; i++) Math.random();",
		read:  "return [Math.random()];",
	},
	"template-object": {
		write: "const tag = (s) => s; try { tag`x`.secret = ctx.args[0]; } catch (e) {}",
		read:  "const tag = (s) => s; return [tag`x`.secret === undefined];",
	},
}

// TestNoStateAcrossCalls: call 1 (on one script) tries every channel; call
// 2 (on another script, on the same pooled runtime) must read exactly what
// it reads on a runtime no one used before.
func TestNoStateAcrossCalls(t *testing.T) {
	for name, ch := range crossCallChannels {
		t.Run(name, func(t *testing.T) {
			writer := mustCompile(t, "writer", "function main(ctx) {\n  try { "+ch.write+" } catch (e) {}\n  return null;\n}")
			reader := mustCompile(t, "reader", "function main(ctx) {\n  "+ch.read+"\n}")
			for _, rs := range allRunners {
				t.Run(rs.name, func(t *testing.T) {
					clean := rs.new(t, normalLimits)
					want, err := clean.Call(context.Background(), reader, Input{Seed: 7})
					clean.Close()
					if err != nil {
						t.Fatal(err)
					}
					r := rs.new(t, normalLimits)
					if rs.name == "pool" {
						r.Close()
						r = NewPool(normalLimits, 1) // one runtime serves both calls
					}
					defer r.Close()
					if _, err := r.Call(context.Background(), writer, Input{Args: []any{"secret"}, Seed: 7}); err != nil {
						t.Fatal(err)
					}
					got, err := r.Call(context.Background(), reader, Input{Seed: 7})
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("after call 1, call 2 read %#v; on an unused runtime %#v", got, want)
					}
				})
			}
		})
	}
}

// TestSymbolRegistryPerCall: Symbol.for works within a call (same key,
// same symbol; keyFor finds it), but the registry starts empty on every
// call: what one call registers is not kept for the next. No JS can list
// the registry, but it holds its keys alive: a call that registers 64 MB
// of keys must not leave them to count against later calls' memory.
func TestSymbolRegistryPerCall(t *testing.T) {
	s := mustCompile(t, "sym", `function main(ctx) {
	return {
		same: Symbol.for("x") === Symbol.for("x"),
		keyFor: Symbol.keyFor(Symbol.for("x")),
		notRegistered: Symbol.keyFor(Symbol("x")) === undefined,
		wellKnown: Symbol.keyFor(Symbol.iterator) === undefined,
		desc: Symbol.for("d").description,
		typ: typeof Symbol.for("t"),
	};
}`)
	want := map[string]any{"same": true, "keyFor": "x", "notRegistered": true, "wellKnown": true, "desc": "d", "typ": "symbol"}
	for _, rs := range allRunners {
		r := rs.new(t, normalLimits)
		for i := 1; i <= 2; i++ {
			got, err := r.Call(context.Background(), s, Input{})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Symbol.for within a call: %#v, %v", rs.name, got, err)
			}
		}
		r.Close()
	}
	bad := mustCompile(t, "bad", "function main() { return Symbol.keyFor('x'); }")
	_, err := NewPool(normalLimits, 1).Call(context.Background(), bad, Input{})
	if e, ok := err.(*Error); !ok || e.Kind != Throw || !strings.HasPrefix(e.Message, "TypeError: ") {
		t.Errorf("keyFor('x'): %v, want a TypeError", err)
	}

	// 64 keys of 1 MB each: registered and kept by call 1 only.
	fill := mustCompile(t, "fill", `function main(ctx) {
	const base = 'k'.repeat(1 << 20);
	for (let i = 0; i < 64; i++) Symbol.for(base + i);
	return null;
}`)
	t.Run("pool", func(t *testing.T) {
		r := NewPool(normalLimits, 1)
		defer r.Close()
		before := liveHeap()
		if _, err := r.Call(context.Background(), fill, Input{}); err != nil {
			t.Fatal(err)
		}
		if grown := int64(liveHeap()) - int64(before); grown > 32<<20 {
			t.Errorf("the runtime keeps %d MB after a call that registered 64 MB of Symbol.for keys", grown>>20)
		}
	})
	t.Run("worker", func(t *testing.T) {
		// After call 1, call 2 needs 64 MB of a 96 MB watchdog budget.
		r := workerOnly()[0].new(t, normalLimits)
		defer r.Close()
		alloc := mustCompile(t, "alloc", `function main(ctx) {
	const keep = [];
	for (let i = 0; i < 64; i++) keep.push(new Uint8Array(1 << 20));
	return keep.length;
}`)
		if _, err := r.Call(context.Background(), fill, Input{}); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Call(context.Background(), alloc, Input{}); err != nil || got != 64.0 {
			t.Fatalf("call 2 = %v, %v: the keys call 1 registered still count against its memory", got, err)
		}
	})
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestEverythingReachableIsFrozen: on a reused runtime, every object a call
// can reach without creating it — from the global object, and the
// prototypes of every kind of object it can create — is frozen, so none
// can carry data to the next call.
func TestEverythingReachableIsFrozen(t *testing.T) {
	s := mustCompile(t, "reach", `function main(ctx) {
	const made = [[][Symbol.iterator](), new Map().entries(), new Set().values(), ""[Symbol.iterator](),
		/a/[Symbol.matchAll]("a"), Object.getPrototypeOf((function* () {})()) /* the function's own prototype */, function* () {}, (async function () {})(), async function () {},
		async () => {}, () => {}, function () {}, class {}, class extends Array {}, new WeakMap(), new WeakSet(), new Map(), new Set(),
		new Date(0), /x/g, Object(Symbol()), Object(1n), Object(""), Object(1), Object(true), new Uint8Array(1),
		new Float64Array(1), new BigInt64Array(1), new ArrayBuffer(1), new DataView(new ArrayBuffer(1)), Promise.resolve(),
		new Proxy({}, {}), new Error("x"), new TypeError("x"), new AggregateError([]), (function () { return arguments; })(),
		{}, [], Object.create(null)];
	const seen = new Set(), todo = [], open = [];
	const visit = (v, path) => {
		if (((typeof v === "object" && v !== null) || typeof v === "function") && !seen.has(v)) {
			seen.add(v);
			todo.push([v, path]);
		}
	};
	visit(globalThis, "globalThis");
	made.forEach((m, i) => visit(Object.getPrototypeOf(m), "proto of made[" + i + "]"));
	while (todo.length > 0) {
		const [o, path] = todo.pop();
		if (!Object.isFrozen(o)) open.push(path);
		visit(Object.getPrototypeOf(o), path + ".__proto__");
		for (const k of Reflect.ownKeys(o)) {
			const d = Object.getOwnPropertyDescriptor(o, k);
			if (d === undefined) continue;
			const name = path + "." + String(k);
			if ("value" in d) visit(d.value, name);
			else { visit(d.get, name + "(get)"); visit(d.set, name + "(set)"); }
		}
	}
	return { open, seen: seen.size };
}`)
	for _, rs := range allRunners[1:] { // the locked runtimes
		r := rs.new(t, normalLimits)
		got, err := r.Call(context.Background(), s, Input{})
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", rs.name, err)
		}
		m := got.(map[string]any)
		if open := m["open"].([]any); len(open) > 0 {
			t.Errorf("%s: %d objects reachable and not frozen: %v", rs.name, len(open), open)
		}
		if m["seen"].(float64) < 500 {
			t.Errorf("%s: the walk saw only %v objects", rs.name, m["seen"])
		}
	}
}
