//go:build !linux

package applet

import "syscall"

// limitAddressSpace is a no-op outside Linux: workers rely on the heap
// watchdog and the Go memory limit alone.
func limitAddressSpace(maxMemory uint64) error { return nil }

func workerSysProcAttr() *syscall.SysProcAttr { return nil }
