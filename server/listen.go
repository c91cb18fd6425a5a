package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Listen says where and how Serve listens, and how it stops.
type Listen struct {
	// Addr serves the webhooks, POST /v1/messages and the probes; without
	// AdminAddr also the admin API and /metrics.
	Addr string
	// AdminAddr, when set, serves the admin API, /metrics and the probes,
	// and Addr no longer serves the admin API and /metrics: they can stay
	// on a private network while Addr faces the provider.
	AdminAddr string
	// DrainDelay is how long, after ctx is cancelled (SIGTERM), /readyz
	// answers 503 while the listeners still accept and serve requests, so
	// that a load balancer sees the replica leave before its connections
	// are refused. Zero: shut down at once.
	DrainDelay time.Duration
	// Drain bounds, after the delay, how long in-flight requests may take
	// to finish.
	Drain time.Duration
	// Started is called once the listeners accept, with their addresses
	// (admin nil without AdminAddr).
	Started func(addr, admin net.Addr)

	// delayOver, when set (tests), ends the drain delay early.
	delayOver <-chan struct{}
	// draining, when set (tests), is closed when the drain delay begins.
	draining chan<- struct{}
}

// ListenAndServe is Serve on one listener with no drain delay.
func (s *Server) ListenAndServe(ctx context.Context, addr string, drain time.Duration, started func(net.Addr)) error {
	l := Listen{Addr: addr, Drain: drain}
	if started != nil {
		l.Started = func(a, _ net.Addr) { started(a) }
	}
	return s.Serve(ctx, l)
}

// Serve serves until ctx is cancelled, then drains: readiness goes false
// at once, the listeners keep serving for l.DrainDelay (a probe sees 503,
// not a refused connection, and requests the load balancer still sends
// are answered), then stop accepting; in-flight requests get up to
// l.Drain to finish, and Serve returns.
func (s *Server) Serve(ctx context.Context, l Listen) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	if s.cfg.DevMode() {
		host, _, err := net.SplitHostPort(l.Addr)
		if err != nil {
			return fmt.Errorf("--addr %q: %v", l.Addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("dev mode (FLOWC_TWILIO_AUTH_TOKEN is not set) only listens on loopback, not %q: set the token to serve on other addresses", l.Addr)
		}
	}
	if l.AdminAddr != "" && l.AdminAddr == l.Addr && !strings.HasSuffix(l.Addr, ":0") {
		return fmt.Errorf("--admin-addr %q is the same as --addr: leave it unset to serve the admin API on --addr", l.AdminAddr)
	}
	type listener struct {
		ln  net.Listener
		srv *http.Server
	}
	var lns []listener
	closeAll := func() {
		for _, x := range lns {
			x.ln.Close()
		}
	}
	listen := func(addr, flag string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s %q: %w", flag, addr, err)
		}
		lns = append(lns, listener{ln, &http.Server{
			Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
			// net/http's own complaints (TLS handshakes, panics it
			// recovered) go into the JSON stream too.
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}})
		return nil
	}
	if err := listen(l.Addr, "--addr", s.routes(true, l.AdminAddr == "")); err != nil {
		return err
	}
	if l.AdminAddr != "" {
		if err := listen(l.AdminAddr, "--admin-addr", s.routes(false, true)); err != nil {
			closeAll()
			return err
		}
	}
	errc := make(chan error, len(lns))
	for _, x := range lns {
		go func() { errc <- x.srv.Serve(x.ln) }()
	}
	s.SetReady(true)
	if l.Started != nil {
		var admin net.Addr
		if len(lns) > 1 {
			admin = lns[1].ln.Addr()
		}
		l.Started(lns[0].ln.Addr(), admin)
	}
	stopAll := func(err error) error {
		for _, x := range lns {
			x.srv.Close()
		}
		return err
	}
	select {
	case err := <-errc:
		return stopAll(err)
	case <-ctx.Done():
	}
	s.SetReady(false)
	if l.DrainDelay > 0 {
		s.log.Info("draining: not ready, still serving", "drain_delay", l.DrainDelay.String())
		if l.draining != nil {
			close(l.draining)
		}
		t := time.NewTimer(l.DrainDelay)
		select {
		case <-t.C:
		case <-l.delayOver:
		case err := <-errc:
			t.Stop()
			return stopAll(err)
		}
		t.Stop()
	}
	s.log.Info("draining: closing the listeners", "timeout", l.Drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), l.Drain)
	defer cancel()
	var first error
	for _, x := range lns {
		if err := x.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	return first
}
