package sqlstore

import (
	"testing"
	"time"
)

// TestNumbered: ? placeholders become $1, $2, … in order, except inside
// quoted strings and identifiers.
func TestNumbered(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`:                `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`,
		`SELECT '?' || x, "we?ird" FROM t WHERE y = ?`:               `SELECT '?' || x, "we?ird" FROM t WHERE y = $1`,
		`SELECT 'it''s ?' FROM t WHERE a = ? ORDER BY b COLLATE "C"`: `SELECT 'it''s ?' FROM t WHERE a = $1 ORDER BY b COLLATE "C"`,
		`SELECT 1`: `SELECT 1`,
	} {
		if got := numbered(in); got != want {
			t.Errorf("numbered(%s)\n = %s\nwant %s", in, got, want)
		}
	}
}

// TestTimeCol: a time column scans from either database's value, in UTC;
// NULL is the zero time, and another type is an error.
func TestTimeCol(t *testing.T) {
	want := time.Date(2026, 3, 14, 15, 9, 26, 535897123, time.UTC)
	zone := time.FixedZone("UTC+2", 2*3600)
	for _, v := range []any{want.UnixNano(), want.In(zone)} {
		var got time.Time
		if err := scanTime(&got).Scan(v); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Scan(%T %v) = %v, %v; want %v in UTC", v, v, got, err, want)
		}
	}
	got := want
	if err := scanTime(&got).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v; want the zero time", got, err)
	}
	if err := scanTime(&got).Scan("2026-03-14"); err == nil {
		t.Error("Scan of a string: no error")
	}
}

// TestJSONStrings: SQLite's lists scan from text or bytes; NULL is nil;
// bad JSON is an error that shows it.
func TestJSONStrings(t *testing.T) {
	var a []string
	if err := (JSONStrings{&a}).Scan(`["x","y"]`); err != nil || len(a) != 2 || a[1] != "y" {
		t.Errorf("text: %q, %v", a, err)
	}
	if err := (JSONStrings{&a}).Scan([]byte(`[]`)); err != nil || a == nil || len(a) != 0 {
		t.Errorf("bytes []: %q (nil %v), %v", a, a == nil, err)
	}
	if err := (JSONStrings{&a}).Scan(nil); err != nil || a != nil {
		t.Errorf("NULL: %q, %v", a, err)
	}
	if err := (JSONStrings{&a}).Scan(`[1`); err == nil {
		t.Error("bad JSON: no error")
	}
}

// TestLockKey: parts are kept apart, so moving a character from one part
// to the next changes the key.
func TestLockKey(t *testing.T) {
	if LockKey("a", "bc") == LockKey("ab", "c") {
		t.Error(`LockKey("a", "bc") == LockKey("ab", "c")`)
	}
	if ConversationKey("+1555", "+1999") == ConversationKey("+1999", "+1555") {
		t.Error("ConversationKey ignores the order of contact and number")
	}
}

// TestLockKeysUnchanged: the advisory lock keys are those the PostgreSQL
// store took before this package existed, so that during a rolling
// upgrade old and new replicas exclude each other.
func TestLockKeysUnchanged(t *testing.T) {
	if got := ConversationKey("+15557654321", "+15550100"); got != -1138729949394102138 {
		t.Errorf("conversation key %d, want -1138729949394102138", got)
	}
	if deploymentsKey != -9013331887289919602 {
		t.Errorf("deployments key %d, want -9013331887289919602", deploymentsKey)
	}
}
