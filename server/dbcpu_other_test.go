//go:build !linux

package server_test

import "time"

// databaseCPU is 0 where /proc cannot be read (see dbcpu_linux_test.go).
func databaseCPU() time.Duration { return 0 }
