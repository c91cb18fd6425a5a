package lsp

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/syntax"
)

// toLSPDiagnostic is d as the protocol has it: the hint joins the
// message (clients show one text), related spans become related
// information.
func toLSPDiagnostic(d diag.Diagnostic, snap *snapshot) lspDiagnostic {
	sev := sevWarning
	switch d.Severity {
	case diag.Error:
		sev = sevError
	case diag.Note:
		sev = sevInformation
	}
	msg := d.Message
	if d.Hint != "" {
		msg += "\nhint: " + d.Hint
	}
	out := lspDiagnostic{Range: lspRange(d.Span), Severity: sev, Code: d.Code, Source: "flowc", Message: msg}
	for _, r := range d.Related {
		if r.Span.Source == nil {
			continue
		}
		out.RelatedInformation = append(out.RelatedInformation, relatedInformation{
			Location: Location{URI: snap.uriOfName(r.Span.Source.Name), Range: lspRange(r.Span)}, Message: r.Message})
	}
	return out
}

// formatSource is `flowc fmt`'s formatting of a buffer: syntax.Format,
// refused when the text does not parse or when the result would parse to
// other statements.
func formatSource(name, text string) (string, error) {
	src := file.NewSource(name, text)
	f, diags := syntax.Parse(src)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == diag.Error {
				return "", rpcError(codeRequestFailed, "not formatted: %s: %s", d.Span, d.Message)
			}
		}
	}
	out := string(syntax.Format(f))
	g, d2 := syntax.Parse(file.NewSource(name, out))
	if d2.HasErrors() || syntax.Dump(g) != syntax.Dump(f) {
		return "", rpcError(codeRequestFailed, "not formatted: formatting %s would change its meaning (a flowc bug: please report it)", name)
	}
	return out, nil
}

func (s *Server) formatting(params json.RawMessage) (any, error) {
	var p documentFormattingParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap := s.ws.current()
	f := snap.byURI[p.TextDocument.URI]
	if f == nil {
		return nil, rpcError(codeRequestFailed, "%s is not a .flow file of the workspace, or is too large", p.TextDocument.URI)
	}
	out, err := formatSource(f.name, f.src.Text)
	if err != nil {
		return nil, err
	}
	if out == f.src.Text {
		return []textEdit{}, nil
	}
	whole := Range{End: lspPos(f.src, len(f.src.Text))}
	return []textEdit{{Range: whole, NewText: out}}, nil
}

func overlaps(a, b Range) bool {
	before := func(p, q Position) bool { return p.Line < q.Line || p.Line == q.Line && p.Character < q.Character }
	return !before(a.End, b.Start) && !before(b.End, a.Start)
}

func (s *Server) codeAction(params json.RawMessage) (any, error) {
	var p codeActionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	snap := s.ws.current()
	f := snap.byURI[p.TextDocument.URI]
	if f == nil {
		return []codeAction{}, nil
	}
	out := []codeAction{}
	// The diagnostics' own fixes, certain corrections made by the
	// checks (did-you-mean with one candidate, `=>` for `->`, …).
	for _, d := range snap.diags[f.uri] {
		ld := toLSPDiagnostic(d, snap)
		if !overlaps(ld.Range, p.Range) {
			continue
		}
		for _, fix := range d.Fixes {
			edit := workspaceEdit{Changes: map[string][]textEdit{}}
			for _, e := range fix.Edits {
				u := f.uri
				if e.Span.Source != nil && e.Span.Source != f.src {
					u = snap.uriOfName(e.Span.Source.Name)
				}
				edit.Changes[u] = append(edit.Changes[u], textEdit{Range: lspRange(e.Span), NewText: e.New})
			}
			out = append(out, codeAction{Title: fix.Title, Kind: "quickfix", Diagnostics: []lspDiagnostic{ld}, IsPreferred: len(d.Fixes) == 1, Edit: &edit})
		}
	}
	out = append(out, s.missingBranchActions(snap, f, p.Range)...)
	return out, nil
}

// missingBranchActions offer to add the else or timeout branch a menu,
// ask, run or when lacks, where the range touches its head or a
// flow/missing-branch diagnostic about it. The branch added ends the
// conversation (`end`): a decision written down, which the author then
// changes; flowc never guesses where the message should go.
func (s *Server) missingBranchActions(snap *snapshot, f *fileState, rg Range) []codeAction {
	var out []codeAction
	for _, d := range f.idx.Decisions {
		var diags []lspDiagnostic
		for _, dg := range snap.diags[f.uri] {
			if dg.Code == compiler.CodeMissing && dg.Span.Start >= d.Span.Start && dg.Span.Start <= d.Head.End {
				if ld := toLSPDiagnostic(dg, snap); overlaps(ld.Range, rg) {
					diags = append(diags, ld)
				}
			}
		}
		if len(diags) == 0 && !overlaps(lspRange(d.Head), rg) {
			continue
		}
		add := func(label, branch string) {
			e := branchEdit(f.src, d, branch)
			out = append(out, codeAction{Title: "Add the missing " + label + " branch", Kind: "quickfix", Diagnostics: diags,
				Edit: &workspaceEdit{Changes: map[string][]textEdit{f.uri: {e}}}})
		}
		switch d.Applet {
		case "menu":
			if !d.HasElse {
				add("else", "else -> end")
			}
			if !d.HasTimeout {
				add("timeout", "timeout 1h -> end")
			}
		case "ask":
			if !d.HasTimeout {
				add("timeout", "timeout 1h -> end")
			}
		case "run":
			if d.HasKeys && !d.HasElse {
				add("else", "else -> end")
			}
		case "when":
			if !d.HasElse {
				rng := lspRange(f.src.Span(d.Close+1, d.Close+1))
				out = append(out, codeAction{Title: "Add the missing else branch", Kind: "quickfix", Diagnostics: diags,
					Edit: &workspaceEdit{Changes: map[string][]textEdit{f.uri: {{Range: rng, NewText: " else end"}}}}})
			}
		}
	}
	return out
}

// branchEdit inserts branch into d's block: on a line of its own before
// the closing '>' when the block is written over lines, else before the
// '>' after a ';'; a block when there is none.
func branchEdit(src *file.Source, d Decision, branch string) textEdit {
	text := src.Text
	if !d.HasBlock {
		at := d.Span.End
		return textEdit{Range: lspRange(src.Span(at, at)), NewText: " < " + branch + " >"}
	}
	lineStart := strings.LastIndexByte(text[:d.Close], '\n') + 1
	if strings.TrimSpace(text[lineStart:d.Close]) == "" {
		indent := d.Indent
		if d.LastLine == 0 {
			indent = text[lineStart:d.Close] + "  "
		}
		return textEdit{Range: lspRange(src.Span(lineStart, lineStart)), NewText: fmt.Sprintf("%s%s\n", indent, branch)}
	}
	sep := "; "
	if d.Close > 0 && text[d.Close-1] != ' ' {
		sep = " ; "
	}
	return textEdit{Range: lspRange(src.Span(d.Close, d.Close)), NewText: sep + branch + " "}
}
