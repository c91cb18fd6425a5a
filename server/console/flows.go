package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/flowgraph"
)

// The flows pages (admins): the list, one flow (its versions, source,
// diagnostics and drawing), the diff of two versions, and rollback.

func (c *Console) flowsPage(w http.ResponseWriter, r *http.Request) {
	flows, err := c.b.Flows(r.Context())
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "flows.html", "Flows", flows)
}

// diagView is one diagnostic on the flow page.
type diagView struct {
	Severity string
	Code     string
	Message  string
	Hint     string
	Line     int
}

// gap is a dead end or a missing branch the drawing marks, listed too
// for whoever does not see the picture.
type gap struct {
	Label string
	Line  int
}

type flowView struct {
	Flow     string
	Versions []Version
	Version  Version // shown
	Active   string
	Lines    []srcLine
	Diags    []diagView
	Errors   int
	Warnings int
	Graph    template.HTML
	GraphErr string
	DeadEnds []gap
	Missing  []gap
	Flash    string
	CSRF     string
	File     string
	Timezone string
}

// versions is the flow's versions and the one the request names (the
// active one by default; a prefix of 8 or more characters names one).
func (c *Console) versions(w http.ResponseWriter, r *http.Request, flow string) ([]Version, bool) {
	vs, err := c.b.Versions(r.Context(), flow)
	if err != nil {
		c.storeFail(w, r, err)
		return nil, false
	}
	if len(vs) == 0 {
		c.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no flow named %q.", flow))
		return nil, false
	}
	return vs, true
}

// pick finds version v (or a prefix of it) among vs; "" is the active one.
func pick(vs []Version, v string) (Version, string) {
	if v == "" {
		for _, x := range vs {
			if x.Active {
				return x, ""
			}
		}
		return vs[0], ""
	}
	if len(v) < 8 {
		return Version{}, "a version is named by at least 8 of its characters"
	}
	var found []Version
	for _, x := range vs {
		if strings.HasPrefix(x.Version, v) {
			found = append(found, x)
		}
	}
	switch len(found) {
	case 0:
		return Version{}, "the flow has no version " + v
	case 1:
		return found[0], ""
	}
	return Version{}, "the version prefix " + v + " is ambiguous"
}

func activeOf(vs []Version) string {
	for _, v := range vs {
		if v.Active {
			return v.Version
		}
	}
	return ""
}

func (c *Console) flowPage(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	vs, ok := c.versions(w, r, flow)
	if !ok {
		return
	}
	v, msg := pick(vs, r.URL.Query().Get("version"))
	if msg != "" {
		c.fail(w, r, http.StatusNotFound, msg+".")
		return
	}
	p, err := c.b.Program(r.Context(), v.Version)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	fv := flowView{Flow: flow, Versions: vs, Version: v, Active: activeOf(vs), CSRF: session(r).CSRF, File: p.File, Timezone: p.Timezone}
	if rb := r.URL.Query().Get("rolledback"); rb != "" {
		fv.Flash = "Rolled back: version " + short(rb) + " is active."
	}
	fv.Lines = highlight(string(p.Source))
	c.diagnostics(&fv, p)
	g := flowgraph.Build(p)
	for _, n := range g.Nodes {
		switch n.Kind {
		case flowgraph.DeadEnd:
			fv.DeadEnds = append(fv.DeadEnds, gap{strings.ReplaceAll(n.Label, "\n", " "), n.Line})
		case flowgraph.Missing:
			fv.Missing = append(fv.Missing, gap{strings.ReplaceAll(n.Label, "\n", " "), n.Line})
		}
	}
	if fv.Graph, err = c.graphs.svg(r.Context(), v.Version, g); err != nil {
		c.log.Error("console: graph", "flow", flow, "version", v.Version, "error", err.Error())
		fv.GraphErr = "The drawing could not be made: " + err.Error()
	}
	c.render(w, r, http.StatusOK, "flow.html", "Flow "+flow, fv)
}

