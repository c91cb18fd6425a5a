package applet

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// benchSrc is a typical routing applet.
const benchSrc = `function main(ctx) {
	const body = ctx.message.body.trim().toLowerCase();
	if (ctx.contact.tags.includes("vip")) {
		return { inbox: "team:vip", reply: "Hi " + ctx.contact.name + ", a VIP agent will reply shortly." };
	}
	if (/^(stop|unsubscribe)\b/.test(body)) {
		return { inbox: "system:optout" };
	}
	return { inbox: "team:" + (ctx.vars.team || "sales"), reply: "Thanks, " + ctx.contact.name + "!", priority: ctx.args[0] };
}`

// benchLimits has a generous time limit: the benchmarks measure speed, and
// a wall-clock limit of 50ms can be hit by an ordinary call when the
// machine is overloaded (the process is not scheduled for 50ms).
var benchLimits = Limits{Timeout: time.Second}

var benchInput = Input{
	Message: map[string]any{"body": "  Hello, I need help with my order  ", "from": "+15550001111", "to": "+15550002222", "media": []any{}, "keyword": "hello"},
	Contact: map[string]any{"known": true, "name": "Ann", "owner": "bob", "tags": []any{"customer", "eu"}},
	Vars:    map[string]any{"team": "support", "attempt": 1.0, "lang": "en"},
	Args:    []any{2.0, "x"},
	Now:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	Seed:    42,
}

func benchCall(b *testing.B, r Runner) {
	s := mustCompile(b, "bench", benchSrc)
	ctx := context.Background()
	if _, err := r.Call(ctx, s, benchInput); err != nil { // warm up
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := r.Call(ctx, s, benchInput); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkCallFresh(b *testing.B) {
	r := NewFresh(benchLimits)
	defer r.Close()
	benchCall(b, r)
}

func BenchmarkCallPool(b *testing.B) {
	r := NewPool(benchLimits, 1)
	defer r.Close()
	benchCall(b, r)
}

func BenchmarkCallWorker(b *testing.B) {
	r, err := NewWorkerPool(benchLimits, 1, []string{os.Args[0], WorkerCommand})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	benchCall(b, r)
}

// BenchmarkNewRuntime measures creating a runtime: unlocked (what NewFresh
// pays per call) and locked (what NewPool pays when it replaces one).
func BenchmarkNewRuntime(b *testing.B) {
	for _, lock := range []bool{false, true} {
		name := "unlocked"
		if lock {
			name = "locked"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := newSandbox(benchLimits.WithDefaults(), lock); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWorkerPing measures the bare round trip to a worker process,
// the floor under BenchmarkCallWorker.
func BenchmarkWorkerPing(b *testing.B) {
	r, err := NewWorkerPool(benchLimits, 1, []string{os.Args[0], WorkerCommand})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	p := r.(*workerPool)
	w, err := p.acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer p.release(w, true)
	_ = w.stdout.SetReadDeadline(time.Time{})
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := writeFrame(w.bw, &request{Op: "ping", ID: uint64(i + 1)}); err != nil {
			b.Fatal(err)
		}
		var r response
		if err := w.fr.next(&r); err != nil || r.ID != uint64(i+1) {
			b.Fatal("bad ping answer", err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
}

// BenchmarkWorkerStart measures starting a one-worker pool (process start,
// limits, frozen runtime, warm-up) and closing it: what `flowc run` and
// `flowc test` pay once, on their first applet call.
func BenchmarkWorkerStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := NewWorkerPool(benchLimits, 1, []string{os.Args[0], WorkerCommand})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
