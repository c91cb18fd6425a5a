package lsp

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/schedule"
)

// at resolves a request's document and position against the current
// analysis. A document the analysis does not have (not open, not a .flow
// file of the workspace) is an error naming it.
func (s *Server) at(p textDocumentPositionParams) (*snapshot, *fileState, int, error) {
	snap := s.ws.current()
	f := snap.byURI[p.TextDocument.URI]
	if f == nil {
		return nil, nil, 0, rpcError(codeRequestFailed, "%s is not a .flow file of the workspace, or is too large", p.TextDocument.URI)
	}
	return snap, f, offsetOf(f.src, p.Position), nil
}

// refAt is the indexed name under offset off (a cursor just past a name
// is on it, as editors place it after a double-click).
func refAt(x *Index, off int) *Ref {
	for i := range x.Refs {
		r := &x.Refs[i]
		if r.Span.Start <= off && off <= r.Span.End {
			return r
		}
	}
	return nil
}

func (s *Server) hover(params json.RawMessage) (any, error) {
	var p textDocumentPositionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap, f, off, err := s.at(p)
	if err != nil {
		return nil, err
	}
	if r := refAt(f.idx, off); r != nil {
		if text := s.hoverRef(snap, f, r); text != "" {
			rg := lspRange(r.Span)
			return hover{Contents: markupContent{Kind: "markdown", Value: text}, Range: &rg}, nil
		}
	}
	for _, sp := range f.idx.Specs {
		if sp.Span.Start <= off && off <= sp.Span.End {
			if sched, err := schedule.Parse(sp.Name); err == nil {
				rg := lspRange(sp.Span)
				return hover{Contents: markupContent{Kind: "markdown", Value: "**hours**: " + HoursInWords(sched, f.info.Timezone.String(), f.info.Holidays)}, Range: &rg}, nil
			}
		}
	}
	for _, rep := range snap.replies {
		if rep.Span.Source == f.src && rep.Span.Start <= off && off < rep.Span.End {
			rg := lspRange(rep.Span)
			return hover{Contents: markupContent{Kind: "markdown", Value: replyWords(rep.Kind, rep.Chars, rep.Units, rep.Encoding, rep.Segments, rep.Exact)}, Range: &rg}, nil
		}
	}
	return nil, nil
}

