//go:build !(linux && (amd64 || arm64))

package server_test

import "testing"

// evictFile cannot drop a file from the OS page cache here: the "cold"
// SQLite reads then start from a new connection with the file cached.
func evictFile(b *testing.B, path string) {}
