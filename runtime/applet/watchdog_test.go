package applet

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestWatchdogIgnoresGarbage: the watchdog judges live memory, not garbage
// left uncollected (by this call or earlier ones). With the collector off,
// 64 MB of garbage is certainly still in the heap when check runs.
func TestWatchdogIgnoresGarbage(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	sb, err := newSandbox(normalLimits.WithDefaults(), true)
	if err != nil {
		t.Fatal(err)
	}
	base := liveHeap()
	for i := 0; i < 64; i++ {
		garbage = make([]byte, 1<<20)
	}
	garbage = nil
	wd := newWatchdog(sb, base+32<<20)
	wd.timer = time.AfterFunc(time.Hour, func() {})
	defer wd.stop()
	if h := wd.heap(); h < base+64<<20 {
		t.Fatalf("test setup: heap %d MB, want the garbage in it", h>>20)
	}
	wd.check()
	if wd.hit {
		t.Fatal("the watchdog fired on garbage")
	}
	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	wd.check()
	runtime.KeepAlive(live)
	if !wd.hit {
		t.Fatal("the watchdog did not fire on 64 MB of live memory past a 32 MB budget")
	}
}

var garbage []byte

// TestWorkerGarbageOfEarlierCalls: a call that allocates and drops about
// 40 MB at a time leaves garbage behind; the 50 small calls after it, on
// the same worker, must all succeed.
func TestWorkerGarbageOfEarlierCalls(t *testing.T) {
	r := workerOnly()[0].new(t, normalLimits)
	defer r.Close()
	churn := mustCompile(t, "churn", `function main(ctx) {
	let n = 0;
	for (let round = 0; round < 6; round++) {
		const a = [];
		for (let i = 0; i < 40; i++) a.push(new Uint8Array(1 << 20));
		n += a.length;
	}
	return n;
}`)
	small := mustCompile(t, "small", `function main(ctx) {
	let s = 0;
	for (let i = 0; i < 20000; i++) s += [i, i].length;
	return s;
}`)
	ctx := context.Background()
	if got, err := r.Call(ctx, churn, Input{}); err != nil || got != 240.0 {
		t.Fatalf("churn = %v, %v", got, err)
	}
	for i := 0; i < 50; i++ {
		if got, err := r.Call(ctx, small, Input{}); err != nil || got != 40000.0 {
			t.Fatalf("small call %d after the churn = %v, %v", i, got, err)
		}
	}
}

// TestWorkerAfterAHeavyCall: a call that churned through far more memory
// than it kept (320 MB, 40 MB at a time) must not fail the next call of
// another applet that keeps 100 MB alive, well inside the limit. The Go
// runtime keeps the address space a heavy call mapped, and RLIMIT_AS
// counts it: the worker ran out of address space and died. A worker that
// mapped more than half its limit is retired after the call instead.
func TestWorkerAfterAHeavyCall(t *testing.T) {
	r := workerOnly()[0].new(t, Limits{Timeout: 10 * time.Second, MaxMemory: 256 << 20}) // the server's default memory
	defer r.Close()
	churn := mustCompile(t, "churn", `function main(ctx) {
	for (let round = 0; round < 8; round++) {
		const a = [];
		for (let i = 0; i < 40; i++) a.push(new Uint8Array(1 << 20));
	}
	return "ok";
}`)
	keep := mustCompile(t, "keep", `function main(ctx) {
	const a = [];
	for (let i = 0; i < 100; i++) a.push(new Uint8Array(1 << 20));
	return a.length;
}`)
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		if got, err := r.Call(ctx, churn, Input{}); err != nil || got != "ok" {
			t.Fatalf("round %d: churn = %v, %v", round, got, err)
		}
		if got, err := r.Call(ctx, keep, Input{}); err != nil || got != 100.0 {
			t.Fatalf("round %d: keeping 100 MB after the churn = %v, %v", round, got, err)
		}
	}
}