func replyWords(kind string, chars, units int, enc string, segments int, exact bool) string {
	unit := "GSM-7 septets"
	if enc == "UCS2" {
		unit = "UCS-2 units"
	}
	s := fmt.Sprintf("**%s text**: %d characters (%d %s), sent as %d SMS segment%s", kind, chars, units, unit, segments, plural(segments))
	if !exact {
		s += "\n\nat least: the `{{ }}` parts are counted as empty, and a value outside GSM-7 (an emoji in a name) makes the whole text UCS-2"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (s *Server) hoverRef(snap *snapshot, f *fileState, r *Ref) string {
	switch r.Kind {
	case RefCommand:
		a, ok := registry.Lookup(r.Name)
		if !ok {
			return ""
		}
		return appletDoc(a)
	case RefApplet:
		decl, ok := f.info.Applets[r.Name]
		if !ok {
			return fmt.Sprintf("JavaScript applet `%s`: not declared in this file (`applet %s = \"file.js\"`)", r.Name, r.Name)
		}
		return fmt.Sprintf("**applet %s**: JavaScript in `%s`, called with `run %s(…)`", r.Name, decl.Path, r.Name)
	case RefSchedule:
		sched, ok := f.info.Schedules[r.Name]
		if !ok {
			return fmt.Sprintf("**schedule %s**: not declared in this file", r.Name)
		}
		return fmt.Sprintf("**schedule %s**: %s", r.Name, HoursInWords(sched, f.info.Timezone.String(), f.info.Holidays))
	case RefVariable:
		var lines []string
		for _, d := range f.idx.Refs {
			if d.Kind == RefVariable && d.Def && d.Name == r.Name {
				pos := d.Span.StartPos()
				lines = append(lines, fmt.Sprintf("- line %d: `%s`", pos.Line, strings.TrimSpace(f.src.Line(pos.Line))))
			}
		}
		if len(lines) == 0 {
			return ""
		}
		return fmt.Sprintf("**variable %s**, set at:\n\n%s", r.Name, strings.Join(lines, "\n"))
	case RefSection:
		for _, d := range f.idx.Refs {
			if d.Kind == RefSection && d.Def && d.Name == r.Name {
				n := 0
				for _, u := range f.idx.Refs {
					if u.Kind == RefSection && !u.Def && u.Name == r.Name {
						n++
					}
				}
				return fmt.Sprintf("**section %s**, line %d; %d `goto %s`", r.Name, d.Span.StartPos().Line, n, r.Name)
			}
		}
		return fmt.Sprintf("**section %s**: no such section in this file", r.Name)
	case RefTeam, RefUser:
		return directoryHover(f.dir, r.Kind, r.Name)
	}
	return ""
}

func directoryHover(di *dirInfo, kind RefKind, name string) string {
	if di == nil {
		return fmt.Sprintf("**%s:%s**: there is no %s beside this file", kind, name, "directory.json")
	}
	if di.d == nil {
		return fmt.Sprintf("**%s:%s**: %s is not valid, so targets are not known", kind, name, di.name)
	}
	d := di.d
	if kind == RefTeam {
		t, ok := d.Team(name)
		if !ok {
			return fmt.Sprintf("**team:%s**: no such team in %s", name, di.name)
		}
		var ms []string
		for _, m := range t.Members {
			u, ok := d.User(m)
			switch {
			case !ok:
				ms = append(ms, fmt.Sprintf("- %s (not a user of the directory)", m))
			case !u.IsAvailable():
				ms = append(ms, fmt.Sprintf("- %s (unavailable)", m))
			default:
				ms = append(ms, "- "+m)
			}
		}
		if len(ms) == 0 {
			return fmt.Sprintf("**team:%s** (%s): no members: its inbox items reach nobody", name, di.name)
		}
		return fmt.Sprintf("**team:%s** (%s), %d member%s:\n\n%s", name, di.name, len(t.Members), plural(len(t.Members)), strings.Join(ms, "\n"))
	}
	u, ok := d.User(name)
	if !ok {
		return fmt.Sprintf("**user:%s**: no such user in %s", name, di.name)
	}
	var teams []string
	for _, t := range d.Teams {
		for _, m := range t.Members {
			if m == name {
				teams = append(teams, t.Name)
			}
		}
	}
	out := fmt.Sprintf("**user:%s** (%s)", name, di.name)
	if u.Email != "" {
		out += ", " + u.Email
	}
	if !u.IsAvailable() {
		out += ", unavailable"
	}
	if len(teams) > 0 {
		out += "; in " + strings.Join(teams, ", ")
	}
	return out
}

// appletDoc is an applet's documentation from the registry, as hover and
// completion show it.
func appletDoc(a *registry.Applet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**: %s\n\n```flowc\n%s\n```\n", a.Name, a.Summary, a.Syntax)
	for _, p := range a.Params {
		opt := ""
		if p.Optional {
			opt = " (optional)"
		}
		fmt.Fprintf(&b, "\n- `%s`%s", p.Name, opt)
		if p.Doc != "" {
			b.WriteString(": " + p.Doc)
		}
	}
	for _, t := range a.Tags {
		fmt.Fprintf(&b, "\n- `%s %s`", t.Name, strings.ToUpper(t.Value.Name))
		if len(t.Value.Enum) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(t.Value.Enum, ", "))
		}
		if t.Doc != "" {
			b.WriteString(": " + t.Doc)
		}
	}
	if a.Example != "" {
		fmt.Fprintf(&b, "\n\nExample: `%s`", a.Example)
	}
	return b.String()
}

// HoursInWords renders a schedule for people: "Mon–Fri 09:00–17:30,
// Sat 10:00–14:00, America/New_York; closed on 2026-12-25".
func HoursInWords(s *schedule.Schedule, zone string, holidays []string) string {
	var clauses []string
	for _, c := range strings.Split(s.String(), ", ") {
		days, hours, ok := strings.Cut(c, " ")
		if !ok {
			clauses = append(clauses, "daily "+strings.ReplaceAll(days, "-", "–"))
			continue
		}
		ds := strings.Split(days, "-")
		for i, d := range ds {
			ds[i] = strings.ToUpper(d[:1]) + d[1:]
		}
		clauses = append(clauses, strings.Join(ds, "–")+" "+strings.ReplaceAll(hours, "-", "–"))
	}
	out := strings.Join(clauses, ", ") + ", " + zone
	if len(holidays) > 0 {
		hs := append([]string(nil), holidays...)
		sort.Strings(hs)
		out += "; closed on " + strings.Join(hs, ", ")
	}
	return out
}

// appletFile is the slash path in the root of the .js file of applet
// decl name in f, "" when unknown.
func appletFile(f *fileState, name string) string {
	decl, ok := f.info.Applets[name]
	if !ok || decl.File == "" || f.name == "" || path.IsAbs(f.name) {
		return ""
	}
	return path.Join(path.Dir(f.name), decl.File)
}
