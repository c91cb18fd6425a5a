package applet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// startTimeout bounds a worker's start-up handshake.
const startTimeout = 15 * time.Second

// killGrace is how long past its own deadlines (Timeout, plus RegexTimeout
// for a regexp match in progress) a worker may take to answer before it is
// killed: room for a GC pause or a busy machine.
const killGrace = 200 * time.Millisecond

// NewWorkerPool returns a runner that runs every call in one of size worker
// processes (at least 1), each started as argv — the flowc binary with
// WorkerCommand, see WorkerArgv — and serving ServeWorker. A worker limits
// its own memory to l.MaxMemory and its calls to l.Timeout. The parent
// kills a worker that has not answered by Timeout + RegexTimeout + 200ms
// (a built-in that ignores interrupts) and replaces every worker that was
// killed or died; a dead worker's call fails with Kind Memory, Stack or
// Crash according to how it died, and the next call gets a fresh worker.
//
// A call whose context is canceled returns at once with Kind Canceled; its
// worker finishes the call (within the limits above) in the background
// before it serves another one.
//
// The pool starts its workers before returning, so a wrong argv fails here.
func NewWorkerPool(l Limits, size int, argv []string) (Runner, error) {
	if len(argv) == 0 {
		return nil, errors.New("applet: NewWorkerPool: empty argv")
	}
	l = l.WithDefaults()
	if size < 1 {
		size = 1
	}
	p := &workerPool{
		lim:      l,
		argv:     append([]string(nil), argv...),
		size:     size,
		slots:    make(chan *worker, size),
		done:     make(chan struct{}),
		killWait: l.Timeout + l.RegexTimeout + killGrace,
	}
	for i := 0; i < size; i++ {
		w, err := p.start()
		if err != nil {
			for j := 0; j < i; j++ {
				(<-p.slots).shutdown()
			}
			return nil, err
		}
		p.slots <- w
	}
	return p, nil
}

type workerPool struct {
	lim      Limits
	argv     []string
	size     int
	slots    chan *worker // nil: a slot whose worker is yet to be (re)started
	killWait time.Duration
	nextID   atomic.Uint64

	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

type worker struct {
	cmd    *exec.Cmd
	pid    int
	stdin  io.WriteCloser
	bw     *bufio.Writer
	stdout *os.File // read with deadlines by the calling goroutine
	fr     *frameReader
	exited chan struct{} // closed once the process has been waited for
	err    error         // cmd.Wait's result, valid after exited
	stderr *tailBuffer
	known  map[string]bool // script hashes whose source this worker has
}

func (p *workerPool) start() (*worker, error) {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.SysProcAttr = workerSysProcAttr()
	w := &worker{
		cmd:    cmd,
		exited: make(chan struct{}),
		stderr: &tailBuffer{max: 8 << 10},
		known:  make(map[string]bool),
	}
	cmd.Stderr = w.stderr
	// Our own pipes rather than StdoutPipe: reads must be able to time out
	// (an *os.File from os.Pipe supports deadlines), and cmd.Wait must not
	// close the read end under a reader.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = outW
	stdin, err := cmd.StdinPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	err = cmd.Start()
	outW.Close()
	if err != nil {
		outR.Close()
		return nil, fmt.Errorf("applet: starting worker %q: %w", p.argv[0], err)
	}
	w.pid = cmd.Process.Pid
	w.stdin = stdin
	w.bw = bufio.NewWriterSize(stdin, 64<<10)
	w.stdout = outR
	w.fr = &frameReader{r: bufio.NewReaderSize(outR, 64<<10), max: maxAnswerFrame(p.lim)}
	go func() {
		w.err = cmd.Wait()
		close(w.exited)
	}()

	if err := writeFrame(w.bw, &request{Op: "init", Limits: toWireLimits(p.lim)}); err != nil {
		w.kill()
		w.close()
		return nil, fmt.Errorf("applet: worker %q: %w: %s", p.argv[0], err, w.stderr.firstLines(3))
	}
	var r response
	_ = w.stdout.SetReadDeadline(time.Now().Add(startTimeout))
	if err := w.fr.next(&r); err != nil {
		w.kill()
		w.close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("applet: worker %q did not answer its handshake within %v", p.argv[0], startTimeout)
		}
		return nil, fmt.Errorf("applet: worker %q did not start: %v: %s", p.argv[0], w.err, w.stderr.firstLines(3))
	}
	if !r.Ready || r.Version != protocolVersion {
		w.kill()
		w.close()
		return nil, fmt.Errorf("applet: worker %q: unexpected handshake (protocol version %d, want %d)", p.argv[0], r.Version, protocolVersion)
	}
	return w, nil
}

