package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
	"github.com/flowc-dev/flowc/server/store/postgres/pgtest"
	"github.com/flowc-dev/flowc/server/store/sqlite"
	"github.com/flowc-dev/flowc/vm"
)

// listening is a server started by Serve in a test.
type listening struct {
	addr, admin string
	stop        context.CancelFunc
	done        chan error
}

// serveTest deploys a one-line flow on a fresh SQLite database (dev mode)
// and starts Serve with l (Addr defaults to a free loopback port).
func serveTest(t *testing.T, l Listen) (*Server, *listening) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hi.flow"), []byte("numbers \"+15550100\"\nreply \"hi there\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	progs := compileDir(t, dir)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	return serveTestOn(t, st, progs, Config{}, l)
}

// serveTestOn is serveTest on the store st, which it closes at the end,
// with cfg (default: no logs, admin token "adm-tok").
func serveTestOn(t *testing.T, st store.Store, progs []*vm.Program, cfg Config, l Listen) (*Server, *listening) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	cfg.AdminToken = "adm-tok"
	s := New(cfg, st)
	if _, _, err := s.EnsureAdminToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	if l.Addr == "" {
		l.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	ls := &listening{stop: cancel, done: make(chan error, 1)}
	started := make(chan struct{})
	l.Started = func(a, admin net.Addr) {
		ls.addr = a.String()
		if admin != nil {
			ls.admin = admin.String()
		}
		close(started)
	}
	go func() { ls.done <- s.Serve(ctx, l) }()
	select {
	case <-started:
	case err := <-ls.done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-ls.done
		st.Close()
	})
	return s, ls
}

func compileDir(t *testing.T, dir string) []*vm.Program {
	t.Helper()
	res, err := lang.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flow does not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	return progs
}

// fresh is a client that opens a new connection for every request, so a
// request shows whether the listener still accepts.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

func do(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := fresh.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const hello = `{"sid":"SMdrain%d","from":"+15557654321","to":"+15550100","body":"hello"}`

// TestReadyzIs503DuringTheDrainDelay: after SIGTERM (ctx cancelled), a
// probe on a new connection gets 503, not a refused connection, and a
// webhook the load balancer still sends is answered; after the delay the
// listener closes and Serve returns.
func TestReadyzIs503DuringTheDrainDelay(t *testing.T) {
	delayOver, draining := make(chan struct{}), make(chan struct{})
	// An hour: the delay is ended by the test, never by the clock.
	_, ls := serveTest(t, Listen{DrainDelay: time.Hour, Drain: 10 * time.Second, delayOver: delayOver, draining: draining})
	base := "http://" + ls.addr
	if code, body := do(t, "GET", base+"/readyz", "", ""); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	ls.stop()
	<-draining
	if code, body := do(t, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz during the drain delay: %d %q, want 503", code, body)
	}
	if code, body := do(t, "POST", base+"/v1/messages", "", strings.Replace(hello, "%d", "1", 1)); code != http.StatusOK || !strings.Contains(body, "hi there") {
		t.Fatalf("webhook during the drain delay: %d %s, want it answered", code, body)
	}
	if code, _ := do(t, "GET", base+"/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("/healthz during the drain delay: %d, want 200 (the process is alive)", code)
	}
	close(delayOver)
	if err := <-ls.done; err != nil {
		t.Fatalf("Serve returned %v after the drain", err)
	}
	ls.done <- nil // for the cleanup
	if _, err := fresh.Get(base + "/readyz"); err == nil {
		t.Fatal("the listener still accepts after the drain")
	}
}

// signalOn is a slog handler that closes ch at the first record whose
// message is msg.
type signalOn struct {
	slog.Handler
	msg  string
	once *sync.Once
	ch   chan struct{}
}

func (h signalOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}

func (h signalOn) WithAttrs([]slog.Attr) slog.Handler { return h }

// TestInFlightRequestFinishesDuringTheDrain: a webhook still running
// (its applet blocked) when the listeners close is answered, and Serve
// returns only after it.
func TestInFlightRequestFinishesDuringTheDrain(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slow.js"), []byte("function main(ctx) { return 1; }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "slow.flow"), []byte("numbers \"+15550100\"\napplet slow = \"slow.js\"\n"+
		"run slow(body) as x <\n  else -> reply \"finished\"\n  on error -> reply \"failed\"\n>\n"), 0o644)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	closing := make(chan struct{})
	cfg := Config{
		Logger: slog.New(signalOn{Handler: discard.Handler(), msg: "draining: closing the listeners", once: &sync.Once{}, ch: closing}),
		Applets: func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
			close(entered)
			<-release
			return 1, nil
		},
	}
	_, ls := serveTestOn(t, st, compileDir(t, dir), cfg, Listen{Drain: time.Minute})
	answer := make(chan string, 1)
	go func() {
		resp, err := fresh.Post("http://"+ls.addr+"/v1/messages", "application/json", strings.NewReader(strings.Replace(hello, "%d", "5", 1)))
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	<-entered
	ls.stop()
	<-closing
	close(release)
	if got := <-answer; !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "finished") {
		t.Fatalf("the in-flight webhook got %s, want it answered", got)
	}
	if err := <-ls.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	ls.done <- nil
}

