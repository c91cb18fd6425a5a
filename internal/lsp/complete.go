package lsp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr/builtin"

	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/runtime"
)

// Completion reads the text of the line before the cursor rather than
// the AST: while a line is being typed it does not parse, and the
// context ("after goto", "inside {{ }}") is plain from the text. The
// names offered come from the last analysis (sections, schedules,
// variables, declared applets), the registry and the directory.

var (
	afterGoto     = regexp.MustCompile(`\bgoto\s+([\w-]*)$`)
	afterTarget   = regexp.MustCompile(`\b(team|user):([\w-]*)$`)
	afterBy       = regexp.MustCompile(`\binbox\b.*\bby\s+([\w-]*)$`)
	afterRun      = regexp.MustCompile(`\brun\s+(\w*)$`)
	inHours       = regexp.MustCompile(`\bhours\(\s*["'` + "`" + `]([\w-]*)$`)
	afterDot      = regexp.MustCompile(`\b(\w+)\??\.(\w*)$`) // contact.na, contact.last_interaction?.us
	statementWord = regexp.MustCompile(`(?:^\s*|->\s*|\bthen\s+|\belse\s+|<\s*)([\w-]*)$`)
	conditionOpen = regexp.MustCompile(`\bwhen\b`)
	setOpen       = regexp.MustCompile(`\bset\s+\w+\s*=`)
	wordBefore    = regexp.MustCompile(`(\w*)$`)
)

func (s *Server) completion(params json.RawMessage) (any, error) {
	var p textDocumentPositionParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	// The context is the buffer as it is now; the names may come from
	// the last analysis, even if a change since has not been checked
	// yet: completion answers at once instead of waiting for a check.
	snap, text, ok := s.ws.latest(p.TextDocument.URI)
	f := snap.byURI[p.TextDocument.URI]
	if ok && f == nil { // opened since: wait for its first check
		snap = s.ws.current()
		f = snap.byURI[p.TextDocument.URI]
	}
	if !ok || f == nil {
		return nil, rpcError(codeRequestFailed, "%s is not an open .flow document of the workspace, or is too large", p.TextDocument.URI)
	}
	src := file.NewSource(f.name, text)
	off := offsetOf(src, p.Position)
	line := src.Pos(off).Line
	before := src.Text[src.Offset(line, 1):off]
	return completionList{Items: complete(f, before)}, nil
}

// complete is the completion at the end of before, the text of the line
// up to the cursor.
func complete(f *fileState, before string) []completionItem {
	if m := inHours.FindStringSubmatch(before); m != nil {
		return names(f.idx, RefSchedule, kindConstant, "schedule")
	}
	inExpr, inString := scanLine(before)
	if inString {
		return nil // literal text: nothing to complete
	}
	if inExpr {
		if m := afterDot.FindStringSubmatch(before); m != nil {
			return fieldsOf(f, m[1])
		}
		return exprNames(f)
	}
	if m := afterTarget.FindStringSubmatch(before); m != nil {
		return targets(f, m[1])
	}
	if afterGoto.MatchString(before) {
		return names(f.idx, RefSection, kindModule, "section")
	}
	if afterBy.MatchString(before) {
		var out []completionItem
		for _, st := range registry.Strategies {
			out = append(out, completionItem{Label: st, Kind: kindEnum, Detail: "inbox strategy"})
		}
		return out
	}
	if afterRun.MatchString(before) {
		var out []completionItem
		for _, r := range f.idx.Refs {
			if r.Kind == RefApplet && r.Def {
				out = append(out, completionItem{Label: r.Name, Kind: kindFunction, Detail: "applet " + f.info.Applets[r.Name].File,
					InsertText: r.Name + "(${1:body})", InsertTextFormat: formatSnippet})
			}
		}
		return out
	}
	if statementWord.MatchString(before) {
		return statementItems(strings.TrimSpace(before) == wordBefore.FindString(before), f.info != nil && f.info.IsVoice())
	}
	if m := afterTargetApplet.FindStringSubmatch(before); m != nil {
		if a, ok := registry.Lookup(m[1]); ok && len(a.Params) > 0 && a.Params[0].Kinds&registry.Target != 0 {
			return targetItems(f, a.Params[0].Targets)
		}
	}
	return tagItems(before)
}

