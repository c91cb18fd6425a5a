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
// character before a column, and measurements.
func sample() diag.List {
	a := file.NewSource("dir/a.flow", "rply \"x\"\nreply \"é {{x}}\"\n")
	var l diag.List
	l.Errorf(a.Span(0, 4), "flow/applet", "unknown applet %q", "rply").Hint = `did you mean "reply"?`
	l.Warnf(a.Span(21, 22), "flow/variable", "variable %q is read, 50%% of paths: unset", "x")
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
