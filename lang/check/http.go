package check

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// CodeHost is an http step calling a host the flow does not declare.
const CodeHost = "flow/host"

// Host is one host of a `hosts` header: the only hosts a flow's http
// steps may call. A flow reads a CRM; it must say which, where a reviewer
// sees it, so that no expression can send a contact's data elsewhere.
type Host struct {
	Name string // lower case, with its port when one was written
	Span file.Span
}

var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)

// hostsHeader reads `hosts "crm.example.com", "api.example.com:8443"`.
func (c *checker) hostsHeader(h *syntax.Header, values []string) {
	for i, v := range values {
		sp := c.f.Span(h.Values[i])
		name := strings.ToLower(v)
		if !hostName.MatchString(name) {
			d := c.diags.Errorf(sp, CodeHost, "%q is not a host name", v)
			d.Hint = `write the host alone, without scheme or path: hosts "crm.example.com"`
			if rest, ok := strings.CutPrefix(name, "https://"); ok {
				rest, _, _ = strings.Cut(rest, "/")
				d.Hint = fmt.Sprintf("write the host alone: %q", rest)
			}
			continue
		}
		dup := false
		for _, prev := range c.info.Hosts {
			if prev.Name == name {
				c.diags.Errorf(sp, CodeHost, "host %s is listed twice (first at %s)", name, prev.Span)
				dup = true
			}
		}
		if !dup {
			c.info.Hosts = append(c.info.Hosts, Host{Name: name, Span: sp})
		}
	}
}

// Declared reports whether host (lower case, with its port if any) is
// one the flow's `hosts` header names.
func (info *Info) Declared(host string) bool {
	for _, h := range info.Hosts {
		if h.Name == host {
			return true
		}
	}
	return false
}

// URLHost is the host (with its port) of an http step's URL template,
// read from its literal text: the scheme and the host must be written
// out, never computed, so that check knows where the request goes. It
// returns the host's byte offsets within raw (the template as written,
// with its quotes) and why the URL is refused.
func URLHost(raw string) (host string, start, end int, err error) {
	s := raw
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	var scheme string
	switch {
	case strings.HasPrefix(s, "https://"):
		scheme = "https://"
	case strings.HasPrefix(s, "http://"):
		scheme = "http://"
	default:
		return "", 0, 0, fmt.Errorf("the URL must start with https:// (or http://) and a host written out")
	}
	rest := s[len(scheme):]
	n := strings.IndexAny(rest, "/?#")
	if n < 0 {
		n = len(rest)
	}
	h := rest[:n]
	start = 1 + len(scheme)
	end = start + len(h)
	if strings.Contains(h, "{{") || strings.Contains(h, "}}") {
		return "", start, end, fmt.Errorf("the URL's host must be written out, not computed ({{ }} may be used in its path and query)")
	}
	if strings.ContainsAny(h, "@\\") {
		return "", start, end, fmt.Errorf("the URL's host %q holds user information: write the host alone", h)
	}
	h = strings.ToLower(h)
	if hn, port, err := net.SplitHostPort(h); err == nil {
		if p, perr := strconv.Atoi(port); perr != nil || p < 1 || p > 65535 {
			return "", start, end, fmt.Errorf("bad port %q in the URL", port)
		}
		if hn == "" {
			return "", start, end, fmt.Errorf("the URL has no host")
		}
	} else if h == "" {
		return "", start, end, fmt.Errorf("the URL has no host")
	}
	return h, start, end, nil
}

var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
var secretRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// SecretName is what a `${NAME}` in an http header may name.
var SecretName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// HTTPHeaders splits an http step's `header` value: one or more
// "Name: value" lines; a value's `${NAME}` is a secret the server reads
// from its environment (FLOWC_SECRET_NAME), never written in the file.
func HTTPHeaders(s string) ([][2]string, error) {
	var out [][2]string
	for _, line := range strings.Split(s, "\n") {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !headerName.MatchString(name) {
			return nil, fmt.Errorf("header %q: want \"Name: value\" (one per line)", line)
		}
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection":
			return nil, fmt.Errorf("header %s is set by flowc, not by the flow", name)
		}
		if strings.ContainsAny(value, "\r\x00") {
			return nil, fmt.Errorf("header %s: control characters in its value", name)
		}
		for _, m := range secretRef.FindAllStringSubmatch(value, -1) {
			if !SecretName.MatchString(m[1]) {
				return nil, fmt.Errorf("header %s: secret ${%s}: a secret's name is upper case letters, digits and _ (FLOWC_SECRET_NAME in the environment)", name, m[1])
			}
		}
		if strings.Contains(value, "{{") {
			return nil, fmt.Errorf("header %s: a header holds text and ${SECRET}s, not {{ expressions }}", name)
		}
		out = append(out, [2]string{name, value})
	}
	return out, nil
}

