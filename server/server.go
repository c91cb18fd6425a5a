package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// Config configures a Server.
type Config struct {
	// TwilioAuthToken verifies X-Twilio-Signature. Empty: dev mode (no
	// verification, loopback only, said loudly).
	TwilioAuthToken string
	// TwilioAuthTokenSecondary is also accepted, during a rotation of the
	// auth token (FLOWC_TWILIO_AUTH_TOKEN_SECONDARY).
	TwilioAuthTokenSecondary string
	// TwilioAccountSID, when set, must be the AccountSid of every Twilio
	// request (FLOWC_TWILIO_ACCOUNT_SID); another account's is a 403.
	TwilioAccountSID string
	// WebhookDeadline bounds one webhook request, waits for the store
	// included (FLOWC_WEBHOOK_DEADLINE); default DefaultWebhookDeadline.
	WebhookDeadline time.Duration
	// PublicURL is the base URL the provider calls (scheme://host[:port]).
	// Required outside dev mode (Validate): the signature covers the URL,
	// and one built from the request's Host header lets a signature made
	// for another app's URL through.
	PublicURL string
	// APIToken guards POST /v1/messages outside dev mode.
	APIToken string
	// AdminToken guards the admin API; empty: EnsureAdminToken generates
	// one and keeps it in the store.
	AdminToken string
	// Directory of users, teams and contacts.
	Directory *Directory
	// Applets runs JavaScript applets; nil means flows calling applets take
	// their error branch.
	Applets func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)
	// HandoffIdle is how long a conversation a run left held (an inbox
	// delivery, `forward webhook:`) stays open without a text either way;
	// zero: inbound.DefaultHandoffIdle (FLOWC_HANDOFF_IDLE).
	HandoffIdle time.Duration
	// EventBudget is the time all applet calls of one message (or timer)
	// may take together; zero: vm.DefaultEventBudget (FLOWC_EVENT_BUDGET).
	EventBudget time.Duration
	// HTTP sends flows' http steps' requests; nil: a vm/fetch client that
	// refuses internal addresses unless HTTPAllowPrivate
	// (FLOWC_HTTP_ALLOW_PRIVATE=1: tests, a CRM on the same network).
	HTTP             vm.HTTPDoer
	HTTPAllowPrivate bool
	// Outbound delivers the outbox (SMS, e-mail, webhooks); nil leaves
	// items queued.
	Outbound *Outbound
	// SMSPace is the least time between two SMS deliveries from one
	// business number (pacing.go; FLOWC_SMS_PACE, which `flowc serve`
	// defaults to DefaultSMSPace); zero: no pacing.
	SMSPace time.Duration
	// OutboundBlacklist names the list POST /v1/outbound never sends to
	// (FLOWC_OUTBOUND_BLACKLIST); "": DefaultOutboundBlacklist.
	OutboundBlacklist string
	// AdminReads is how many admin listings (inbox pages, the numbers)
	// may run at once (FLOWC_ADMIN_READS); 0: DefaultAdminReads. See
	// adminGate (adminpages.go).
	AdminReads int
	// Now is the clock (tests move it); default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// DevMode reports whether requests go unverified.
func (c *Config) DevMode() bool { return c.TwilioAuthToken == "" }

