package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The http step (`http "https://crm.example.com/…" as crm`): a request
// whose JSON response is data in a flow variable. It is a run of a
// built-in applet (Applet.HTTP), so that its `on error` branch, the
// graph, coverage and the analyses treat it as any run; the request
// itself leaves the VM through Options.HTTP, which the server and vm/sim
// implement (the VM never opens a connection).

// MaxHTTPResponseBytes caps an http step's response body. Past it the
// step fails (it takes `on error`): the response is to be data in a flow
// variable, whose limit (MaxValueBytes) is the same.
const MaxHTTPResponseBytes = 64 << 10

// HTTPSpec is an http step as compiled.
type HTTPSpec struct {
	Method  string
	URL     int         // template; its {{ }} values are URL-escaped
	Body    int         // expression whose value is the body; -1: none
	Form    bool        // the body is a form, not JSON
	Headers [][2]string // as written: values may hold ${NAME} secrets
	Within  time.Duration
}

// HTTPRequest is what a step asks Options.HTTP to send.
type HTTPRequest struct {
	Method      string
	URL         string
	Header      [][2]string // as written: expand ${NAME} with ExpandSecrets when sending
	Body        []byte
	ContentType string
	// Timeout is what the request may take: the step's `within`, at
	// most what is left of the event's budget. The context's deadline
	// says the same in real time; a fake (a .flowtest mock with a delay)
	// reads Timeout.
	Timeout  time.Duration
	MaxBytes int64 // read at most this much of the body: more is an error (ErrHTTPTooLarge)
	// IdempotencyKey is the same on every run of this step for this
	// event ("flowc-" the message or timer id "-" the step's pc): a step
	// runs again when its commit finds the conversation changed, or when
	// the provider retries a webhook that ran out of time, so a request
	// is sent at least once; a server that honours Idempotency-Key acts
	// on it once.
	IdempotencyKey string
}

// HTTPResponse is a response as the step sees it.
type HTTPResponse struct {
	Status int
	Body   []byte
}

