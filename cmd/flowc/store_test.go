package main

import (
	"strings"
	"testing"
)

// TestDBMaxConnsSetting: FLOWC_DB_MAX_CONNS is a whole number from 1 to
// maxDBConns, unset is 0 (the store's default), and a bad value is an
// error naming the variable.
func TestDBMaxConnsSetting(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1": 1, "16": 16, "1000": 1000} {
		if got, err := parseDBMaxConns(v); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"0", "-3", "1001", "16x", "many"} {
		if _, err := parseDBMaxConns(v); err == nil || !strings.Contains(err.Error(), "FLOWC_DB_MAX_CONNS") {
			t.Errorf("%q: %v, want an error naming FLOWC_DB_MAX_CONNS", v, err)
		}
	}
}
