package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// requestNote is what a handler learned about a request that its log
// line should carry: for a webhook, the message it handled, so the line
// leads to `flowc trace SID`.
type requestNote struct {
	mu                          sync.Mutex
	sid, flow, version, outcome string
}

type requestNoteKey struct{}

// noteMessage records, for the request's log line, the message a request
// carried and what became of it. Empty values are left out of the line;
// a later call overwrites only the values it gives.
func noteMessage(ctx context.Context, sid, flow, version, outcome string) {
	n, _ := ctx.Value(requestNoteKey{}).(*requestNote)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, f := range []struct {
		dst *string
		v   string
	}{{&n.sid, sid}, {&n.flow, flow}, {&n.version, version}, {&n.outcome, outcome}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
}

// logRequests writes one JSON line per request, with the request id and,
// for a webhook, message_sid, flow, version and outcome; never a message
// body or a phone number. It also counts the request by route and status
// (flowc_http_requests_total).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		note := &requestNote{}
		start := time.Now()
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), requestNoteKey{}, note)))
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // the handler wrote nothing
		}
		route := "unmatched" // 404s and 405s: no label per path probed
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		attrs := []slog.Attr{
			slog.String("request_id", middleware.GetReqID(r.Context())), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Int("bytes", ww.BytesWritten()), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}
		note.mu.Lock()
		for _, f := range [][2]string{{"message_sid", note.sid}, {"flow", note.flow}, {"version", note.version}, {"outcome", note.outcome}} {
			if f[1] != "" {
				attrs = append(attrs, slog.String(f[0], f[1]))
			}
		}
		note.mu.Unlock()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// recoverPanics answers 500 to a handler that panicked and logs the
// panic with its stack as one JSON line (chi's Recoverer prints a
// plain-text stack to stderr, in the middle of the JSON stream).
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's way to abort a response: not a bug
				panic(v)
			}
			s.log.Error("handler panicked", "request_id", middleware.GetReqID(r.Context()), "path", r.URL.Path,
				"panic", clipErr(fmt.Errorf("%v", v)), "stack", string(debug.Stack()))
			if r.Header.Get("Connection") != "Upgrade" {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