// Validate reports a configuration the server must not run with.
func (c *Config) Validate() error {
	if o := c.Outbound; o != nil {
		switch o.SMTPTLS {
		case "", "opportunistic", "starttls", "tls":
		default:
			return fmt.Errorf("FLOWC_SMTP_TLS %q: want opportunistic (the default), starttls or tls", o.SMTPTLS)
		}
	}
	if c.OutboundBlacklist != "" && !listName.MatchString(c.OutboundBlacklist) {
		return fmt.Errorf("FLOWC_OUTBOUND_BLACKLIST %q: a list name is 1 to 64 letters, digits, '_', '.' or '-'", c.OutboundBlacklist)
	}
	if c.SMSPace < 0 {
		return fmt.Errorf("FLOWC_SMS_PACE %v: want a duration, or 0 for no pacing", c.SMSPace)
	}
	if c.AdminReads < 0 || c.AdminReads > MaxAdminReads {
		return fmt.Errorf("FLOWC_ADMIN_READS %d: want a number of admin reads at once from 1 to %d", c.AdminReads, MaxAdminReads)
	}
	if c.WebhookDeadline < 0 || c.WebhookDeadline > MaxWebhookDeadline {
		return fmt.Errorf("FLOWC_WEBHOOK_DEADLINE %v: want at most %v (Twilio gives up on a webhook after 15s)", c.WebhookDeadline, MaxWebhookDeadline)
	}
	if c.DevMode() {
		if c.TwilioAuthTokenSecondary != "" {
			return errors.New("FLOWC_TWILIO_AUTH_TOKEN_SECONDARY is set without FLOWC_TWILIO_AUTH_TOKEN: set the current token as FLOWC_TWILIO_AUTH_TOKEN")
		}
		return nil
	}
	if c.PublicURL == "" {
		return errors.New("FLOWC_PUBLIC_URL is not set: with FLOWC_TWILIO_AUTH_TOKEN set, webhook signatures are checked against " +
			"the URL Twilio calls, which this server cannot know from the request (the sender chooses the Host header); " +
			"set FLOWC_PUBLIC_URL to the public base URL, e.g. https://sms.example.com")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("FLOWC_PUBLIC_URL %q must be the base URL Twilio calls, scheme://host[:port][/prefix], e.g. https://sms.example.com", c.PublicURL)
	}
	return nil
}

// Server handles inbound-message webhooks.
type Server struct {
	cfg     Config
	store   store.Store
	log     *slog.Logger
	metrics *metrics
	order   *keyedFIFO
	// teamTurns: the steps that decide from a team's queue commit in
	// turns per team (queue.go).
	teamTurns *keyedFIFO
	commits   *groupCommit // steps waiting to commit (groupcommit.go)
	reads     *groupRead   // steps waiting to read (groupread.go)
	// stepping counts the steps reading or running (commit.go's
	// readAndRun), which a committer gives a moment to join its batch.
	stepping atomic.Int64
	senders  *senders // outbox deliveries in flight (background.go)
	ready    atomic.Bool

	adminDigest atomic.Pointer[[sha256.Size]byte] // of the admin token (admin.go)
	adminProofs adminProofCache                   // what console sessions keep of it (console.go)
	dir         atomic.Pointer[Directory]
	dirVersion  atomic.Int64 // the stored directory's version dir is as new as (syncDirectory)
	dirMu       sync.Mutex   // one reload at a time

	mu       sync.RWMutex
	programs map[string]*vm.Program // by version, linked

	routeCache routeCache // the route table (routes.go)
	lists      listCache  // the operator's lists (lists.go)
	pace       *pacer     // SMS pacing per sending number (pacing.go)

	httpOnce sync.Once
	httpc    vm.HTTPDoer // http steps' client (effects.go)

	adminReads *adminGate // bounds the admin listings (adminpages.go)
}

// MaxRequestBytes bounds a webhook request body.
const MaxRequestBytes = 64 << 10

// MaxBodyRunes bounds a message body (Twilio's own limit is 1,600
// characters; anything far longer is not a real text message).
const MaxBodyRunes = 10_000

