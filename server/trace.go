package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/vm"
)

// Bounds on what a message's stored execution record (its trace) holds.
// An applet's error text is whatever the applet threw: an 8 MB string
// once produced a 16 MiB record, stored, exported and served by the
// admin API. The record stays valid JSON, marked where it was cut.
const (
	// MaxTraceBytes bounds a stored trace's JSON.
	MaxTraceBytes = 64 << 10
	// MaxErrorBytes bounds each error text, step note and action in it
	// (and error texts logged or stored elsewhere: outbox last_error).
	MaxErrorBytes = 1 << 10
)

type traceStep struct {
	Loc  string `json:"loc"`
	Op   string `json:"op"`
	Note string `json:"note,omitempty"`
}

type traceRecord struct {
	Actions []string    `json:"actions"`
	Errors  []string    `json:"errors"`
	Flow    string      `json:"flow"`
	Steps   []traceStep `json:"steps"`
	Version string      `json:"version"`
}

// traceJSON is a run's execution record, at most MaxTraceBytes: each
// string clipped to MaxErrorBytes, then errors, actions and steps kept in
// that order of importance while they fit, the rest replaced by a final
// entry saying how many were left out ("trace truncated: N more steps").
func traceJSON(p *vm.Program, res *vm.Result) []byte {
	rec := traceRecord{Flow: clip(p.Name), Version: clip(p.Version), Actions: []string{}, Errors: []string{}, Steps: []traceStep{}}
	base, _ := json.Marshal(rec)
	// Room for the three truncation markers, each a short clipped-free string.
	const markers = 3 * 128
	room := MaxTraceBytes - len(base) - markers
	fits := func(v any) bool {
		b, _ := json.Marshal(v)
		if len(b)+1 > room { // +1: the comma
			return false
		}
		room -= len(b) + 1
		return true
	}
	for i, e := range res.Errors {
		if e = clip(e); !fits(e) {
			rec.Errors = append(rec.Errors, fmt.Sprintf("trace truncated: %d more errors", len(res.Errors)-i))
			break
		}
		rec.Errors = append(rec.Errors, e)
	}
	for i, a := range res.Actions {
		s := clip(a.String())
		if !fits(s) {
			rec.Actions = append(rec.Actions, fmt.Sprintf("trace truncated: %d more actions", len(res.Actions)-i))
			break
		}
		rec.Actions = append(rec.Actions, s)
	}
	for i, t := range res.Trace {
		st := traceStep{Loc: fmt.Sprintf("%s:%d:%d", clip(p.File), t.Loc.Line, t.Loc.Col), Op: strings.ToLower(t.Op.String()), Note: clip(t.Note)}
		if !fits(st) {
			rec.Steps = append(rec.Steps, traceStep{Op: "truncated", Note: fmt.Sprintf("trace truncated: %d more steps", len(res.Trace)-i)})
			break
		}
		rec.Steps = append(rec.Steps, st)
	}
	b, _ := json.Marshal(rec)
	return b
}

// clip bounds s to MaxErrorBytes (cut on a rune boundary), saying how
// much was cut.
func clip(s string) string {
	if len(s) <= MaxErrorBytes {
		return s
	}
	cut := MaxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

// clipErr is err's text, clipped: for logs and stored error columns.
func clipErr(err error) string { return clip(err.Error()) }
