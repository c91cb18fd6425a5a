package vm

import (
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"
)

// Limits on what one event may produce or consume. They are fixed for
// replies and values (they protect the contact and the conversation
// store); the per-event applet budget is a default of Options.
const (
	// MaxReplyChars caps a reply, menu prompt or ask prompt, in
	// characters (runes). Ten SMS segments; Twilio refuses longer
	// bodies. A longer rendered reply is not sent: the step fails with a
	// runtime error. A literal one is a compile error.
	MaxReplyChars = 1600
	// MaxValueBytes caps a flow variable's value (set, ask, run … as),
	// measured as its JSON encoding.
	MaxValueBytes = 64 << 10
	// MaxStringBytes caps any one string in a flow variable's value.
	MaxStringBytes = 16 << 10
	// DefaultEventBudget is how long the applet calls of one event may
	// take in all (Options.EventBudget). Twilio waits 15 s for the webhook.
	DefaultEventBudget = 2 * time.Second
	// DefaultMaxAppletCalls caps the applet calls of one event
	// (Options.MaxAppletCalls).
	DefaultMaxAppletCalls = 100
)

// ReplyTooLong reports a reply text over MaxReplyChars.
func ReplyTooLong(text string) error {
	if len(text) <= MaxReplyChars { // bytes ≥ runes: the common case costs nothing
		return nil
	}
	if n := utf8.RuneCountInString(text); n > MaxReplyChars {
		return fmt.Errorf("reply of %d characters is over the limit of %d", n, MaxReplyChars)
	}
	return nil
}

// CheckValue reports a value too large to keep in a flow variable: a
// string over MaxStringBytes anywhere in it, or more than MaxValueBytes
// in all (an estimate of its JSON encoding that never undercounts by
// more than escapes).
func CheckValue(v any) error {
	n, err := valueSize(v, 0)
	if err != nil {
		return err
	}
	if n > MaxValueBytes {
		return fmt.Errorf("value of %d bytes is over the limit of %d", n, MaxValueBytes)
	}
	return nil
}

// valueSize adds v's size to n, stopping early once over MaxValueBytes.
func valueSize(v any, n int) (int, error) {
	if n > MaxValueBytes {
		return n, nil
	}
	switch v := v.(type) {
	case nil:
		return n + 4, nil
	case bool:
		return n + 5, nil
	case string:
		if len(v) > MaxStringBytes {
			return n, fmt.Errorf("string of %d bytes is over the limit of %d", len(v), MaxStringBytes)
		}
		return n + len(v) + 2, nil
	case int, int32, int64, float32, float64, uint, uint32, uint64:
		return n + 24, nil
	case []string:
		n += 2
		for _, s := range v {
			var err error
			if n, err = valueSize(s, n+1); err != nil {
				return n, err
			}
		}
		return n, nil
	case []any:
		n += 2
		for _, e := range v {
			var err error
			if n, err = valueSize(e, n+1); err != nil {
				return n, err
			}
		}
		return n, nil
	case map[string]any:
		n += 2
		for k, e := range v {
			var err error
			if n, err = valueSize(k, n+2); err != nil {
				return n, err
			}
			if n, err = valueSize(e, n); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	// Other collections (expr's ranges are []int, a map may be typed):
	// walk them rather than print them, so measuring costs no more than
	// the limit.
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Slice, reflect.Array:
		n += 2
		for i := 0; i < rv.Len() && n <= MaxValueBytes; i++ {
			var err error
			if n, err = valueSize(rv.Index(i).Interface(), n+1); err != nil {
				return n, err
			}
		}
		return n, nil
	case reflect.Map:
		n += 2
		for it := rv.MapRange(); it.Next() && n <= MaxValueBytes; {
			var err error
			if n, err = valueSize(it.Key().Interface(), n+2); err != nil {
				return n, err
			}
			if n, err = valueSize(it.Value().Interface(), n); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	s := fmt.Sprint(v)
	if len(s) > MaxStringBytes {
		return n, fmt.Errorf("value of %d bytes is over the limit of %d", len(s), MaxStringBytes)
	}
	return n + len(s) + 2, nil
}
