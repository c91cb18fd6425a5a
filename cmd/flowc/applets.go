package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowc-dev/flowc/runtime/applet"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

func init() {
	// The hidden worker mode: the server re-executes this binary as
	// `flowc __applet-worker` to run JavaScript applets in a process with
	// a memory limit. Nothing else may write to stdout here.
	register(command{name: applet.WorkerCommand, run: func(_ []string, _ io.Reader, _, stderr io.Writer) int {
		if err := applet.ServeWorker(os.Stdin, os.Stdout, applet.Limits{}); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		return exitOK
	}})
}

// scripts compiles each applet source once.
type scripts struct {
	mu sync.Mutex
	m  map[string]*applet.Script // by name + source hash
}

func (s *scripts) get(a *vm.Applet) (*applet.Script, error) {
	key := a.Name + "\x00" + string(a.Source)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.m[key]; ok {
		return sc, nil
	}
	sc, err := applet.Compile(a.Name, a.Path, a.Source)
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = map[string]*applet.Script{}
	}
	s.m[key] = sc
	return sc, nil
}

func appletFunc(r applet.Runner) func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	cache := &scripts{}
	return func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
		sc, err := cache.get(a)
		if err != nil {
			return nil, err
		}
		if in.Log != nil { // the VM collects console output (run, test)
			ctx = applet.WithLogger(ctx, in.Log)
		}
		return r.Call(ctx, sc, applet.Input{Message: in.Message, Contact: in.Contact, Vars: in.Vars, Args: in.Args, Now: in.Now, Seed: in.Seed})
	}
}

// offlineApplets runs applets for run and test exactly as the server
// does, in memory-limited worker processes with the server's limits: a
// flow under test may come from anyone (a CI running `flowc test` on a
// pull request), and an applet that allocates gigabytes or overflows the
// Go stack inside a built-in must fail its call, not take the command
// down. The workers start on the first applet call, so flows without
// applets pay nothing; stop stops them.
func offlineApplets() (run sim.AppletFunc, stop func(), err error) {
	lim, err := appletLimits(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	lp := &lazyPool{size: 1, lim: lim} // run and test call applets one at a time
	return appletFunc(lp), lp.close, nil
}

// appletLimits reads the operator's applet limits from the environment;
// unset variables keep runtime/applet's defaults (50ms, 256MiB).
//
//	FLOWC_APPLET_TIMEOUT     time limit of a call, a Go duration ("200ms")
//	FLOWC_APPLET_MAX_MEMORY  memory of a worker process: bytes, or with a
//	                         KiB, MiB or GiB suffix ("512MiB")
func appletLimits(getenv func(string) string) (applet.Limits, error) {
	var lim applet.Limits
	if v := getenv("FLOWC_APPLET_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Minute {
			return lim, fmt.Errorf("FLOWC_APPLET_TIMEOUT=%q: want a duration between 1ms and 1m, such as 200ms", v)
		}
		lim.Timeout = d
	}
	if v := getenv("FLOWC_APPLET_MAX_MEMORY"); v != "" {
		n, err := parseBytes(v)
		if err != nil || n < 32<<20 {
			return lim, fmt.Errorf("FLOWC_APPLET_MAX_MEMORY=%q: want at least 32MiB, as bytes or with a KiB, MiB or GiB suffix", v)
		}
		lim.MaxMemory = n
	}
	return lim, nil
}

// eventBudget reads FLOWC_EVENT_BUDGET: how long all the applet calls of
// one message may take together (vm.Options.EventBudget). serve, run and
// test read it alike, so a flow that passes `flowc test` under a budget
// behaves the same in the server. Zero: vm.DefaultEventBudget. At most
// 14s: Twilio waits 15 s for the webhook's answer.
func eventBudget(getenv func(string) string) (time.Duration, error) {
	v := getenv("FLOWC_EVENT_BUDGET")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond || d > 14*time.Second {
		return 0, fmt.Errorf("FLOWC_EVENT_BUDGET=%q: want a duration between 1ms and 14s, such as 2s", v)
	}
	return d, nil
}

func parseBytes(s string) (uint64, error) {
	mult := uint64(1)
	for suffix, m := range map[string]uint64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > math.MaxUint64/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// serverApplets runs applets for the server in a pool of worker
// processes, each with a memory limit, replaced when it dies or overruns.
func serverApplets() (func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error), error) {
	lim, err := appletLimits(os.Getenv)
	if err != nil {
		return nil, err
	}
	pool, err := newWorkerPool(lim, max(2, runtime.NumCPU()))
	if err != nil {
		return nil, err
	}
	return appletFunc(pool), nil
}

// newWorkerPool starts size workers: this binary re-executed as
// `flowc __applet-worker`, which take their limits from the pool.
func newWorkerPool(lim applet.Limits, size int) (applet.Runner, error) {
	argv, err := applet.WorkerArgv()
	if err != nil {
		return nil, err
	}
	return applet.NewWorkerPool(lim, size, argv)
}

// lazyPool is a worker pool started on its first call.
type lazyPool struct {
	size int
	lim  applet.Limits
	once sync.Once
	pool applet.Runner
	err  error
}

func (l *lazyPool) Call(ctx context.Context, s *applet.Script, in applet.Input) (any, error) {
	l.once.Do(func() {
		if l.pool, l.err = newWorkerPool(l.lim, l.size); l.err != nil {
			l.err = fmt.Errorf("starting the applet worker: %w", l.err)
		}
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.pool.Call(ctx, s, in)
}

func (l *lazyPool) Close() error {
	l.once.Do(func() { l.err = applet.ErrClosed })
	if l.pool != nil {
		return l.pool.Close()
	}
	return nil
}

func (l *lazyPool) close() { _ = l.Close() }
