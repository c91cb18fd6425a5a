package main

import (
	"strings"
	"testing"
)

// TestAdminReadsSetting: FLOWC_ADMIN_READS is a whole number from 1 to
// server.MaxAdminReads, unset is 0 (the server's default), and a bad
// value is an error naming the variable.
func TestAdminReadsSetting(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1": 1, "4": 4, "64": 64} {
		if got, err := parseAdminReads(v); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "65", "2x", "all"} {
		if _, err := parseAdminReads(v); err == nil || !strings.Contains(err.Error(), "FLOWC_ADMIN_READS") {
			t.Errorf("%q: %v, want an error naming FLOWC_ADMIN_READS", v, err)
		}
	}
}
