package fetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/vm"
)

// The attack: a flow (or a DNS answer) points an http step at the
// server's own network: the loopback interface, a private range, the
// cloud metadata address. The default client refuses to connect, and
// says why; only AllowPrivate lets a test or a dev setup through.
func TestRefusesInternalAddresses(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	c := New(false)
	_, err := c.DoHTTP(context.Background(), &vm.HTTPRequest{Method: "GET", URL: srv.URL + "/admin", MaxBytes: 1024})
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Fatalf("loopback: got %v, want it refused as a loopback address", err)
	}
	// localhost is a name for the same place: the check is on the address dialled.
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if _, err := c.DoHTTP(context.Background(), &vm.HTTPRequest{Method: "GET", URL: u, MaxBytes: 1024}); !errors.Is(err, ErrBlocked) {
		t.Fatalf("localhost: got %v, want it refused", err)
	}
	if hit {
		t.Fatal("the internal server was reached")
	}
	for addr, want := range map[string]string{
		"10.1.2.3": "private", "192.168.0.1": "private", "172.16.5.4": "private", "169.254.169.254": "link-local",
		"::1": "loopback", "fd00::1": "private", "0.0.0.0": "unspecified", "100.64.0.1": "shared", "::ffff:127.0.0.1": "loopback",
		"8.8.8.8": "", "2001:4860:4860::8888": "",
		// IPv4 inside IPv6 (NAT64, 6to4) is judged as the IPv4 it carries.
		"64:ff9b::a00:1": "private", "64:ff9b::808:808": "", "2002:7f00:1::": "loopback", "2002:a9fe:a9fe::1": "link-local",
		"64:ff9b:1::a00:1": "private", "::a9fe:a9fe": "link-local", "::7f00:1": "loopback",
		"fec0::1": "reserved", "2001::1": "reserved", "2001:db8::1": "reserved", "100::1": "reserved",
		"0.1.2.3": "reserved", "198.18.0.1": "reserved", "240.0.0.1": "reserved", "192.0.0.8": "reserved", "255.255.255.255": "reserved",
	} {
		if got := Internal(netip.MustParseAddr(addr)); !strings.Contains(got, want) || (want == "") != (got == "") {
			t.Errorf("Internal(%s) = %q, want %q", addr, got, want)
		}
	}
	ok := New(true)
	resp, err := ok.DoHTTP(context.Background(), &vm.HTTPRequest{Method: "GET", URL: srv.URL, MaxBytes: 1024})
	if err != nil || resp.Status != 200 || !hit {
		t.Fatalf("with AllowPrivate: %v, %+v", err, resp)
	}
}

// A redirect is not followed: it is the 3xx it is (the step's on error),
// never a second request to wherever it points.
func TestNoRedirects(t *testing.T) {
	other := false
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other = true }))
	defer inner.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL, http.StatusFound)
	}))
	defer srv.Close()
	resp, err := New(true).DoHTTP(context.Background(), &vm.HTTPRequest{Method: "GET", URL: srv.URL, MaxBytes: 1024})
	if err != nil || resp.Status != http.StatusFound || other {
		t.Fatalf("got %v %+v, followed: %v", err, resp, other)
	}
}

// Secrets are read when the request is sent; an unset one is an error
// that names the variable, and nothing is sent.
func TestSecrets(t *testing.T) {
	var got, key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		key = r.Header.Get("Idempotency-Key")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := New(true)
	c.Secret = func(name string) (string, bool) {
		if name == "CRM_TOKEN" {
			return "s3cret", true
		}
		return "", false
	}
	req := &vm.HTTPRequest{Method: "GET", URL: srv.URL, MaxBytes: 1024, Header: [][2]string{{"Authorization", "Bearer ${CRM_TOKEN}"}}}
	if _, err := c.DoHTTP(context.Background(), req); err != nil || got != "Bearer s3cret" {
		t.Fatalf("got %q, %v", got, err)
	}
	if key != "" {
		t.Errorf("Idempotency-Key %q sent without one asked for", key)
	}
	req.IdempotencyKey = "flowc-SM1-7"
	if _, err := c.DoHTTP(context.Background(), req); err != nil || key != "flowc-SM1-7" {
		t.Errorf("Idempotency-Key %q, %v; want the request's", key, err)
	}
	got = "unsent"
	req.Header = [][2]string{{"X-Key", "${MISSING}"}}
	_, err := c.DoHTTP(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "secret MISSING is not set (set the environment variable FLOWC_SECRET_MISSING)") || got != "unsent" {
		t.Fatalf("unset secret: %v (sent: %q)", err, got)
	}
}

// A body over MaxBytes is an error, read no further than the cap; a
// server that does not answer in time is a timeout.
func TestSizeAndTime(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(strings.Repeat("x", 2048)))
	}))
	defer srv.Close()
	defer close(release)
	c := New(true)
	if _, err := c.DoHTTP(context.Background(), &vm.HTTPRequest{Method: "GET", URL: srv.URL + "/big", MaxBytes: 1024}); !errors.Is(err, vm.ErrHTTPTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.DoHTTP(ctx, &vm.HTTPRequest{Method: "GET", URL: srv.URL + "/slow", MaxBytes: 1024}); !errors.Is(err, vm.ErrHTTPTimeout) {
		t.Fatalf("slow: %v", err)
	}
}
