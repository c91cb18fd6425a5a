package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/lang/file"
)

// WriteGitHub renders diagnostics as GitHub Actions workflow commands,
// one line each, which the runner turns into annotations on the pull
// request:
//
//	::error file=a.flow,line=3,col=1,endLine=3,endColumn=5,title=flow/applet::unknown applet "rply"
//
// Notes become ::notice. The hint is appended to the message after a
// newline (escaped as %0A, as the runner wants).
func WriteGitHub(w io.Writer, l List) {
	for _, d := range l {
		level := "warning"
		switch d.Severity {
		case Error:
			level = "error"
		case Note:
			level = "notice"
		}
		msg := d.Message
		if d.Hint != "" {
			msg += "\nhint: " + d.Hint
		}
		props := []string{"file=" + ghProperty(filepath.ToSlash(name(d.Span)))}
		if d.Span.IsValid() {
			s, e := d.Span.StartPos(), d.Span.EndPos()
			props = append(props, fmt.Sprintf("line=%d", s.Line), fmt.Sprintf("col=%d", s.Column),
				fmt.Sprintf("endLine=%d", e.Line), fmt.Sprintf("endColumn=%d", e.Column))
		}
		props = append(props, "title="+ghProperty(d.Code))
		fmt.Fprintf(w, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
	}
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), the
// subset code-scanning tools read: one run, the rules seen, one result
// per diagnostic. Columns are counted in Unicode code points, as flowc
// counts them everywhere.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri,omitempty"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID      string `json:"id"`
		HelpURI string `json:"helpUri,omitempty"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID           string          `json:"ruleId"`
		RuleIndex        int             `json:"ruleIndex"`
		Level            string          `json:"level"`
		Message          sarifMessage    `json:"message"`
		Locations        []sarifLocation `json:"locations,omitempty"`
		RelatedLocations []sarifLocation `json:"relatedLocations,omitempty"`
		Fixes            []sarifFix      `json:"fixes,omitempty"`
		Properties       map[string]any  `json:"properties,omitempty"`
	}
	sarifLocation struct {
		ID               *int          `json:"id,omitempty"`
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
		Message          *sarifMessage `json:"message,omitempty"`
	}
	// A fix is its description and, per file, the replacements: each
	// deletes a region (empty for an insertion) and inserts a text.
	sarifFix struct {
		Description     sarifMessage          `json:"description"`
		ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
	}
	sarifArtifactChange struct {
		ArtifactLocation sarifArtifact      `json:"artifactLocation"`
		Replacements     []sarifReplacement `json:"replacements"`
	}
	sarifReplacement struct {
		DeletedRegion   sarifRegion   `json:"deletedRegion"`
		InsertedContent *sarifMessage `json:"insertedContent,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
		// The byte range too, in a fix's deleted region: a tool applying
		// it need not count code points.
		ByteOffset *int `json:"byteOffset,omitempty"`
		ByteLength *int `json:"byteLength,omitempty"`
	}
)

// fileURI is a file name as a SARIF artifact URI: a relative reference
// for a relative path (resolved against the directory check ran in), a
// file:// URI for an absolute one; spaces and the like are escaped.
func fileURI(name string) string {
	slash := filepath.ToSlash(name)
	if filepath.IsAbs(name) {
		if !strings.HasPrefix(slash, "/") {
			slash = "/" + slash // C:/x → /C:/x
		}
		return (&url.URL{Scheme: "file", Path: slash}).String()
	}
	return (&url.URL{Path: slash}).String()
}

// codesURI documents every diagnostic code.
const codesURI = "https://github.com/flowc-dev/flowc/blob/main/docs/language.md#diagnostic-codes"

// sarifLoc is the location of span sp, which has a source.
func sarifLoc(sp file.Span) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(name(sp))}}}
	if sp.IsValid() {
		r := sarifRegionOf(sp)
		loc.PhysicalLocation.Region = &r
	}
	return loc
}

func sarifRegionOf(sp file.Span) sarifRegion {
	s, e := sp.StartPos(), sp.EndPos()
	return sarifRegion{StartLine: s.Line, StartColumn: s.Column, EndLine: e.Line, EndColumn: e.Column}
}

// sarifFixOf is fix f in SARIF: one artifact change per file, in the
// order the edits name them. A fix with an edit without a place is left
// out (ok false).
func sarifFixOf(f Fix) (sarifFix, bool) {
	sf := sarifFix{Description: sarifMessage{Text: f.Title}, ArtifactChanges: []sarifArtifactChange{}}
	if sf.Description.Text == "" {
		sf.Description.Text = "apply this fix"
	}
	at := map[string]int{}
	for _, e := range f.Edits {
		n := name(e.Span)
		if n == "" {
			return sarifFix{}, false
		}
		i, ok := at[n]
		if !ok {
			i = len(sf.ArtifactChanges)
			at[n] = i
			sf.ArtifactChanges = append(sf.ArtifactChanges, sarifArtifactChange{ArtifactLocation: sarifArtifact{URI: fileURI(n)}})
		}
		region := sarifRegionOf(e.Span)
		off, n2 := e.Span.Start, e.Span.End-e.Span.Start
		region.ByteOffset, region.ByteLength = &off, &n2
		rep := sarifReplacement{DeletedRegion: region}
		if e.New != "" {
			rep.InsertedContent = &sarifMessage{Text: e.New}
		}
		sf.ArtifactChanges[i].Replacements = append(sf.ArtifactChanges[i].Replacements, rep)
	}
	return sf, len(sf.ArtifactChanges) > 0
}

// WriteSARIF renders l as a SARIF 2.1.0 log; version is flowc's.
func WriteSARIF(w io.Writer, l List, version string) error {
	rules := map[string]bool{}
	for _, d := range l {
		rules[d.Code] = true
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{Name: "flowc", InformationURI: "https://github.com/flowc-dev/flowc", Version: version, Rules: []sarifRule{}}
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, sarifRule{ID: id, HelpURI: codesURI})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, ColumnKind: "unicodeCodePoints", Results: []sarifResult{}}
	for _, d := range l {
		level := "warning"
		switch d.Severity {
		case Error:
			level = "error"
		case Note:
			level = "note"
		}
		msg := d.Message
		if d.Hint != "" {
			msg += "\nhint: " + d.Hint
		}
		r := sarifResult{RuleID: d.Code, RuleIndex: index[d.Code], Level: level, Message: sarifMessage{Text: msg}}
		if n := name(d.Span); n != "" {
			r.Locations = []sarifLocation{sarifLoc(d.Span)}
		}
		for i, rel := range d.Related {
			if name(rel.Span) == "" {
				continue // SARIF wants a place; the text output keeps it as a note
			}
			loc := sarifLoc(rel.Span)
			id := i + 1
			loc.ID = &id
			if rel.Message != "" {
				loc.Message = &sarifMessage{Text: rel.Message}
			}
			r.RelatedLocations = append(r.RelatedLocations, loc)
		}
		for _, f := range d.Fixes {
			if sf, ok := sarifFixOf(f); ok {
				r.Fixes = append(r.Fixes, sf)
			}
		}
		if d.Data != nil {
			r.Properties = map[string]any{"data": d.Data}
		}
		run.Results = append(run.Results, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Schema:  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}
