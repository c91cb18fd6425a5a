package applet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// WorkerCommand is the hidden subcommand under which cmd/flowc runs
// ServeWorker; NewWorkerPool callers usually pass
// []string{flowcBinary, WorkerCommand} as argv.
const WorkerCommand = "__applet-worker"

// WorkerArgv returns the argv that re-executes the running binary as a
// worker: the binary must call ServeWorker when its first argument is
// WorkerCommand.
func WorkerArgv() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, WorkerCommand}, nil
}

// ServeWorker is the worker side of NewWorkerPool. It must run in a process
// of its own (cmd/flowc's hidden WorkerCommand subcommand), on the process's
// stdin and stdout: it sets process-wide limits on itself (RLIMIT_AS on
// Linux, the Go memory limit, the maximum goroutine stack, time.Local = UTC,
// regexp2's timeout) and nothing else in the process may write to stdout —
// if w is os.Stdout, os.Stdout is pointed at stderr.
//
// The limits in effect are those the parent sends in its init frame; l
// supplies any the parent leaves zero. ServeWorker returns nil when r
// reaches EOF (the parent closed the pipe or died).
func ServeWorker(r io.Reader, w io.Writer, l Limits) error {
	if f, ok := w.(*os.File); ok && f == os.Stdout {
		os.Stdout = os.Stderr
	}
	fr := &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
	bw := bufio.NewWriterSize(w, 64<<10)

	var init request
	if err := fr.next(&init); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("applet worker: reading init frame: %w", err)
	}
	if init.Op != "init" {
		return fmt.Errorf("applet worker: first frame is %q, not init", init.Op)
	}
	lim := mergeLimits(init.Limits, l).WithDefaults()
	if err := limitProcess(lim); err != nil {
		return fmt.Errorf("applet worker: %w", err)
	}
	setupRegexp(lim.RegexTimeout)

	ws := &workerServer{lim: lim, scripts: make(map[string]*Script)}
	ws.prepare()
	ws.warmUp()
	ws.mappedAtStart = mappedBytes()
	if err := writeFrame(bw, &response{Ready: true, PID: os.Getpid(), Version: protocolVersion}); err != nil {
		return err
	}
	// One call at a time, read and answered on this goroutine: no
	// goroutine hand-offs on the hot path.
	for {
		req := new(request)
		if err := fr.next(req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("applet worker: %w", err)
		}
		if err := writeFrame(bw, ws.handle(req)); err != nil {
			return err
		}
		// Replace a discarded runtime while idle rather than during the
		// next call.
		ws.prepare()
	}
}

func mergeLimits(w *wireLimits, l Limits) Limits {
	if w == nil {
		return l
	}
	p := Limits(*w)
	if p.Timeout == 0 {
		p.Timeout = l.Timeout
	}
	if p.MaxCallStack == 0 {
		p.MaxCallStack = l.MaxCallStack
	}
	if p.MaxMemory == 0 {
		p.MaxMemory = l.MaxMemory
	}
	if p.MaxResultBytes == 0 {
		p.MaxResultBytes = l.MaxResultBytes
	}
	if p.RegexTimeout == 0 {
		p.RegexTimeout = l.RegexTimeout
	}
	if p.MaxLogLines == 0 {
		p.MaxLogLines = l.MaxLogLines
	}
	return p
}

// limitProcess applies the worker's process-wide limits.
func limitProcess(lim Limits) error {
	time.Local = time.UTC
	// The Go stack of deeply recursive built-ins (JSON.parse of nested
	// arrays, ...) is bounded well below the default 1 GB.
	maxStack := lim.MaxMemory / 8
	if maxStack > 32<<20 {
		maxStack = 32 << 20
	}
	debug.SetMaxStack(int(maxStack))
	// Make the GC work hard long before the hard limit (RLIMIT_AS, below)
	// is reached: address space the heap once mapped stays mapped, and a
	// call allocating fast (a loop of 1 MB typed arrays) outruns a lazy
	// collector, so with GOGC=400 and the soft limit at 7/8 of MaxMemory a
	// call keeping 40 MB alive mapped its whole limit and was killed. The
	// watchdog still allows up to ¾ of MaxMemory of live data.
	debug.SetMemoryLimit(int64(lim.MaxMemory) / 2)
	debug.SetGCPercent(100)
	return limitAddressSpace(lim.MaxMemory)
}

// maxScripts bounds the worker's cache of compiled scripts.
const maxScripts = 512

type workerServer struct {
	lim     Limits
	scripts map[string]*Script
	sb      *sandbox

	mappedAtStart uint64 // what the Go runtime had mapped once ready
}

// mappedBytes is all the memory the Go runtime has mapped (heap, stacks,
// metadata). It never shrinks much: the runtime keeps address space it
// mapped once, and RLIMIT_AS counts it.
func mappedBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}

// spent reports whether this worker has mapped more than half of the room
// its address-space limit leaves (Limits.MaxMemory): after such a call
// the worker asks to be retired. The Go runtime keeps the address space a
// heavy call mapped, fragmented, so a later call of another applet, well
// within the limit itself, could find no room left and kill the worker
// (garbage of earlier calls must not fail later ones). A fresh process
// costs some 25 ms, paid only after calls that used that much memory.
func (ws *workerServer) spent() bool {
	return mappedBytes() > ws.mappedAtStart+ws.lim.MaxMemory/2
}