// TestAdminAddrSeparatesTheAdminAPI: with --admin-addr the admin API and
// /metrics are served there and not on --addr, and the webhooks only on
// --addr; without it, everything is on --addr.
func TestAdminAddrSeparatesTheAdminAPI(t *testing.T) {
	_, ls := serveTest(t, Listen{AdminAddr: "127.0.0.1:0", Drain: 10 * time.Second})
	main, admin := "http://"+ls.addr, "http://"+ls.admin
	for _, c := range []struct {
		method, url, auth, body string
		want                    int
	}{
		{"GET", main + "/metrics", "", "", http.StatusNotFound},
		{"GET", main + "/v1/admin/flows", "adm-tok", "", http.StatusNotFound},
		{"POST", main + "/v1/messages", "", strings.Replace(hello, "%d", "2", 1), http.StatusOK},
		{"GET", main + "/readyz", "", "", http.StatusOK},
		{"GET", admin + "/metrics", "", "", http.StatusOK},
		{"GET", admin + "/v1/admin/flows", "adm-tok", "", http.StatusOK},
		{"GET", admin + "/v1/admin/flows", "", "", http.StatusUnauthorized},
		{"POST", admin + "/v1/messages", "", strings.Replace(hello, "%d", "3", 1), http.StatusNotFound},
		{"POST", admin + "/webhooks/twilio/sms", "", "", http.StatusNotFound},
		{"GET", admin + "/readyz", "", "", http.StatusOK},
	} {
		if code, body := do(t, c.method, c.url, c.auth, c.body); code != c.want {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.url, code, c.want, body)
		}
	}

	_, one := serveTest(t, Listen{Drain: 10 * time.Second})
	if one.admin != "" {
		t.Fatalf("an admin listener without --admin-addr: %s", one.admin)
	}
	for _, path := range []string{"/metrics", "/v1/admin/flows"} {
		if code, body := do(t, "GET", "http://"+one.addr+path, "adm-tok", ""); code != http.StatusOK {
			t.Errorf("GET %s without --admin-addr: %d, want 200 (%s)", path, code, body)
		}
	}
}

func TestAdminAddrMustDifferFromAddr(t *testing.T) {
	s := New(Config{Logger: discard}, nil)
	err := s.Serve(context.Background(), Listen{Addr: "127.0.0.1:18080", AdminAddr: "127.0.0.1:18080"})
	if err == nil || !strings.Contains(err.Error(), "--admin-addr") {
		t.Fatalf("Serve with --admin-addr = --addr: %v", err)
	}
}

// TestMetricsPassPromtool: a real scrape, after webhooks, admin calls, a
// 404 and with a queue's statistics, passes `promtool check metrics`,
// and has the series operators alert on.
func TestMetricsPassPromtool(t *testing.T) {
	s, ls := serveTest(t, Listen{Drain: 10 * time.Second})
	addQueueData(t, s) // queuestats_internal_test.go
	base := "http://" + ls.addr
	scrape := scrapeAfterTraffic(t, base)
	for _, want := range []string{
		`flowc_http_requests_total{code="200",route="/v1/messages"} 1`,
		`flowc_http_requests_total{code="400",route="/v1/messages"} 1`,
		`flowc_http_requests_total{code="404",route="unmatched"} 1`,
		`flowc_http_requests_total{code="200",route="/v1/admin/flows"} 1`,
		`flowc_webhook_seconds_bucket{endpoint="json",le="15"} 2`,
		`flowc_db_max_open_connections 1`,
		`flowc_build_info{commit="`,
		`flowc_messages_total{flow="hi",outcome="routed"} 1`,
		`flowc_queue_waiting{team="support"} 1`,
		`flowc_queue_longest_wait_seconds{team="support"} `,
		`flowc_queue_conversations_total{event="offered",team="support"} 5`,
		`flowc_queue_service_level_ratio{team="support"} 0.75`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("FLOWC_TEST_REQUIRE_PROMTOOL") != "" { // .ci/run installs it
			t.Fatal("promtool is not installed, and FLOWC_TEST_REQUIRE_PROMTOOL is set")
		}
		t.Skip("the series are there; promtool is not installed to lint them (Debian: apt-get install prometheus); CI installs it")
	}
	promtoolCheck(t, promtool, scrape)
}

// TestDBPoolMetricsOnPostgres: on PostgreSQL the pool gauges are
// pgxpool's (pool_max_conns from the URL), and the scrape passes promtool.
func TestDBPoolMetricsOnPostgres(t *testing.T) {
	u, _ := pgtest.FreshSchema(t, pgtest.URL(t))
	st, err := postgres.Open(context.Background(), pgtest.WithParam(t, u, "pool_max_conns", "7"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hi.flow"), []byte("numbers \"+15550100\"\nreply \"hi there\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ls := serveTestOn(t, st, compileDir(t, dir), Config{}, Listen{Drain: 10 * time.Second})
	scrape := scrapeAfterTraffic(t, "http://"+ls.addr)
	if !strings.Contains(scrape, "\nflowc_db_max_open_connections 7\n") {
		t.Errorf("the scrape lacks flowc_db_max_open_connections 7:\n%s", grepLines(scrape, "flowc_db_"))
	}
	if strings.Contains(scrape, "\nflowc_db_open_connections 0\n") {
		t.Errorf("no open connection after traffic:\n%s", grepLines(scrape, "flowc_db_"))
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		promtoolCheck(t, promtool, scrape)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// scrapeAfterTraffic sends a webhook, a bad one, an admin call and a 404,
// and returns a /metrics scrape.
func scrapeAfterTraffic(t *testing.T, base string) string {
	t.Helper()
	do(t, "POST", base+"/v1/messages", "", strings.Replace(hello, "%d", "4", 1))
	do(t, "POST", base+"/v1/messages", "", "{")
	do(t, "GET", base+"/v1/admin/flows", "adm-tok", "")
	do(t, "GET", base+"/no/such/path", "", "")
	code, scrape := do(t, "GET", base+"/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return scrape
}

func promtoolCheck(t *testing.T, promtool, scrape string) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
