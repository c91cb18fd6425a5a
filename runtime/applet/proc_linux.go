package applet

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// limitAddressSpace sets RLIMIT_AS to the address space the process has
// mapped now plus twice maxMemory, so that an allocation past the limit fails
// (and the Go runtime dies with "out of memory") instead of growing the
// worker without bound. The Go runtime reserves address space up front, so
// an absolute limit of maxMemory would not even let it start.
//
// The race detector maps terabytes of shadow memory, so race-enabled
// builds skip RLIMIT_AS and rely on the heap watchdog alone.
func limitAddressSpace(maxMemory uint64) error {
	if raceEnabled {
		return nil
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return fmt.Errorf("reading /proc/self/statm: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return fmt.Errorf("malformed /proc/self/statm")
	}
	pages, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return fmt.Errorf("malformed /proc/self/statm: %w", err)
	}
	limit := pages*uint64(os.Getpagesize()) + 2*maxMemory + addressSpaceSlack
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit})
}

// addressSpaceSlack covers what the runtime maps besides the heap (GC
// metadata, goroutine stacks, arena rounding).
//
// Why twice maxMemory: RLIMIT_AS is the backstop for built-ins that
// allocate without returning to the interpreter (the watchdog, at ¾ of
// maxMemory of live heap, is the limit ordinary code meets). Address space
// the Go heap once mapped stays mapped, and on a loaded machine the
// concurrent collector falls behind a call allocating fast: a call keeping
// 40 MB alive while churning through 320 MB mapped more than maxMemory and
// was killed (TestWorkerAfterAHeavyCall under load).
const addressSpaceSlack = 64 << 20

// workerSysProcAttr puts a worker in its own process group (a terminal's
// Ctrl-C goes to the server, which then closes its workers) and kills it
// if the parent dies.
func workerSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
