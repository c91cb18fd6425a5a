package server

import (
	"crypto/subtle"
	"encoding/json"
)

func subtleEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
