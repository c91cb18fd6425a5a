// Package fetch sends the requests of flows' http steps over the
// network (vm.HTTPDoer), for the server and `flowc run --net`.
//
// A flow's author chooses the URL but not what it reaches: the hosts are
// declared in the flow (check refuses any other), and this client
// refuses, by default, to connect to a loopback, private, link-local or
// otherwise internal address, whatever name led there. The check is on
// the address actually dialled (after DNS), so a public name that
// resolves to 127.0.0.1 or 169.254.169.254, or answers differently the
// second time, reaches nothing inside. Redirects are not followed (a 3xx
// is a status other than 2xx: the step's `on error`), no proxy is used,
// and the body read is capped. Secrets in headers are read from the
// environment when the request is sent (vm.ExpandSecrets).
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/flowc-dev/flowc/vm"
)

// Client sends http steps' requests.
type Client struct {
	// AllowPrivate lets requests reach loopback and private addresses
	// (tests, a CRM on the same network: FLOWC_HTTP_ALLOW_PRIVATE=1).
	AllowPrivate bool
	// Secret returns a header secret by name; nil reads the environment
	// variable vm.SecretEnv(name).
	Secret func(name string) (string, bool)

	client *http.Client
}

// ErrBlocked is a request to an address the client refuses.
var ErrBlocked = errors.New("address not allowed")

// New returns a client.
func New(allowPrivate bool) *Client {
	c := &Client{AllowPrivate: allowPrivate}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: c.control}
	c.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // the address dialled is the one checked
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// control refuses a connection to an internal address, after DNS.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	if c.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlocked, address)
	}
	if why := Internal(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is %s (the server refuses internal addresses; FLOWC_HTTP_ALLOW_PRIVATE=1 allows them)", ErrBlocked, ap.Addr(), why)
	}
	return nil
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT

// reserved are IPv4 ranges that are no host on the internet: "this
// network", IETF protocol assignments, benchmarking, the former class E.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("240.0.0.0/4"),
	// IPv6: site-local (deprecated, still routed inside some networks),
	// Teredo (an IPv4 address hidden, obfuscated, inside), discard-only
	// and documentation.
	netip.MustParsePrefix("fec0::/10"), netip.MustParsePrefix("2001::/32"),
	netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("2001:db8::/32"),
}

// nat64 and sixToFour carry an IPv4 address inside an IPv6 one: judged
// as that IPv4 address (a NAT64 gateway would connect to it).
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215: the IPv4 in the last 32 bits
	v4Compat   = netip.MustParsePrefix("::/96")          // IPv4-compatible (deprecated): ::a.b.c.d
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// Internal says why a is not a public address ("" when it is one).
func Internal(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a), nat64Local.Contains(a), v4Compat.Contains(a) && !a.IsLoopback() && !a.IsUnspecified():
			return Internal(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(a):
			return Internal(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	for _, p := range reserved {
		if p.Contains(a) && !a.IsUnspecified() {
			return "a reserved address"
		}
	}
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address (cloud metadata lives there)"
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "a multicast address"
	case sharedSpace.Contains(a):
		return "a shared (carrier-grade NAT) address"
	case !a.IsGlobalUnicast():
		return "not a public address"
	}
	return ""
}

// DoHTTP sends req (vm.HTTPDoer).
func (c *Client) DoHTTP(ctx context.Context, req *vm.HTTPRequest) (*vm.HTTPResponse, error) {
	if c.client == nil {
		c.client = New(c.AllowPrivate).client // a zero Client: as New made it
	}
	secret := c.Secret
	if secret == nil {
		secret = func(name string) (string, bool) { return os.LookupEnv(vm.SecretEnv(name)) }
	}
	var body io.Reader
	if req.Body != nil {
		body = strings.NewReader(string(req.Body))
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("User-Agent", "flowc")
	hr.Header.Set("Accept", "application/json")
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	for _, h := range req.Header {
		v, err := vm.ExpandSecrets(h[1], secret)
		if err != nil {
			return nil, fmt.Errorf("header %s: %v", h[0], err)
		}
		hr.Header.Add(h[0], v)
	}
	if req.IdempotencyKey != "" && hr.Header.Get("Idempotency-Key") == "" { // the flow's own wins
		hr.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	resp, err := c.client.Do(hr)
	if err != nil {
		if errors.Is(err, ErrBlocked) {
			return nil, unwrapBlocked(err)
		}
		if ctx.Err() != nil {
			return nil, vm.ErrHTTPTimeout
		}
		return nil, err
	}
	defer resp.Body.Close()
	limit := req.MaxBytes
	if limit <= 0 {
		limit = vm.MaxHTTPResponseBytes
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, vm.ErrHTTPTimeout
		}
		return nil, fmt.Errorf("reading the response: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", vm.ErrHTTPTooLarge, limit)
	}
	return &vm.HTTPResponse{Status: resp.StatusCode, Body: b}, nil
}

// unwrapBlocked keeps the refusal's own words, without net/http's
// "Get …: dial tcp …:" around them.
func unwrapBlocked(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), ErrBlocked.Error()) {
			return e
		}
	}
	return err
}