// prepare creates the worker's runtime if it has none; a failure is
// reported by the next call.
func (ws *workerServer) prepare() {
	if ws.sb == nil {
		ws.sb, _ = newSandbox(ws.lim, true)
	}
}

// warmUp runs a small applet once, so that the first real call does not
// pay for the process's cold start (page faults, lazily built intrinsics).
func (ws *workerServer) warmUp() {
	s, err := Compile("warmup", "warmup.js", []byte(warmUpSrc))
	if err != nil || ws.sb == nil {
		return
	}
	_, _, reusable := ws.sb.call(context.Background(), s, Input{
		Message: map[string]any{"body": "hello"}, Contact: map[string]any{"tags": []any{"a"}}, Args: []any{1.0},
	})
	if !reusable {
		ws.sb = nil
		ws.prepare()
	}
}

const warmUpSrc = `function main(ctx) {
	const words = ctx.message.body.split(/\s+/).map(w => w.toLowerCase());
	return { inbox: "team:" + words[0], tags: ctx.contact.tags.concat(["x"]), n: JSON.stringify(ctx).length, d: new Date().toISOString() };
}`

func (ws *workerServer) handle(req *request) *response {
	resp := &response{ID: req.ID}
	if req.Op == "ping" {
		return resp
	}
	fail := func(kind ErrorKind, format string, args ...any) *response {
		resp.Err = &wireError{Kind: kind.String(), Message: fmt.Sprintf(format, args...)}
		return resp
	}
	if req.Script == nil || req.Input == nil {
		return fail(Crash, "malformed call request")
	}
	s := ws.scripts[req.Script.Hash]
	if s == nil {
		if req.Script.Source == "" {
			resp.NeedSource = true
			return resp
		}
		var err error
		s, err = Compile(req.Script.Name, req.Script.Path, []byte(req.Script.Source))
		if err != nil {
			return fail(Crash, "worker could not compile the applet: %v", err)
		}
		if len(ws.scripts) >= maxScripts {
			for k := range ws.scripts { // evict an arbitrary entry
				delete(ws.scripts, k)
				break
			}
		}
		ws.scripts[s.hash] = s
	}
	if ws.sb == nil {
		sb, err := newSandbox(ws.lim, true)
		if err != nil {
			return fail(Crash, "%v", err)
		}
		ws.sb = sb
	}
	sb := ws.sb

	ctx := context.Background()
	if req.Log {
		ctx = WithLogger(ctx, func(level, msg string) {
			resp.Logs = append(resp.Logs, wireLog{Level: level, Msg: msg})
		})
	}
	in := Input{
		Message: req.Input.Message,
		Contact: req.Input.Contact,
		Vars:    req.Input.Vars,
		Args:    req.Input.Args,
		Now:     req.Input.Now,
		Seed:    req.Input.Seed,
	}

	wd := startWatchdog(sb, ws.lim.MaxMemory)
	res, err, reusable := sb.call(ctx, s, in)
	memHit := wd.stop()
	resp.Retire = ws.spent()

	if !reusable || memHit {
		ws.sb = nil
	}
	if memHit {
		runtime.GC()
		debug.FreeOSMemory()
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return fail(Crash, "%v", err)
		}
		resp.Err = &wireError{Kind: e.Kind.String(), Message: e.Message, Line: e.Line, Col: e.Col, Stack: e.Stack}
		return resp
	}
	resp.Result = res // plain data: always encodable
	return resp
}

// watchdog polls the heap while a call runs and interrupts the runtime
// when it grows past most of the memory limit, so that gradual growth ends
// in a clean Memory error rather than the process running out of memory.
//
// The heap it polls includes garbage not yet collected, which may be
// garbage of earlier calls (with GOGC=400 a worker collects rarely): when
// the heap passes the limit, the watchdog collects and measures again, and
// interrupts only if what is live is still past the limit. Only the
// current call can hold live memory beyond the runtime itself.
type watchdog struct {
	sb     *sandbox
	limit  uint64
	mu     sync.Mutex
	active bool
	hit    bool
	timer  *time.Timer
	sample []metrics.Sample
}

const watchdogPeriod = 2 * time.Millisecond

func startWatchdog(sb *sandbox, maxMemory uint64) *watchdog {
	wd := newWatchdog(sb, maxMemory*3/4)
	wd.mu.Lock()
	wd.timer = time.AfterFunc(watchdogPeriod, wd.check)
	wd.mu.Unlock()
	return wd
}

// newWatchdog returns an active watchdog interrupting sb past limit bytes
// of live heap; its timer is not started.
func newWatchdog(sb *sandbox, limit uint64) *watchdog {
	return &watchdog{sb: sb, limit: limit, active: true,
		sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (wd *watchdog) check() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if !wd.active {
		return
	}
	if wd.heap() > wd.limit {
		runtime.GC() // the call goes on meanwhile; it is interrupted below if need be
		if wd.heap() > wd.limit {
			wd.hit = true
			wd.sb.rt.Interrupt(reasonMemory)
			return
		}
	}
	wd.timer.Reset(watchdogPeriod)
}

// heap returns the bytes of heap objects, live or not yet swept.
func (wd *watchdog) heap() uint64 {
	metrics.Read(wd.sample)
	if v := wd.sample[0].Value; v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

// stop ends the watchdog and reports whether it interrupted the runtime.
func (wd *watchdog) stop() bool {
	wd.timer.Stop()
	wd.mu.Lock()
	defer wd.mu.Unlock()
	wd.active = false
	return wd.hit
}
