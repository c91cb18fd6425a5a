//go:build linux && (amd64 || arm64)

package server_test

import (
	"os"
	"syscall"
	"testing"
)

// evictFile drops the database file (and its WAL, if any) from the OS
// page cache, so that the next read of it comes from the disk:
// posix_fadvise(POSIX_FADV_DONTNEED) on the whole file, which drops the
// clean pages of this file only (no other process's cache, no root).
func evictFile(b *testing.B, path string) {
	for _, p := range []string{path, path + "-wal"} {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		const dontNeed = 4 // POSIX_FADV_DONTNEED
		_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, dontNeed, 0, 0)
		f.Close()
		if errno != 0 {
			b.Fatalf("fadvise %s: %v", p, errno)
		}
	}
}
