// Package diag defines the diagnostics every flowc stage returns.
//
// Like HCL's hcl.Diagnostics, a stage never stops at the first problem: it
// returns a List of everything it found, each with a severity, a stable
// code (for editors, CI filters and docs), a message, the source range and
// an optional hint, related spans and machine-applicable fixes. The CLI
// renders a List as text in the style of rustc (WriteText), as one
// GNU-style line per diagnostic, as JSON (Report), SARIF or GitHub
// annotations; ApplyFixes applies the fixes to a file's text.
package diag

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/lang/file"
)

// Severity orders diagnostics: errors block compilation, warnings do
// not, notes are information (e.g. a branch that falls through) that no
// --fail-on level fails on.
type Severity int

const (
	Note Severity = iota - 1 // Warning stays the zero value
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Note:
		return "note"
	}
	return "warning"
}

// MarshalJSON writes the severity as "error" or "warning".
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "error", "warning" or "note", so that a JSONReport
// round-trips.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	case "note":
		*s = Note
	default:
		return fmt.Errorf("unknown severity %q", v)
	}
	return nil
}

// Diagnostic is one finding about a source range.
type Diagnostic struct {
	Severity Severity
	Code     string // stable, e.g. "flow/parse", "flow/number"
	Message  string
	Span     file.Span
	Hint     string // optional advice on how to fix it
	Data     any    // optional measurements, written into JSON and SARIF output
	// Related are secondary spans with a label of their own, such as a
	// duplicate's "first defined here".
	Related []Related
	// Fixes are machine-applicable corrections: each is certain to be
	// what the author meant (a did-you-mean with one close candidate,
	// `=>` for `->`), never a guess. `flowc check --fix` and the
	// language server's quick fixes apply them.
	Fixes []Fix
}

// Related is a secondary span of a diagnostic, with its own label.
type Related struct {
	Span    file.Span
	Message string
}

// Fix is one correction: a title for menus ("replace with \"reply\"")
// and the edits that make it, which never overlap.
type Fix struct {
	Title string
	Edits []Edit
}

// Edit replaces the text of Span with New (an empty span inserts).
type Edit struct {
	Span file.Span
	New  string
}

func (d Diagnostic) Error() string {
	return fmt.Sprintf("%s: %s: %s [%s]", d.Span, d.Severity, d.Message, d.Code)
}

// List is an ordered collection of diagnostics.
type List []Diagnostic

// Errorf appends an error.
func (l *List) Errorf(span file.Span, code, format string, args ...any) *Diagnostic {
	*l = append(*l, Diagnostic{Severity: Error, Code: code, Message: fmt.Sprintf(format, args...), Span: span})
	return &(*l)[len(*l)-1]
}

// Warnf appends a warning.
func (l *List) Warnf(span file.Span, code, format string, args ...any) *Diagnostic {
	*l = append(*l, Diagnostic{Severity: Warning, Code: code, Message: fmt.Sprintf(format, args...), Span: span})
	return &(*l)[len(*l)-1]
}

// Notef appends a note.
func (l *List) Notef(span file.Span, code, format string, args ...any) *Diagnostic {
	*l = append(*l, Diagnostic{Severity: Note, Code: code, Message: fmt.Sprintf(format, args...), Span: span})
	return &(*l)[len(*l)-1]
}

// AtLeast reports whether any diagnostic is of severity min or worse.
func (l List) AtLeast(min Severity) bool {
	for _, d := range l {
		if d.Severity >= min {
			return true
		}
	}
	return false
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings (notes are neither).
func (l List) Count() (errors, warnings int) {
	for _, d := range l {
		switch d.Severity {
		case Error:
			errors++
		case Warning:
			warnings++
		}
	}
	return
}

// Notes returns the number of notes.
func (l List) Notes() (n int) {
	for _, d := range l {
		if d.Severity == Note {
			n++
		}
	}
	return
}

// Sort orders by file, then position, then severity (errors first).
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		an, bn := name(a.Span), name(b.Span)
		if an != bn {
			return an < bn
		}
		if a.Span.Start != b.Span.Start {
			return a.Span.Start < b.Span.Start
		}
		return a.Severity > b.Severity
	})
}

