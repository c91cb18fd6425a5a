package server

import (
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBearerTokenMatches: the scheme is case-insensitive (RFC 6750 §2.1,
// RFC 7235 §2.1), the token is not, and nothing shorter, longer or empty
// matches.
func TestBearerTokenMatches(t *testing.T) {
	const tok = "flowc_secret-token"
	for _, c := range []struct {
		header string
		ok     bool
	}{
		{"Bearer " + tok, true},
		{"bearer " + tok, true},
		{"BEARER " + tok, true},
		{"Bearer   " + tok, true}, // 1*SP
		{"Bearer " + strings.ToUpper(tok), false},
		{"Bearer " + tok + "x", false},
		{"Bearer " + tok[:len(tok)-1], false},
		{"Bearer", false},
		{"Bearer ", false},
		{"Basic " + tok, false},
		{"Bearer" + tok, false},
		{tok, false},
		{"", false},
	} {
		if got := tokenMatches(c.header, tok); got != c.ok {
			t.Errorf("tokenMatches(%q) = %v, want %v", c.header, got, c.ok)
		}
	}
	if tokenMatches("Bearer ", "") || tokenMatches("", "") {
		t.Error("an empty configured token matches")
	}
}

// TestLowercaseBearerOnBothAPIs: the admin API and POST /v1/messages
// accept the same header, "bearer x" included.
func TestLowercaseBearerOnBothAPIs(t *testing.T) {
	s := New(Config{TwilioAuthToken: "tw", APIToken: "api-tok", AdminToken: "adm-tok", Logger: discard}, nil)
	s.setAdminDigest(sha256.Sum256([]byte(s.cfg.AdminToken)))
	h := s.Handler()
	for _, c := range []struct {
		method, path, header string
		want                 int
	}{
		{"GET", "/v1/admin/directory", "bearer adm-tok", http.StatusOK},
		{"GET", "/v1/admin/directory", "bearer adm-to", http.StatusUnauthorized},
		{"GET", "/v1/admin/directory", "bearer api-tok", http.StatusUnauthorized},
		// Past the token check, the empty body is a 400, not a 401.
		{"POST", "/v1/messages", "bearer api-tok", http.StatusBadRequest},
		{"POST", "/v1/messages", "BEARER api-tok", http.StatusBadRequest},
		{"POST", "/v1/messages", "bearer adm-tok", http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(""))
		req.Header.Set("Authorization", c.header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %s with %q: %d, want %d (%s)", c.method, c.path, c.header, rec.Code, c.want, rec.Body)
		}
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
