package compiler

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// The History issue's steps: http (a run of a built-in applet, so that
// its `on error` branch is laid out as a run's), untag, field and the
// once-per-period reply.

func hosts(info *check.Info) []string {
	var out []string
	for _, h := range info.Hosts {
		out = append(out, h.Name)
	}
	return out
}

// OnceMark names a once-per-period reply by its text as written, so that
// the mark outlives a deploy that keeps the text.
func OnceMark(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return "reply:" + hex.EncodeToString(sum[:8])
}

// effect compiles one of this file's steps; it reports false for a
// command it does not know.
func (c *compiler) effect(cmd *syntax.Command, b check.Bound, sp, head file.Span) bool {
	switch cmd.Name.Value {
	case "http":
		c.http(cmd, b, head)
	case "untag":
		c.emit(vm.OpUntag, c.constant(b.Positional[0].Text()), sp)
	case "field":
		t, exprs := c.template(b.Positional[1])
		c.p.Fields = append(c.p.Fields, vm.FieldSet{Name: b.Positional[0].Text(), Template: t})
		pc := c.emit(vm.OpField, len(c.p.Fields)-1, sp)
		c.templateReads(pc, exprs, sp)
	case "reply":
		v := b.Tags["once"]
		if v == nil {
			return false
		}
		t, exprs := c.template(b.Positional[0])
		c.p.Onces = append(c.p.Onces, vm.Once{Template: t, Period: c.info.Duration(v), Mark: OnceMark(b.Positional[0].Tok)})
		pc := c.emit(vm.OpReplyOnce, len(c.p.Onces)-1, sp)
		c.templateReads(pc, exprs, sp)
	default:
		return false
	}
	return true
}

func (c *compiler) http(cmd *syntax.Command, b check.Bound, head file.Span) {
	h := &vm.HTTPSpec{Method: "GET", Body: -1}
	if v := b.Tags["json"]; v != nil {
		h.Body, h.Method = c.expr(v.Tok, syntax.Start(v), runtime.Value, c.f.Span(v)), "POST"
	}
	if v := b.Tags["form"]; v != nil {
		h.Body, h.Form, h.Method = c.expr(v.Tok, syntax.Start(v), runtime.Value, c.f.Span(v)), true, "POST"
	}
	if v := b.Positional[0]; v != nil {
		h.Method = v.Tok
	}
	if v := b.Tags["header"]; v != nil {
		h.Headers, _ = check.HTTPHeaders(v.Text()) // checked
	}
	if v := b.Tags["within"]; v != nil {
		h.Within = c.info.Duration(v)
	}
	t, exprs := c.template(b.Positional[1])
	h.URL = t
	c.p.Applets = append(c.p.Applets, vm.Applet{Name: "http", Path: h.Method + " " + b.Positional[1].Text(), HTTP: h})
	r := vm.RunCall{Applet: len(c.p.Applets) - 1, ErrorPC: -1}
	if v := b.Tags["as"]; v != nil {
		r.As = v.Tok
	}
	idx := len(c.p.Runs)
	c.p.Runs = append(c.p.Runs, r)
	pc := c.emit(vm.OpRun, idx, head)
	c.templateReads(pc, exprs, head)
	if h.Body >= 0 {
		c.noteReads(pc, h.Body, head)
	}
	c.runBranches(idx, r, cmd.Block, head)
}