func name(s file.Span) string {
	if s.Source == nil {
		return ""
	}
	return s.Source.Name
}

// Err returns the list as an error when it holds errors, else nil.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return ListError(l)
}

// ListError adapts a List to the error interface.
type ListError List

func (e ListError) Error() string {
	var b strings.Builder
	WriteText(&b, List(e), false)
	return strings.TrimRight(b.String(), "\n")
}

// JSONRange is a diagnostic's range in JSON output (1-based lines and
// columns, byte offsets), as LSP-minded editors want it.
type JSONRange struct {
	Start file.Pos `json:"start"`
	End   file.Pos `json:"end"`
}

// JSONDiagnostic is the JSON form of one diagnostic.
type JSONDiagnostic struct {
	File     string    `json:"file"`
	Severity Severity  `json:"severity"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Hint     string    `json:"hint,omitempty"`
	Range    JSONRange `json:"range"`
	// Data is a check's measurements, for tools: flow/sms-length
	// notes carry {"chars", "segments", "encoding", "exact"}.
	Data    any           `json:"data,omitempty"`
	Related []JSONRelated `json:"related,omitempty"`
	Fixes   []JSONFix     `json:"fixes,omitempty"`
}

// JSONRelated is a secondary span of a diagnostic ("first defined
// here"), in its file.
type JSONRelated struct {
	File    string    `json:"file"`
	Range   JSONRange `json:"range"`
	Message string    `json:"message"`
}

// JSONFix is a machine-applicable fix: its edits replace the text of
// each range (in file) with new; an empty range inserts.
type JSONFix struct {
	Title string     `json:"title"`
	Edits []JSONEdit `json:"edits"`
}

// JSONEdit is one edit of a JSONFix.
type JSONEdit struct {
	File  string    `json:"file"`
	Range JSONRange `json:"range"`
	New   string    `json:"new"`
}

func jsonRange(sp file.Span) JSONRange { return JSONRange{Start: sp.StartPos(), End: sp.EndPos()} }

// JSONReport is what `flowc check --format json` prints.
type JSONReport struct {
	Valid       bool             `json:"valid"`
	Files       int              `json:"files"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Notes       int              `json:"notes"`
	Diagnostics []JSONDiagnostic `json:"diagnostics"`
	// Replies measures every text the flows send, for `flowc check`.
	Replies []JSONReply `json:"replies,omitempty"`
}

// JSONReply is one reply, menu prompt or ask prompt measured as an SMS:
// characters, GSM-7 septets or UCS-2 units, encoding and segments, of
// the literal text; with {{ }} parts (exact false) a lower bound.
type JSONReply struct {
	File     string    `json:"file"`
	Range    JSONRange `json:"range"`
	Kind     string    `json:"kind"`
	Chars    int       `json:"chars"`
	Units    int       `json:"units"`
	Encoding string    `json:"encoding"`
	Segments int       `json:"segments"`
	Exact    bool      `json:"exact"`
}

// Report builds the JSON report for l over n files.
func Report(l List, files int) JSONReport {
	e, w := l.Count()
	r := JSONReport{Valid: e == 0, Files: files, Errors: e, Warnings: w, Notes: l.Notes(), Diagnostics: []JSONDiagnostic{}}
	for _, d := range l {
		jd := JSONDiagnostic{
			File: name(d.Span), Severity: d.Severity, Code: d.Code, Message: d.Message, Hint: d.Hint,
			Range: jsonRange(d.Span), Data: d.Data,
		}
		for _, rel := range d.Related {
			jd.Related = append(jd.Related, JSONRelated{File: name(rel.Span), Range: jsonRange(rel.Span), Message: rel.Message})
		}
		for _, f := range d.Fixes {
			jf := JSONFix{Title: f.Title, Edits: []JSONEdit{}}
			for _, e := range f.Edits {
				jf.Edits = append(jf.Edits, JSONEdit{File: name(e.Span), Range: jsonRange(e.Span), New: e.New})
			}
			jd.Fixes = append(jd.Fixes, jf)
		}
		r.Diagnostics = append(r.Diagnostics, jd)
	}
	return r
}
