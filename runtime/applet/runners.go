package applet

import (
	"context"
	"sync"
	"sync/atomic"
)

// NewFresh returns a runner that creates a new goja runtime for every call
// and throws it away afterwards. Isolation between calls is trivial; each
// call pays for a new runtime. In-process: no memory limit (see the package
// documentation).
func NewFresh(l Limits) Runner {
	l = l.WithDefaults()
	setupRegexp(l.RegexTimeout)
	return &freshRunner{lim: l}
}

type freshRunner struct {
	lim    Limits
	closed atomic.Bool
}

func (f *freshRunner) Call(ctx context.Context, s *Script, in Input) (any, error) {
	if f.closed.Load() {
		return nil, ErrClosed
	}
	sb, err := newSandbox(f.lim, false)
	if err != nil {
		return nil, err
	}
	res, err, _ := sb.call(ctx, s, in)
	return res, err
}

func (f *freshRunner) Close() error {
	f.closed.Store(true)
	return nil
}

// NewPool returns a runner with up to size in-process runtimes (at least 1)
// used by one call at a time. Each runtime is locked at creation: built-in
// objects, their prototypes, hidden intrinsics and the global object are
// deep-frozen, eval and the Function constructors are disabled, and the
// applet's top-level code runs in a fresh function scope on every call, so
// no call can leave state behind for the next one. A runtime is discarded
// (and replaced in the background) after any failed call, after a call
// whose timer fired, and after maxUses calls.
//
// In-process: no memory limit (see the package documentation).
func NewPool(l Limits, size int) Runner {
	l = l.WithDefaults()
	setupRegexp(l.RegexTimeout)
	if size < 1 {
		size = 1
	}
	p := &poolRunner{lim: l, slots: make(chan *sandbox, size), done: make(chan struct{})}
	for i := 0; i < size; i++ {
		p.slots <- nil // created on first use
	}
	return p
}

type poolRunner struct {
	lim   Limits
	slots chan *sandbox // nil: a slot whose runtime is yet to be created

	mu     sync.Mutex
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
}

func (p *poolRunner) Call(ctx context.Context, s *Script, in Input) (any, error) {
	var sb *sandbox
	select {
	case sb = <-p.slots:
	case <-p.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, &Error{Applet: s.Name, Path: s.Path, Kind: Canceled, Message: "canceled while waiting for a free runtime: " + ctx.Err().Error(), cause: ctx.Err()}
	}
	if sb == nil {
		var err error
		if sb, err = newSandbox(p.lim, true); err != nil {
			p.slots <- nil
			return nil, err
		}
	}
	res, err, reusable := sb.call(ctx, s, in)
	if reusable {
		p.slots <- sb
	} else {
		p.replace()
	}
	return res, err
}

// replace creates a runtime in the background to fill a slot.
func (p *poolRunner) replace() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		p.slots <- nil
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		sb, err := newSandbox(p.lim, true)
		if err != nil {
			sb = nil
		}
		p.slots <- sb
	}()
}

func (p *poolRunner) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}
