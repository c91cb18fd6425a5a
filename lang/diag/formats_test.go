package diag_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// sample has one diagnostic of each severity, a hint, a multi-byte
// character before a column, measurements, related spans (one without
// a place) and fixes (a replacement, an insertion, one in another file).
func sample() diag.List {
	a := file.NewSource("dir/a.flow", "rply \"x\"\nreply \"é {{x}}\"\n")
	b := file.NewSource("dir/b.flow", "set y = 1\n")
	var l diag.List
	d := l.Errorf(a.Span(0, 4), "flow/applet", "unknown applet %q", "rply")
	d.Hint = `did you mean "reply"?`
	d.Related = []diag.Related{{Span: a.Span(9, 14), Message: "an applet of that name"}, {Message: "nowhere"}}
	d.Fixes = []diag.Fix{{Title: `replace with "reply"`, Edits: []diag.Edit{{Span: a.Span(0, 4), New: "reply"}}}}
	d = l.Warnf(a.Span(21, 22), "flow/variable", "variable %q is read, 50%% of paths: unset", "x")
	d.Fixes = []diag.Fix{{Title: "set it first", Edits: []diag.Edit{{Span: a.Span(21, 22), New: "y"}, {Span: b.Span(0, 0), New: "# set\n"}}}}
	l.Notef(a.Span(9, 25), "flow/sms-length", "reply: 9 characters, 1 segment").Data = map[string]any{"segments": 1}
	return l
}

// TestSARIFValidatesAgainstSchema validates flowc's SARIF against the
// OASIS SARIF 2.1.0 JSON schema (testdata/sarif-schema-2.1.0.json, from
// github.com/oasis-tcs/sarif-spec sarif-2.1/schema), for diagnostics and
// for an empty list.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	schemaFile, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uri and uri-reference too
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	abs := file.NewSource("/tmp/my flows/b.flow", "x\n")
	var absolute diag.List
	absolute.Warnf(abs.Span(0, 1), "flow/x", "x")
	for name, l := range map[string]diag.List{"diagnostics": sample(), "empty": nil, "absolute": absolute} {
		var b bytes.Buffer
		if err := diag.WriteSARIF(&b, l, "v1.2.3"); err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("%s: SARIF output does not validate: %v\n%s", name, err, b.String())
		}
		if name == "absolute" && !strings.Contains(b.String(), `"uri": "file:///tmp/my%20flows/b.flow"`) {
			t.Errorf("absolute path: %s", b.String())
		}
	}
	// The schema is not vacuous: a result with a level SARIF does not
	// know is rejected.
	bad := map[string]any{"version": "2.1.0", "runs": []any{map[string]any{
		"tool":    map[string]any{"driver": map[string]any{"name": "flowc"}},
		"results": []any{map[string]any{"message": map[string]any{"text": "x"}, "level": "fatal"}},
	}}}
	if schema.Validate(bad) == nil {
		t.Error("the schema accepted level \"fatal\"")
	}
}

