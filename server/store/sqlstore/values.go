package sqlstore

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// timeCol scans a time column of either database: NULL is the zero time,
// an INTEGER is unix nanoseconds (SQLite), a timestamp is itself
// (PostgreSQL); times come back in UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, x).UTC()
	case time.Time:
		*c.t = x.UTC()
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	return nil
}

func scanTime(t *time.Time) timeCol { return timeCol{t} }

// JSONStrings scans a JSON array of strings (SQLite's lists).
type JSONStrings struct{ Dst *[]string }

func (s JSONStrings) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		*s.Dst = nil
		return nil
	default:
		return fmt.Errorf("string list column holds %T", v)
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("bad JSON array %q: %w", b, err)
	}
	*s.Dst = a
	return nil
}

// blob returns b, nil when empty.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nonNil(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

// LockKey is the advisory lock key of parts: a 64-bit FNV-1a hash of
// them, each followed by a NUL (no part can contain one: PostgreSQL text
// cannot), so ("a", "bc") and ("ab", "c") differ.
func LockKey(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

// ConversationKey is the advisory lock key of a conversation.
func ConversationKey(contact, number string) int64 {
	return LockKey("flowc conversation", contact, number)
}

// deploymentsKey is the advisory lock key Activate, AssignNumber and
// UnassignNumber take.
var deploymentsKey = LockKey("flowc deployments")

// list is "(?, ?, …)" with n placeholders (n > 0).
func list(n int) string {
	return "(?" + strings.Repeat(", ?", n-1) + ")"
}

// numbered rewrites ? placeholders as $1, $2, … (PostgreSQL), leaving
// quoted strings and identifiers alone.
func numbered(q string) string {
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
