package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

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
		return r.Call(ctx, sc, applet.Input{Message: in.Message, Contact: in.Contact, Vars: in.Vars, Args: in.Args, Now: in.Now, Seed: in.Seed})
	}
}

// inProcessApplets runs JavaScript applets in this process, for run and
// test (offline: the in-process runner bounds time, not memory).
func inProcessApplets() sim.AppletFunc {
	return appletFunc(applet.NewPool(applet.Limits{}, 2))
}

// serverApplets runs applets for the server in a pool of worker
// processes, each with a memory limit, replaced when it dies or overruns.
func serverApplets() (func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error), error) {
	argv, err := applet.WorkerArgv()
	if err != nil {
		return nil, err
	}
	pool, err := applet.NewWorkerPool(applet.Limits{}, max(2, runtime.NumCPU()), argv)
	if err != nil {
		return nil, err
	}
	return appletFunc(pool), nil
}