// afterTargetApplet is an applet name and a space, before its first
// argument: `inbox |`.
var afterTargetApplet = regexp.MustCompile(`(?:^\s*|->\s*|\bthen\s+|\belse\s+|<\s*)([a-z]+)\s+$`)

// targetItems are the whole targets an applet's first argument can be:
// team:NAME and user:NAME from the directory, or the kind alone
// (email:, webhook:).
func targetItems(f *fileState, kinds []string) []completionItem {
	var out []completionItem
	for _, k := range kinds {
		if (k == "team" || k == "user") && f.dir != nil && f.dir.d != nil {
			for _, it := range targets(f, k) {
				it.Label = k + ":" + it.Label
				out = append(out, it)
			}
			continue
		}
		out = append(out, completionItem{Label: k + ":", Kind: kindKeyword, InsertText: k + `:"$1"`, InsertTextFormat: formatSnippet})
	}
	return out
}

// scanLine reports whether the end of before is inside expression text
// (an open {{ in a string, a when's condition before its '<', the right
// side of set NAME =, or open parentheses) or inside the literal text of
// a string.
func scanLine(before string) (inExpr, inString bool) {
	quote, braces, parens := false, false, 0
	for i := 0; i < len(before); i++ {
		c := before[i]
		switch {
		case quote && c == '\\':
			i++
		case c == '"' && !braces:
			quote = !quote
		case quote && strings.HasPrefix(before[i:], "{{"):
			braces = true
			i++
		case braces && strings.HasPrefix(before[i:], "}}"):
			braces = false
			i++
		case !quote && c == '(':
			parens++
		case !quote && c == ')':
			parens = max(parens-1, 0)
		}
	}
	if braces || parens > 0 {
		return true, false
	}
	if quote {
		return false, true
	}
	if loc := conditionOpen.FindStringIndex(before); loc != nil && !strings.Contains(before[loc[1]:], "<") {
		return true, false
	}
	return setOpen.MatchString(before), false
}

func names(x *Index, k RefKind, kind int, detail string) []completionItem {
	var out []completionItem
	seen := map[string]bool{}
	for _, r := range x.Refs {
		if r.Kind == k && r.Def && !seen[r.Name] {
			seen[r.Name] = true
			item := completionItem{Label: r.Name, Kind: kind, Detail: detail}
			if k == RefSchedule {
				item.Detail = "schedule " + x.Schedules[r.Name]
			}
			out = append(out, item)
		}
	}
	return out
}

// envFields are the names an expression reads at the top level, with
// the Go type of each (from runtime.Env's expr tags).
func structFields(t reflect.Type) []completionItem {
	var out []completionItem
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("expr")
		if tag == "" || tag == "-" {
			continue
		}
		out = append(out, completionItem{Label: tag, Kind: kindField, Detail: runtime.TypeName(t.Field(i).Type.String())})
	}
	return out
}

func exprNames(f *fileState) []completionItem {
	out := names(f.idx, RefVariable, kindVariable, "variable")
	out = append(out, structFields(reflect.TypeOf(runtime.Env{}))...)
	out = append(out,
		completionItem{Label: "hours", Kind: kindFunction, Detail: "hours(\"SCHEDULE or SPEC\"): open now?", InsertText: "hours(\"$1\")", InsertTextFormat: formatSnippet},
		completionItem{Label: "holiday", Kind: kindFunction, Detail: "holiday(): a declared holiday today?", InsertText: "holiday()", InsertTextFormat: formatPlain},
		completionItem{Label: "list", Kind: kindFunction, Detail: "list(\"NAME\"): the operator's list, for `from in list(\"blocked\")`", InsertText: "list(\"$1\")", InsertTextFormat: formatSnippet},
	)
	for _, n := range builtin.Names {
		out = append(out, completionItem{Label: n, Kind: kindFunction, Detail: "expr-lang builtin", InsertText: n + "($1)", InsertTextFormat: formatSnippet, SortText: "z" + n})
	}
	return out
}

