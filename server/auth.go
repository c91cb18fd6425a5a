package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// tokenMatches reports whether an Authorization header carries
// token with the Bearer scheme. It is the one token check of the server:
// the admin API and POST /v1/messages both call it.
//
// The scheme is case-insensitive (RFC 7235 §2.1; RFC 6750 writes it
// "Bearer" but clients send "bearer"), followed by one or more spaces.
// The comparison is of SHA-256 digests in constant time, so neither the
// token's bytes nor its length show in the timing (comparing the raw
// strings returns early when the lengths differ).
func tokenMatches(header, token string) bool {
	if token == "" {
		return false
	}
	return bearerDigestMatches(header, sha256.Sum256([]byte(token)))
}

// bearerDigestMatches is tokenMatches against the SHA-256 of the token
// (what the store keeps of a generated admin token).
func bearerDigestMatches(header string, want [sha256.Size]byte) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got = strings.TrimLeft(got, " ")
	if got == "" {
		return false
	}
	a := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], want[:]) == 1
}