// effectCommand checks the History issue's steps beyond their
// signature: http, field and untag.
func (c *checker) effectCommand(name string, b Bound) {
	switch name {
	case "http":
		c.httpCommand(b)
	case "field", "untag":
		if v := b.Positional[0]; v != nil && v.Type() == syntax.VString && strings.TrimSpace(v.Text()) == "" {
			c.diags.Errorf(c.f.Span(v), CodeArgs, "%s: the %s's name is empty", name, map[string]string{"field": "field", "untag": "tag"}[name])
		}
	}
}

// httpCommand checks an http step: its URL goes to a declared host, its
// headers are well formed, and it has one body at most.
func (c *checker) httpCommand(b Bound) {
	if u := b.Positional[1]; u != nil && u.Type() == syntax.VString {
		host, start, end, err := URLHost(u.Tok)
		at := syntax.Start(u)
		switch {
		case err != nil:
			sp := c.f.Span(u)
			if end > start {
				sp = c.f.Source.Span(at+start, at+end)
			}
			c.diags.Errorf(sp, CodeHost, "http: %v", err).Hint = `write the URL as "https://crm.example.com/path?q={{ expr }}"`
		case !c.info.Declared(host):
			sp := c.f.Source.Span(at+start, at+end)
			d := c.diags.Errorf(sp, CodeHost, "http: host %s is not declared in a hosts header", host)
			d.Hint = fmt.Sprintf("declare the hosts the flow may call at the top of the file: hosts %q", host)
			if len(c.info.Hosts) > 0 {
				var names []string
				for _, h := range c.info.Hosts {
					names = append(names, h.Name)
				}
				if s := Suggest(host, names); s != "" {
					DidYouMean(d, sp, host, s)
				} else {
					d.Hint = fmt.Sprintf("declared hosts: %s; add %q to the hosts header", strings.Join(names, ", "), host)
				}
			} else {
				d.Fixes = []diag.Fix{{Title: "declare the host", Edits: []diag.Edit{{Span: c.f.Source.Span(0, 0), New: fmt.Sprintf("hosts %q\n", host)}}}}
			}
		}
	}
	if v := b.Tags["header"]; v != nil {
		if _, err := HTTPHeaders(v.Text()); err != nil {
			c.diags.Errorf(c.f.Span(v), CodeArgs, "http: %v", err).Hint = `write header "Authorization: Bearer ${CRM_TOKEN}"`
		}
	}
	if b.Tags["json"] != nil && b.Tags["form"] != nil {
		c.diags.Errorf(c.f.Span(b.TagNames["form"]), CodeArgs, "http: a request has one body: json or form, not both")
	}
	if m := b.Positional[0]; m != nil && (m.Tok == "GET" || m.Tok == "DELETE") {
		for _, t := range []string{"json", "form"} {
			if b.Tags[t] != nil {
				c.diags.Errorf(c.f.Span(b.TagNames[t]), CodeArgs, "http: a %s request has no body", m.Tok).Hint = "use POST, PUT or PATCH to send a body"
			}
		}
	}
}

// tagWords reports how many of args are the tag's fixed words (`per` in
// `once per 12h`), and whether they are all there.
func tagWords(t *registry.Tag, args []*syntax.Value) (int, bool) {
	for k, w := range t.Words {
		if k >= len(args) || args[k].Type() != syntax.VIdent || args[k].Tok != w {
			return k, false
		}
	}
	return len(t.Words), true
}

// Duration is the value of a duration argument (`within 3s`, `once per
// 12h`), already checked.
func (i *Info) Duration(v *syntax.Value) time.Duration {
	d, _ := ParseDuration(v.Tok)
	return d
}