func fieldsOf(f *fileState, owner string) []completionItem {
	switch owner {
	case "contact":
		return structFields(reflect.TypeOf(runtime.Contact{}))
	case "message":
		return structFields(reflect.TypeOf(runtime.Message{}))
	case "number":
		return structFields(reflect.TypeOf(runtime.Number{}))
	case "last_interaction":
		return structFields(reflect.TypeOf(runtime.Interaction{}))
	case "campaign":
		return structFields(reflect.TypeOf(runtime.Campaign{}))
	case "vars":
		return names(f.idx, RefVariable, kindVariable, "variable")
	}
	return nil
}

func targets(f *fileState, kind string) []completionItem {
	if f.dir == nil || f.dir.d == nil {
		return nil
	}
	var out []completionItem
	if kind == "team" {
		for _, t := range f.dir.d.Teams {
			out = append(out, completionItem{Label: t.Name, Kind: kindReference, Detail: fmt.Sprintf("team: %s", strings.Join(t.Members, ", "))})
		}
		return out
	}
	for _, u := range f.dir.d.Users {
		out = append(out, completionItem{Label: u.Name, Kind: kindReference, Detail: "user " + u.Email})
	}
	return out
}

// statementItems are the applets of the file's channel (a call flow's
// when voice), with snippets of their arguments, and at the start of a
// line the keywords that begin one.
func statementItems(lineStart, voice bool) []completionItem {
	var out []completionItem
	for _, a := range registry.All() {
		if a.Channel == registry.SMS && voice || a.Channel == registry.Voice && !voice {
			continue // check's flow/channel error
		}
		out = append(out, completionItem{Label: a.Name, Kind: kindFunction, Detail: a.Summary,
			Documentation: &markupContent{Kind: "markdown", Value: appletDoc(a)},
			InsertText:    AppletSnippet(a), InsertTextFormat: formatSnippet})
	}
	kw := []string{"when", "set"}
	if lineStart {
		kw = append(kw, "section", "flow", "numbers", "timezone", "schedule", "holidays", "applet", "help", "hosts", "channel")
	}
	for _, k := range kw {
		out = append(out, completionItem{Label: k, Kind: kindKeyword})
	}
	return out
}

// AppletSnippet is an applet call with a tab stop for each required
// argument and tag, and the block a menu needs.
func AppletSnippet(a *registry.Applet) string {
	var b strings.Builder
	b.WriteString(a.Name)
	n := 1
	stop := func(p registry.Param) {
		b.WriteByte(' ')
		switch {
		case p.Kinds&(registry.String|registry.Template) != 0:
			fmt.Fprintf(&b, "\"${%d:%s}\"", n, p.Name)
		case p.Kinds&registry.Target != 0:
			fmt.Fprintf(&b, "${%d|%s|}:${%d:name}", n, strings.Join(p.Targets, ","), n+1)
			n++
		case p.Kinds&registry.Call != 0:
			fmt.Fprintf(&b, "${%d:name}(${%d:args})", n, n+1)
			n++
		case p.Kinds&registry.Duration != 0:
			fmt.Fprintf(&b, "${%d:10m}", n)
		case p.Kinds&registry.Number != 0:
			fmt.Fprintf(&b, "${%d:1}", n)
		default:
			fmt.Fprintf(&b, "${%d:%s}", n, p.Name)
		}
		n++
	}
	for _, p := range a.Params {
		if !p.Optional || p.Kinds&registry.Template != 0 {
			stop(p)
		}
	}
	for _, t := range a.Tags {
		if t.Required {
			b.WriteString(" " + t.Name)
			stop(t.Value)
		}
	}
	if a.Block.Required {
		b.WriteString(" <\n\t$0\n>")
	}
	return b.String()
}

var commandWord = regexp.MustCompile(`(?:^\s*|->\s*|\bthen\s+|\belse\s+|<\s*)([a-z]+)\b[^;]*$`)

// tagItems are the tags of the applet the line is calling that it does
// not use yet.
func tagItems(before string) []completionItem {
	m := commandWord.FindStringSubmatch(before)
	if m == nil {
		return nil
	}
	a, ok := registry.Lookup(m[1])
	if !ok {
		return nil
	}
	var out []completionItem
	used := strings.Fields(before)
	for _, t := range a.Tags {
		if containsWord(used, t.Name) {
			continue
		}
		out = append(out, completionItem{Label: t.Name, Kind: kindKeyword, Detail: t.Doc,
			InsertText: t.Name + " ${1:" + t.Value.Name + "}", InsertTextFormat: formatSnippet})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

func containsWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}