func (w *worker) kill() {
	if w.cmd.Process != nil {
		_ = w.cmd.Process.Kill()
	}
}

// close releases the parent's ends of the pipes once the process is gone.
func (w *worker) close() {
	<-w.exited
	w.stdout.Close()
}

// shutdown asks the worker to exit (EOF on its stdin) and kills it if it
// has not within a second.
func (w *worker) shutdown() {
	_ = w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		w.kill()
	}
	w.close()
}

func (p *workerPool) acquire(ctx context.Context) (*worker, error) {
	var w *worker
	select {
	case w = <-p.slots:
	case <-p.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if w != nil {
		select {
		case <-w.exited: // died while idle
			go w.close()
			w = nil
		default:
		}
	}
	if w == nil {
		var err error
		if w, err = p.start(); err != nil {
			p.slots <- nil
			return nil, err
		}
	}
	return w, nil
}

func (p *workerPool) release(w *worker, healthy bool) {
	if healthy {
		p.slots <- w
		return
	}
	go func() {
		w.kill()
		w.close()
	}()
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		p.slots <- nil
		return
	}
	// Replace the worker in the background, so that the next call does not
	// wait for a process start unless it comes right away.
	go func() {
		nw, err := p.start()
		if err != nil {
			nw = nil // acquire retries
		}
		p.slots <- nw
	}()
}

func (p *workerPool) Call(ctx context.Context, s *Script, in Input) (any, error) {
	if err := checkInput(in); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Canceled, Message: "call canceled before it started: " + err.Error(), cause: err}
	}
	w, err := p.acquire(ctx)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Canceled, Message: "canceled while waiting for a free worker: " + ctx.Err().Error(), cause: ctx.Err()}
		}
		return nil, (&Error{Applet: s.Name, Path: s.Path, Kind: Crash, Message: err.Error()}).bound()
	}
	res, err := p.call(ctx, w, s, in)
	if e, ok := err.(*Error); ok {
		e.bound() // also the parent's own messages, which quote the worker's stderr
	}
	return res, err
}

// call sends one call to w and waits for the answer, then releases w.
func (p *workerPool) call(ctx context.Context, w *worker, s *Script, in Input) (any, error) {
	id := p.nextID.Add(1)
	req := &request{
		Op: "call",
		ID: id,
		Script: &wireScript{
			Name: s.Name,
			Path: s.Path,
			Hash: s.hash,
		},
		Input: &wireInput{
			Message: in.Message,
			Contact: in.Contact,
			Vars:    in.Vars,
			Args:    in.Args,
			Now:     in.Now,
			Seed:    in.Seed,
		},
	}
	logf := loggerFrom(ctx)
	req.Log = logf != nil
	if !w.known[s.hash] {
		req.Script.Source = string(s.Source)
	}
	if err := writeFrame(w.bw, req); err != nil {
		err := p.deadWorker(w, s, fmt.Sprintf("writing to worker: %v", err))
		p.release(w, false)
		return nil, err
	}
	deadline := time.Now().Add(p.killWait)
	_ = w.stdout.SetReadDeadline(deadline)
	var canceled atomic.Bool
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			canceled.Store(true)
			_ = w.stdout.SetReadDeadline(time.Now())
		})
		defer stop()
	}
	for {
		var r response
		err := w.fr.next(&r)
		if errors.Is(err, os.ErrDeadlineExceeded) && canceled.Load() && time.Now().Before(deadline) {
			// The caller gave up: answer now, and let the worker finish
			// its call (bounded by the deadline) in the background.
			_ = w.stdout.SetReadDeadline(deadline)
			go p.drain(w, id)
			e := &Error{Applet: s.Name, Path: s.Path, Kind: Canceled, Message: "call canceled: " + ctx.Err().Error(), cause: ctx.Err()}
			return nil, e
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.release(w, false)
			return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Timeout,
				Message: fmt.Sprintf("exceeded the time limit of %v; the worker did not stop within %v (a built-in function ignored the interrupt) and was killed", p.lim.Timeout, p.killWait)}
		}
		if errors.Is(err, errFrameTooLarge) {
			p.release(w, false)
			return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Crash,
				Message: fmt.Sprintf("the worker process sent an answer larger than any call can produce (%v); it was replaced", err)}
		}
		if err != nil {
			e := p.deadWorker(w, s, "")
			p.release(w, false)
			return nil, e
		}
		if r.ID != id {
			continue // a late answer to a call that was given up on
		}
		if r.NeedSource {
			req.Script.Source = string(s.Source)
			if err := writeFrame(w.bw, req); err != nil {
				e := p.deadWorker(w, s, fmt.Sprintf("writing to worker: %v", err))
				p.release(w, false)
				return nil, e
			}
			continue
		}
		if req.Script.Source != "" {
			w.known[s.hash] = true
		}
		p.release(w, !r.Retire) // a retiring worker is replaced in the background
		if logf != nil {
			// The worker bounds its console lines; the parent does too.
			for i, l := range r.Logs {
				if i > p.lim.MaxLogLines {
					break
				}
				logf(logLevel(l.Level), truncate(l.Msg, maxLogLine))
			}
		}
		if r.Err != nil {
			e := &Error{Applet: s.Name, Path: s.Path, Kind: kindFromString(r.Err.Kind),
				Message: r.Err.Message, Line: r.Err.Line, Col: r.Err.Col, Stack: r.Err.Stack}
			return nil, e.bound()
		}
		return r.Result, nil
	}
}

