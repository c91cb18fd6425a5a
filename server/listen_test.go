package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server/store/sqlite"
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
	res, err := lang.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flow does not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "flowc.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Logger: discard, AdminToken: "adm-tok"}, st)
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

// TestMetricsPassPromtool: a real scrape, after webhooks, admin calls and
// a 404, passes `promtool check metrics`, and has the series operators
// alert on.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("FLOWC_TEST_REQUIRE_PROMTOOL") != "" { // .ci/run installs it
			t.Fatal("promtool is not installed, and FLOWC_TEST_REQUIRE_PROMTOOL is set")
		}
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); CI installs it")
	}
	_, ls := serveTest(t, Listen{Drain: 10 * time.Second})
	base := "http://" + ls.addr
	do(t, "POST", base+"/v1/messages", "", strings.Replace(hello, "%d", "4", 1))
	do(t, "POST", base+"/v1/messages", "", "{")
	do(t, "GET", base+"/v1/admin/flows", "adm-tok", "")
	do(t, "GET", base+"/no/such/path", "", "")
	code, scrape := do(t, "GET", base+"/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`flowc_http_requests_total{code="200",route="/v1/messages"} 1`,
		`flowc_http_requests_total{code="400",route="/v1/messages"} 1`,
		`flowc_http_requests_total{code="404",route="unmatched"} 1`,
		`flowc_http_requests_total{code="200",route="/v1/admin/flows"} 1`,
		`flowc_webhook_seconds_bucket{endpoint="json",le="15"} 2`,
		`flowc_db_max_open_connections 1`,
		`flowc_build_info{commit="`,
		`flowc_messages_total{flow="hi",outcome="routed"} 1`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