// diagnostics fills in `flowc check`'s findings for the version, and
// marks the lines they start on.
func (c *Console) diagnostics(fv *flowView, p *vm.Program) {
	byLine := map[int]string{}
	for _, d := range c.b.Diagnostics(p) {
		line := 0
		if d.Span.Source != nil {
			line = d.Span.Source.Pos(d.Span.Start).Line
		}
		sev := "warning"
		switch d.Severity {
		case diag.Error:
			sev = "error"
			fv.Errors++
		case diag.Note:
			sev = "note"
		default:
			fv.Warnings++
		}
		fv.Diags = append(fv.Diags, diagView{Severity: sev, Code: d.Code, Message: d.Message, Hint: d.Hint, Line: line})
		if byLine[line] != "error" {
			byLine[line] = sev
		}
	}
	for i := range fv.Lines {
		fv.Lines[i].Diag = byLine[fv.Lines[i].N]
	}
}

// MaxReplayDays bounds a replay's window (server.MaxDiffDays).
const MaxReplayDays = 90

type diffView struct {
	Flow     string
	Versions []Version
	A, B     Version
	Lines    []diffLine
	TooLong  bool
	Same     bool
	Added    int
	Removed  int
	// CanReplay: a is the active version, so recent messages can be
	// replayed through b (Backend.Replay); Replay is the answer.
	CanReplay bool
	Replay    *Replay
	ReplayErr string
}

// diffPage compares the sources of two versions (a: the older, default
// the active one; b: default the newest).
func (c *Console) diffPage(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	vs, ok := c.versions(w, r, flow)
	if !ok {
		return
	}
	q := r.URL.Query()
	a, msg := pick(vs, q.Get("a"))
	if msg != "" {
		c.fail(w, r, http.StatusNotFound, "a: "+msg+".")
		return
	}
	bq := q.Get("b")
	if bq == "" {
		bq = vs[0].Version
	}
	b, msg := pick(vs, bq)
	if msg != "" {
		c.fail(w, r, http.StatusNotFound, "b: "+msg+".")
		return
	}
	pa, err := c.b.Program(r.Context(), a.Version)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	pb, err := c.b.Program(r.Context(), b.Version)
	if err != nil {
		c.storeFail(w, r, err)
		return
	}
	dv := diffView{Flow: flow, Versions: vs, A: a, B: b}
	lines, ok := lineDiff(string(pa.Source), string(pb.Source))
	dv.TooLong = !ok
	dv.Same = ok && string(pa.Source) == string(pb.Source)
	for _, l := range lines {
		switch l.Op {
		case "add":
			dv.Added++
		case "del":
			dv.Removed++
		}
	}
	dv.Lines = lines
	dv.CanReplay = a.Active && b.Version != a.Version
	if dv.CanReplay && q.Get("replay") != "" {
		days, err := strconv.Atoi(q.Get("replay"))
		if err != nil || days < 1 || days > MaxReplayDays {
			c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("replay=%q: want a number of days from 1 to %d.", q.Get("replay"), MaxReplayDays))
			return
		}
		rp, err := c.b.Replay(r.Context(), b.Version, days)
		var refused *Refused
		switch {
		case errors.As(err, &refused):
			dv.ReplayErr = refused.Msg
		case err != nil:
			c.storeFail(w, r, err)
			return
		}
		dv.Replay = rp
	}
	c.render(w, r, http.StatusOK, "diff.html", "Diff of "+flow, dv)
}

// Refused is a request the backend turns down (a bad version prefix),
// with the HTTP status to answer.
type Refused struct {
	Code int
	Msg  string
}

func (e *Refused) Error() string { return e.Msg }

// rollback makes a stored version active again, with the admin API's
// rollback (Backend.Rollback).
func (c *Console) rollback(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	version := r.PostFormValue("version")
	err := c.b.Rollback(r.Context(), flow, version)
	var refused *Refused
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.fail(w, r, http.StatusNotFound, err.Error())
		return
	case errors.As(err, &refused):
		c.fail(w, r, refused.Code, refused.Msg)
		return
	case err != nil:
		var taken *store.NumberTakenError
		if errors.As(err, &taken) {
			c.fail(w, r, http.StatusConflict, err.Error())
			return
		}
		c.storeFail(w, r, err)
		return
	}
	c.log.Info("console: rollback", "flow", flow, "version", version, "user", session(r).Principal.User)
	http.Redirect(w, r, Base+"/flows/"+url.PathEscape(flow)+"?rolledback="+url.QueryEscape(version), http.StatusSeeOther)
}