// drain waits for the answer to call id that its caller gave up on, then
// returns the worker to the pool (or kills it at the deadline).
func (p *workerPool) drain(w *worker, id uint64) {
	for {
		var r response
		if err := w.fr.next(&r); err != nil {
			p.release(w, false)
			return
		}
		if r.ID == id && !r.NeedSource {
			p.release(w, true)
			return
		}
		if r.NeedSource {
			// Nobody needs the answer any more: have the worker finish
			// with an empty call instead.
			if err := writeFrame(w.bw, &request{Op: "ping", ID: id}); err != nil {
				p.release(w, false)
				return
			}
		}
	}
}

// deadWorker waits for a worker that stopped answering to exit and
// classifies its death.
func (p *workerPool) deadWorker(w *worker, s *Script, why string) *Error {
	select {
	case <-w.exited:
	case <-time.After(2 * time.Second):
		w.kill()
		<-w.exited
	}
	out := &Error{Applet: s.Name, Path: s.Path, Kind: Crash}
	tail := w.stderr.String()
	status := "exited"
	var ee *exec.ExitError
	if errors.As(w.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			status = "killed by " + ws.Signal().String()
			if ws.Signal() == syscall.SIGKILL {
				// Not killed by us (we only kill workers we gave up on):
				// most likely the kernel's OOM killer.
				out.Kind = Memory
			}
		} else {
			status = fmt.Sprintf("exited with status %d", ee.ExitCode())
		}
	} else if w.err == nil {
		status = "exited"
	}
	switch {
	case strings.Contains(tail, "out of memory") || strings.Contains(tail, "cannot allocate memory"):
		out.Kind = Memory
		out.Message = fmt.Sprintf("exceeded the memory limit of %s (the worker process ran out of memory and was replaced)", formatBytes(p.lim.MaxMemory))
		return out
	case strings.Contains(tail, "stack overflow") || strings.Contains(tail, "stack exceeds"):
		out.Kind = Stack
		out.Message = "a built-in function recursed too deeply (the worker process overflowed its stack and was replaced)"
		return out
	}
	if out.Kind == Memory {
		out.Message = fmt.Sprintf("the worker process was %s, probably for exceeding memory (limit %s), and was replaced", status, formatBytes(p.lim.MaxMemory))
		return out
	}
	msg := "the worker process " + status
	if why != "" {
		msg += " (" + why + ")"
	}
	if last := w.stderr.firstLines(2); last != "" {
		msg += ": " + last
	}
	out.Message = msg + "; it was replaced"
	return out
}

// Close stops the workers. It waits for calls in progress to finish.
func (p *workerPool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < p.size; i++ {
		w := <-p.slots
		if w != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.shutdown()
			}()
		}
	}
	wg.Wait()
	return nil
}

// tailBuffer keeps the first and the last max/2 bytes written to it: a Go
// fatal error prints its reason first and then goroutine traces.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	head    []byte
	tail    []byte
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if room := t.max/2 - len(t.head); room > 0 {
		if room > len(p) {
			room = len(p)
		}
		t.head = append(t.head, p[:room]...)
		p = p[room:]
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > t.max/2 {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-t.max/2:]...)
		t.dropped = true
	}
	return n, nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	sep := ""
	if t.dropped {
		sep = "\n...\n"
	}
	return string(t.head) + sep + string(t.tail)
}

// firstLines returns up to n first non-empty lines of what the worker wrote
// (a Go crash starts with its reason), joined by " | ".
func (t *tailBuffer) firstLines(n int) string {
	lines := strings.Split(strings.TrimSpace(t.String()), "\n")
	var out []string
	for _, l := range lines {
		if len(out) == n {
			break
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " | ")
}