// HTTPDoer sends an http step's request. The server's refuses private
// and loopback addresses; vm/sim's answers from a .flowtest's mocks.
type HTTPDoer interface {
	DoHTTP(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

// ErrHTTPTooLarge is a response over HTTPRequest.MaxBytes.
var ErrHTTPTooLarge = errors.New("response too large")

// ErrHTTPTimeout is a request that took longer than its Timeout.
var ErrHTTPTimeout = errors.New("timed out")

var secretRef = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)\}`)

// SecretEnv is the environment variable that holds secret name.
func SecretEnv(name string) string { return "FLOWC_SECRET_" + name }

// ExpandSecrets replaces each ${NAME} in a header value with the secret
// lookup gives for it (the server and `flowc run` read the environment
// variable SecretEnv(NAME)). An unset secret is an error that names the
// variable, never a request sent without it.
func ExpandSecrets(v string, lookup func(name string) (string, bool)) (string, error) {
	var err error
	out := secretRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[2 : len(ref)-1]
		s, ok := "", false
		if lookup != nil {
			s, ok = lookup(name)
		}
		if !ok && err == nil {
			err = fmt.Errorf("secret %s is not set (set the environment variable %s)", name, SecretEnv(name))
		}
		return s
	})
	if strings.ContainsAny(out, "\r\n\x00") && err == nil {
		err = fmt.Errorf("a secret holds a line break or NUL")
	}
	return out, err
}

// httpRun runs an http step: its request through Options.HTTP, within
// the event's applet budget, and its parsed response into the `as`
// variable. Anything wrong takes `on error` (or ends the conversation),
// with the trace saying what.
func (m *machine) httpRun(pc int, r *RunCall, h *HTTPSpec) (int, bool) {
	req, err := m.httpRequest(pc, h)
	if err != nil {
		m.fail(pc, fmt.Errorf("http: %v", err))
		return m.appletFailed(pc, r)
	}
	if m.opts.HTTP == nil {
		m.fail(pc, fmt.Errorf("http %s %s: no HTTP client here (the server sends requests; `flowc run --net`, or a .flowtest mock)", req.Method, req.URL))
		return m.appletFailed(pc, r)
	}
	ctx, err := m.appletBudget()
	if err != nil {
		if !m.budgetSpent {
			m.budgetSpent = true
			m.fail(pc, fmt.Errorf("http %s %s: %v", req.Method, req.URL, err))
		} else {
			m.trace(pc, "error: "+err.Error())
		}
		return m.appletFailed(pc, r)
	}
	left := m.opts.EventBudget - m.env.Now().Sub(m.now)
	req.Timeout = left
	if h.Within > 0 && h.Within < left {
		req.Timeout = h.Within
	}
	rctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	m.appletCalls++
	resp, err := m.opts.HTTP.DoHTTP(rctx, req)
	if err == nil && resp == nil {
		err = errors.New("no response")
	}
	if err != nil {
		if errors.Is(err, ErrHTTPTimeout) || errors.Is(err, context.DeadlineExceeded) || rctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("timed out after %s", FormatDuration(req.Timeout))
		}
		m.fail(pc, fmt.Errorf("http %s %s: %v", req.Method, req.URL, err))
		return m.appletFailed(pc, r)
	}
	if len(resp.Body) > MaxHTTPResponseBytes {
		m.fail(pc, fmt.Errorf("http %s %s: %v: over %d bytes", req.Method, req.URL, ErrHTTPTooLarge, MaxHTTPResponseBytes))
		return m.appletFailed(pc, r)
	}
	if resp.Status < 200 || resp.Status > 299 {
		m.fail(pc, fmt.Errorf("http %s %s: status %d", req.Method, req.URL, resp.Status))
		return m.appletFailed(pc, r)
	}
	var v any
	if body := bytes.TrimSpace(resp.Body); len(body) > 0 {
		if err := json.Unmarshal(body, &v); err != nil {
			m.fail(pc, fmt.Errorf("http %s %s: status %d, but the response is not JSON: %v", req.Method, req.URL, resp.Status, err))
			return m.appletFailed(pc, r)
		}
	}
	if err := CheckValue(v); err != nil {
		m.fail(pc, fmt.Errorf("http %s %s: the response is too large for a flow variable: %v", req.Method, req.URL, err))
		return m.appletFailed(pc, r)
	}
	m.branch(pc, m.note("http ", req.Method, " ", req.URL, " → ", fmt.Sprint(resp.Status)), Outcome{Kind: BranchOK, Target: pc + 1})
	if r.As != "" {
		m.setVar(pc, r.As, v)
	}
	return pc + 1, true
}

// httpRequest builds the step's request: its URL (each {{ }} value
// escaped, the host checked again against the flow's `hosts`), its body
// and its headers as written.
func (m *machine) httpRequest(pc int, h *HTTPSpec) (*HTTPRequest, error) {
	var b strings.Builder
	for _, part := range m.p.Templates[h.URL].Parts {
		if part.Expr < 0 {
			b.WriteString(part.Lit)
			continue
		}
		s, err := m.evalText(part.Expr)
		if err != nil {
			return nil, fmt.Errorf("URL: %s: %v", m.p.Exprs[part.Expr].Source, err)
		}
		b.WriteString(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
	}
	req := &HTTPRequest{Method: h.Method, URL: b.String(), Header: h.Headers, MaxBytes: MaxHTTPResponseBytes}
	if id := m.envv.Message.SID; id != "" {
		req.IdempotencyKey = "flowc-" + id + "-" + strconv.Itoa(pc)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("URL %s: %v", req.URL, err)
	}
	if !m.p.HostDeclared(u.Host) || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("URL %s: host %q is not declared in the flow's hosts header", req.URL, u.Host)
	}
	if h.Body >= 0 {
		v, err := m.eval(h.Body)
		if err != nil {
			return nil, fmt.Errorf("body %s: %v", m.p.Exprs[h.Body].Source, err)
		}
		if h.Form {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("form %s: want an object, not %s", m.p.Exprs[h.Body].Source, formatValue(v))
			}
			form := url.Values{}
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				switch x := obj[k].(type) {
				case string:
					form.Set(k, x)
				case nil:
				default:
					j, _ := json.Marshal(x)
					form.Set(k, string(j))
				}
			}
			req.Body, req.ContentType = []byte(form.Encode()), "application/x-www-form-urlencoded"
		} else {
			j, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("json %s: %v", m.p.Exprs[h.Body].Source, err)
			}
			req.Body, req.ContentType = j, "application/json"
		}
	}
	return req, nil
}

// HostDeclared reports whether host (as in a URL: lower case, with its
// port if any) is one of the flow's `hosts`.
func (p *Program) HostDeclared(host string) bool {
	host = strings.ToLower(host)
	for _, h := range p.Hosts {
		if h == host {
			return true
		}
	}
	return false
}

// checkHTTP verifies the indices of the program's http steps.
func (p *Program) checkHTTP() error {
	for i, a := range p.Applets {
		h := a.HTTP
		if h == nil {
			continue
		}
		if h.URL < 0 || h.URL >= len(p.Templates) || h.Body >= len(p.Exprs) {
			return fmt.Errorf("http step %d: index out of range", i)
		}
	}
	return nil
}

// describeHTTP is an http step as the disassembler shows it.
func (p *Program) describeHTTP(r RunCall, h *HTTPSpec) string {
	s := fmt.Sprintf("%s %q", h.Method, p.templateSource(h.URL))
	if h.Body >= 0 {
		kind := "json"
		if h.Form {
			kind = "form"
		}
		s += " " + kind + " " + p.Exprs[h.Body].Source
	}
	if r.As != "" {
		s += " as " + r.As
	}
	if r.ErrorPC >= 0 {
		s += fmt.Sprintf(" on error %04d", r.ErrorPC)
	}
	return s
}