// New returns a server over st. It is not ready until SetReady(true).
func New(cfg Config, st store.Store) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WebhookDeadline <= 0 {
		cfg.WebhookDeadline = DefaultWebhookDeadline
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OutboundBlacklist == "" {
		cfg.OutboundBlacklist = DefaultOutboundBlacklist
	}
	if cfg.Directory == nil {
		cfg.Directory, _ = (&Directory{}).index()
	}
	log := cfg.Logger
	if cfg.DevMode() {
		log = log.With("dev_mode", true)
	}
	cfg.Outbound = withStatusCallback(cfg.Outbound, cfg.PublicURL)
	s := &Server{cfg: cfg, store: st, log: log, metrics: newMetrics(st), order: newKeyedFIFO(), teamTurns: newKeyedFIFO(), senders: newSenders(), programs: map[string]*vm.Program{},
		commits: &groupCommit{max: committers(st)}, reads: &groupRead{max: committers(st)}, adminReads: newAdminGate(cfg.AdminReads)}
	s.pace = newPacer(cfg.SMSPace)
	s.metrics.reg.MustRegister(&outboxCollector{s})
	s.metrics.reg.MustRegister(&queueCollector{s}) // queuestats.go
	s.dir.Store(cfg.Directory)
	return s
}

// SetReady flips /readyz (false while starting and draining).
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns every HTTP route: the webhooks, the admin API and
// /metrics on one listener (what Serve does without an admin address).
func (s *Server) Handler() http.Handler { return s.routes(true, true) }

// PublicHandler is the public listener's handler when the admin API
// listens apart (--admin-addr): the webhooks, the agents' API and a
// console that takes agents only.
func (s *Server) PublicHandler() http.Handler { return s.routes(true, false) }

// routes builds the router; public: the webhooks and the JSON message
// API, admin: the admin API and /metrics. The probes are on both.
func (s *Server) routes(public, admin bool) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(s.logRequests)
	r.Use(s.recoverPanics)
	if public {
		r.Post("/webhooks/twilio/sms", s.timed("twilio", s.withDeadline(s.handleTwilio)))
		r.Post(StatusCallbackPath, s.timed("twilio-status", s.withDeadline(s.handleTwilioStatus)))
		r.Post(VoicePath, s.timed("twilio-voice", s.withDeadline(s.handleVoice))) // voice.go
		r.Post(VoiceStatusPath, s.timed("twilio-voice-status", s.withDeadline(s.handleVoiceStatus)))
		r.Post(VoiceLegPath, s.timed("twilio-voice-leg", s.withDeadline(s.handleVoiceLeg)))
		r.Post(VoiceRecordingPath, s.timed("twilio-voice-recording", s.withDeadline(s.handleVoiceRecording)))
		r.Post("/v1/messages", s.timed("json", s.withDeadline(s.handleJSON)))
		r.Post("/v1/outbound", s.timed("outbound", s.withDeadline(s.handleOutbound)))
		r.Post("/v1/interactions", s.timed("interactions", s.withDeadline(s.handleInteraction)))
		r.Route("/v1/agent", s.agentRoutes) // agent.go: people's own tokens
		r.Get("/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(OpenAPI)
		})
	}
	if admin {
		r.Route("/v1/admin", s.adminRoutes)
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	}
	r.Mount("/ui", s.console(admin)) // console.go: the web console; admin sign-ins where the admin API is
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", s.handleReady)
	return r
}

func (s *Server) timed(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h(w, r)
		s.metrics.latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	}
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready: starting or draining", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		http.Error(w, "not ready: database: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// program returns the linked program of a version, from the cache or
// the store.
func (s *Server) program(ctx context.Context, tx store.Tx, version string) (*vm.Program, error) {
	s.mu.RLock()
	p := s.programs[version]
	s.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	row, err := tx.Program(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", version, err)
	}
	p, err = vm.Decode(bytes.NewReader(row.Encoded))
	if err == nil {
		err = vm.Link(p)
	}
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", version, err)
	}
	s.mu.Lock()
	s.programs[version] = p
	s.mu.Unlock()
	return p, nil
}

// Deploy makes compiled programs the active versions of their flows,
// routing their numbers to them, in one transaction (deploy.go).
func (s *Server) Deploy(ctx context.Context, progs []*vm.Program) error { return s.deploy(ctx, progs) }

// SetOutbound sets where the outbox goes (before serving).
func (s *Server) SetOutbound(o *Outbound) { s.cfg.Outbound = withStatusCallback(o, s.cfg.PublicURL) }
