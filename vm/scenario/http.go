package scenario

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// HTTPMock is a canned answer to a flow's http step:
//
//	http "https://crm.example.com/contacts?phone=%2B15557654321" returns {"owner": "alice"}
//	http POST "https://crm.example.com/*" status 500
//	http "https://crm.example.com/slow" delay 5s returns {}
//	http "https://crm.example.com/down" fails "connection refused"
//
// The URL is the request's, as sent (its {{ }} values escaped); a
// trailing * matches any rest. The last line that matches wins, so a
// test's own line overrides a default one.
type HTTPMock struct {
	Pos    Pos
	Method string // "" for any
	URL    string
	Status int           // default 200
	Delay  time.Duration // the request takes this long on the test's clock
	Body   string        // the response, as sent: JSON, or a quoted string's text as is
	Fails  string        // the request fails with this error (no response)
}

func (m *HTTPMock) matches(req *vm.HTTPRequest) bool {
	if m.Method != "" && m.Method != req.Method {
		return false
	}
	if prefix, ok := strings.CutSuffix(m.URL, "*"); ok {
		return strings.HasPrefix(req.URL, prefix)
	}
	return m.URL == req.URL
}

func parseHTTPMock(pos Pos, toks []token) (HTTPMock, error) {
	const want = `want: http [METHOD] "URL" [status CODE] [delay DURATION] [returns JSON] or http [METHOD] "URL" fails "MESSAGE"`
	m := HTTPMock{Pos: pos, Status: 200}
	if len(toks) > 0 && !toks[0].quoted {
		m.Method = strings.ToUpper(toks[0].s)
		toks = toks[1:]
	}
	if len(toks) == 0 || !toks[0].quoted {
		return m, fmt.Errorf("%s", want)
	}
	m.URL = toks[0].s
	toks = toks[1:]
	for len(toks) > 0 {
		if len(toks) < 2 {
			return m, fmt.Errorf("%s", want)
		}
		k, v := toks[0], toks[1]
		toks = toks[2:]
		switch k.s {
		case "status":
			n, err := strconv.Atoi(v.s)
			if err != nil || n < 100 || n > 599 {
				return m, fmt.Errorf("status %s: want an HTTP status code (100 to 599)", v.s)
			}
			m.Status = n
		case "delay":
			d, err := check.ParseDuration(v.s)
			if err != nil {
				return m, err
			}
			m.Delay = d
		case "returns":
			m.Body = v.s
		case "fails":
			if !v.quoted {
				return m, fmt.Errorf(`want: fails "MESSAGE"`)
			}
			m.Fails = v.s
		default:
			return m, fmt.Errorf("unknown %q: %s", k.s, want)
		}
	}
	return m, nil
}

// mockHTTP answers a test's http steps from its mocks, on its clock: a
// delay moves the clock (and so spends the message's budget); one as
// long as the request's time limit is a timeout. A request no mock
// matches fails, saying which line would answer it; with a real doer
// (`flowc test --net`) it goes to the network instead.
type mockHTTP struct {
	mocks []HTTPMock
	env   *sim.Env
	real  vm.HTTPDoer
}

func (h *mockHTTP) DoHTTP(ctx context.Context, req *vm.HTTPRequest) (*vm.HTTPResponse, error) {
	var m *HTTPMock
	for i := range h.mocks {
		if h.mocks[i].matches(req) {
			m = &h.mocks[i]
		}
	}
	if m == nil {
		if h.real != nil {
			return h.real.DoHTTP(ctx, req)
		}
		return nil, fmt.Errorf("no mock for this request in the test (add: http %s %q returns JSON)", req.Method, req.URL)
	}
	if m.Delay > 0 {
		if m.Delay >= req.Timeout {
			h.env.Clock = h.env.Clock.Add(req.Timeout)
			return nil, vm.ErrHTTPTimeout
		}
		h.env.Clock = h.env.Clock.Add(m.Delay)
	}
	if m.Fails != "" {
		return nil, fmt.Errorf("%s", m.Fails)
	}
	if int64(len(m.Body)) > req.MaxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", vm.ErrHTTPTooLarge, req.MaxBytes)
	}
	return &vm.HTTPResponse{Status: m.Status, Body: []byte(m.Body)}, nil
}

// WithHTTP sends the http requests no mock answers through d (`flowc
// test --net`); without it they fail.
func WithHTTP(d vm.HTTPDoer) Option { return func(o *options) { o.http = d } }

// parseEffectExpect reads `expect untag "TAG"` and `expect field "NAME"
// "VALUE"` (or ~ "REGEXP" for the tag or the value).
func parseEffectExpect(e Expect, kind string, rest []token) (Expect, error) {
	var err error
	if kind == "untag" {
		e.Kind = ExpUntag
		e.Text, e.Re, err = parseText(rest, "untag")
		return e, err
	}
	e.Kind = ExpField
	if len(rest) < 2 || !rest[0].quoted {
		return e, fmt.Errorf(`want: expect field "NAME" "VALUE" or expect field "NAME" ~ "REGEXP"`)
	}
	e.Var = rest[0].s
	e.Text, e.Re, err = parseText(rest[1:], "field \""+e.Var+"\"")
	return e, err
}

func effectMatches(e Expect, a vm.Action) bool {
	switch e.Kind {
	case ExpUntag:
		return a.Kind == vm.ActUntag && textMatches(e, a.Text)
	case ExpField:
		return a.Kind == vm.ActField && a.Var == e.Var && textMatches(e, a.Text)
	}
	return false
}

// ParseHTTPMocks reads a file of `http …` mock lines, as a .flowtest
// writes them (`flowc run --http-mocks FILE`); # starts a comment.
func ParseHTTPMocks(path, src string) ([]HTTPMock, error) {
	var out []HTTPMock
	for i, raw := range strings.Split(src, "\n") {
		pos := Pos{path, i + 1}
		toks, err := tokenize(raw)
		if err != nil {
			return nil, &Error{pos, err.Error()}
		}
		if len(toks) == 0 {
			continue
		}
		if toks[0].s != "http" {
			return nil, &Error{pos, fmt.Sprintf(`unknown line %q: a mocks file holds http lines only (http "URL" returns JSON)`, toks[0].s)}
		}
		m, err := parseHTTPMock(pos, toks[1:])
		if err != nil {
			return nil, &Error{pos, err.Error()}
		}
		out = append(out, m)
	}
	return out, nil
}

// MockHTTP answers http steps from mocks on env's clock, as a test does;
// requests no mock answers go to real, or fail when it is nil.
func MockHTTP(mocks []HTTPMock, env *sim.Env, real vm.HTTPDoer) vm.HTTPDoer {
	return &mockHTTP{mocks: mocks, env: env, real: real}
}
