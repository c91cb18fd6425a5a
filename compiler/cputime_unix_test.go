//go:build unix

package compiler_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system, all
// threads: the garbage collector's workers included). On a shared
// machine wall-clock ns/op also counts the time other processes held
// the cores; CPU time per operation does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