func TestSARIFContent(t *testing.T) {
	var b bytes.Buffer
	if err := diag.WriteSARIF(&b, sample(), "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
				RelatedLocations []struct {
					ID               int
					Message          struct{ Text string }
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
				Fixes []struct {
					Description     struct{ Text string }
					ArtifactChanges []struct {
						ArtifactLocation struct{ URI string }
						Replacements     []struct {
							DeletedRegion struct {
								StartLine, StartColumn, EndLine, EndColumn int
								ByteOffset, ByteLength                     int
							}
							InsertedContent *struct{ Text string }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	r := log.Runs[0]
	if len(r.Results) != 3 {
		t.Fatalf("%d results, want 3", len(r.Results))
	}
	levels := []string{r.Results[0].Level, r.Results[1].Level, r.Results[2].Level}
	if strings.Join(levels, ",") != "error,warning,note" {
		t.Errorf("levels %v", levels)
	}
	res := r.Results[1]
	if r.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID || res.RuleID != "flow/variable" {
		t.Errorf("rule %q at index %d of %v", res.RuleID, res.RuleIndex, r.Tool.Driver.Rules)
	}
	loc := res.Locations[0].PhysicalLocation
	// {{x}}'s x: line 2, after `reply "é {{` (11 code points, 12 bytes).
	if loc.ArtifactLocation.URI != "dir/a.flow" || loc.Region.StartLine != 2 || loc.Region.StartColumn != 12 {
		t.Errorf("location %+v", loc)
	}
	if !strings.Contains(r.Results[0].Message.Text, `hint: did you mean "reply"?`) {
		t.Errorf("message %q lacks the hint", r.Results[0].Message.Text)
	}
	// The related span with a place, not the one without.
	rel := r.Results[0].RelatedLocations
	if len(rel) != 1 || rel[0].ID != 1 || rel[0].Message.Text != "an applet of that name" ||
		rel[0].PhysicalLocation.Region.StartLine != 2 || rel[0].PhysicalLocation.Region.EndColumn != 6 {
		t.Errorf("related locations %+v", rel)
	}
	fx := r.Results[1].Fixes
	if len(fx) != 1 || fx[0].Description.Text != "set it first" || len(fx[0].ArtifactChanges) != 2 {
		t.Fatalf("fixes %+v", fx)
	}
	ch := fx[0].ArtifactChanges[0]
	rep := ch.Replacements[0]
	// x is code point 12 of line 2 but byte 21 of the file (é is two).
	if ch.ArtifactLocation.URI != "dir/a.flow" || rep.DeletedRegion.StartColumn != 12 || rep.DeletedRegion.EndColumn != 13 ||
		rep.DeletedRegion.ByteOffset != 21 || rep.DeletedRegion.ByteLength != 1 || rep.InsertedContent == nil || rep.InsertedContent.Text != "y" {
		t.Errorf("replacement %+v in %s", rep, ch.ArtifactLocation.URI)
	}
	ins := fx[0].ArtifactChanges[1]
	if ins.ArtifactLocation.URI != "dir/b.flow" || ins.Replacements[0].DeletedRegion.StartColumn != ins.Replacements[0].DeletedRegion.EndColumn ||
		ins.Replacements[0].InsertedContent.Text != "# set\n" {
		t.Errorf("insertion %+v", ins)
	}
	if r.Results[0].Fixes[0].ArtifactChanges[0].Replacements[0].InsertedContent.Text != "reply" || r.Results[2].Fixes != nil {
		t.Errorf("fixes of results 0 and 2: %+v, %+v", r.Results[0].Fixes, r.Results[2].Fixes)
	}
}

// TestJSONFixesRoundTrip: related spans and fixes are in the JSON
// report, with ranges as the diagnostic's, and read back the same.
func TestJSONFixesRoundTrip(t *testing.T) {
	r := diag.Report(sample(), 2)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back diag.JSONReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	d := back.Diagnostics[1]
	if len(d.Fixes) != 1 || len(d.Fixes[0].Edits) != 2 {
		t.Fatalf("fixes %+v", d.Fixes)
	}
	e := d.Fixes[0].Edits[0]
	if e.File != "dir/a.flow" || e.New != "y" || e.Range.Start != (file.Pos{Offset: 21, Line: 2, Column: 12}) || e.Range.End.Offset != 22 {
		t.Errorf("edit %+v", e)
	}
	if e := d.Fixes[0].Edits[1]; e.File != "dir/b.flow" || e.Range.Start != e.Range.End {
		t.Errorf("insertion %+v", e)
	}
	rel := back.Diagnostics[0].Related
	if len(rel) != 2 || rel[0].Message != "an applet of that name" || rel[0].Range.Start.Line != 2 || rel[1].File != "" {
		t.Errorf("related %+v", rel)
	}
	for _, want := range []string{`"fixes":[{"title":"replace with \"reply\"","edits":[{"file":"dir/a.flow","range":{"start":{"offset":0,"line":1,"column":1},"end":{"offset":4,"line":1,"column":5}},"new":"reply"}]}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b[strings.Index(string(b), `"flow/sms-length"`):]), `"fixes"`) {
		t.Errorf("a diagnostic without fixes has a fixes field: %s", b)
	}
}

func TestGitHubAnnotations(t *testing.T) {
	var b bytes.Buffer
	diag.WriteGitHub(&b, sample())
	want := "::error file=dir/a.flow,line=1,col=1,endLine=1,endColumn=5,title=flow/applet::unknown applet \"rply\"%0Ahint: did you mean \"reply\"?\n" +
		"::warning file=dir/a.flow,line=2,col=12,endLine=2,endColumn=13,title=flow/variable::variable \"x\" is read, 50%25 of paths: unset\n" +
		"::notice file=dir/a.flow,line=2,col=1,endLine=2,endColumn=16,title=flow/sms-length::reply: 9 characters, 1 segment\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
