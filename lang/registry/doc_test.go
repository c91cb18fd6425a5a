package registry_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
)

var update = flag.Bool("update", false, "rewrite the generated sections of docs/language.md")

const docPath = "../../docs/language.md"

// TestLanguageDoc keeps docs/language.md in sync with the code: the
// sections between `<!-- BEGIN GENERATED: NAME … -->` and
// `<!-- END GENERATED: NAME -->` are generated from the registry (every
// applet) and from syntax.Grammar() (the EBNF, verbatim). `go generate
// ./lang/registry` (or this test with -update) rewrites them.
func TestLanguageDoc(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	out := doc
	for _, s := range []struct{ name, body string }{
		{"applets", appletsSection()},
		{"grammar", "```ebnf\n" + syntax.Grammar() + "\n```\n"},
	} {
		out, err = replaceSection(out, s.name, s.body)
		if err != nil {
			t.Fatal(err)
		}
	}
	if out != doc {
		if *update {
			if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("docs/language.md is out of date with the registry or the grammar: run go generate ./lang/registry")
	}
}

// TestLanguageDocListsEveryApplet: a heading and the syntax line for each
// applet in registry.All().
func TestLanguageDocListsEveryApplet(t *testing.T) {
	doc := readDoc(t)
	for _, a := range registry.All() {
		for _, want := range []string{"### `" + a.Name + "`", a.Syntax, a.Example} {
			if !strings.Contains(doc, want) {
				t.Errorf("docs/language.md lacks %q for applet %s", want, a.Name)
			}
		}
	}
}

// TestLanguageDocGrammar: the EBNF exactly as syntax.Grammar() prints it.
func TestLanguageDocGrammar(t *testing.T) {
	if !strings.Contains(readDoc(t), "\n"+syntax.Grammar()+"\n") {
		t.Error("docs/language.md does not contain syntax.Grammar() verbatim: run go generate ./lang/registry")
	}
}

// TestLanguageDocCodes: every diagnostic code the front end and flowc
// check/fmt can report is in the table of codes.
func TestLanguageDocCodes(t *testing.T) {
	doc := readDoc(t)
	i := strings.Index(doc, "## Diagnostic codes")
	if i < 0 {
		t.Fatal("no \"## Diagnostic codes\" section")
	}
	table := doc[i:]
	var files []string
	for _, pat := range []string{"../*/*.go", "../*/*/*.go", "../../cmd/flowc/check.go", "../../cmd/flowc/fmt.go"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	code := regexp.MustCompile(`"(flow/[a-z-]+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "testdata") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	if len(seen) < 10 {
		t.Fatalf("found only %d codes", len(seen))
	}
	var codes []string
	for c := range seen {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if !strings.Contains(table, "`"+c+"`") {
			t.Errorf("diagnostic code %s is not documented in docs/language.md", c)
		}
	}
}

// TestLanguageDocExamplesParse: every ```flow block of the doc parses,
// except on lines marked "# wrong".
func TestLanguageDocExamplesParse(t *testing.T) {
	doc := readDoc(t)
	n := 0
	for rest := doc; ; {
		i := strings.Index(rest, "\n```flow\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("\n```flow\n"):]
		j := strings.Index(rest, "\n```\n")
		if j < 0 {
			t.Fatal("unterminated ```flow block")
		}
		block := rest[:j+1]
		rest = rest[j:]
		n++
		_, diags := syntax.ParseString("doc.flow", block)
		for _, d := range diags {
			if line := d.Span.Source.Line(d.Span.StartPos().Line); !strings.Contains(line, "# wrong") {
				t.Errorf("example %d: %v\n%s", n, d, block)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d ```flow examples found", n)
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func replaceSection(doc, name, body string) (string, error) {
	begin := "<!-- BEGIN GENERATED: " + name
	end := "<!-- END GENERATED: " + name + " -->"
	i := strings.Index(doc, begin)
	if i < 0 {
		return "", fmt.Errorf("docs/language.md: no %q marker", begin)
	}
	nl := strings.Index(doc[i:], "-->\n")
	if nl < 0 {
		return "", fmt.Errorf("docs/language.md: unterminated %q marker", begin)
	}
	start := i + nl + len("-->\n")
	j := strings.Index(doc[start:], end)
	if j < 0 {
		return "", fmt.Errorf("docs/language.md: no %q marker", end)
	}
	return doc[:start] + "\n" + body + "\n" + doc[start+j:], nil
}

// appletsSection documents every applet from its registry entry.
func appletsSection() string {
	var b strings.Builder
	for i, a := range registry.All() {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### `%s`\n\n%s\n\n```\n%s\n```\n", a.Name, a.Summary, a.Syntax)
		if len(a.Params) > 0 || len(a.Tags) > 0 {
			b.WriteString("\n| argument | accepts | meaning |\n| --- | --- | --- |\n")
			for _, p := range a.Params {
				opt := ""
				if p.Optional {
					opt = " (optional)"
				}
				fmt.Fprintf(&b, "| `%s`%s | %s | %s |\n", strings.ToUpper(p.Name), opt, kinds(p), p.Doc)
			}
			for _, tg := range a.Tags {
				opt := " (optional)"
				if tg.Required {
					opt = " (required)"
				}
				name := strings.Join(append([]string{tg.Name}, tg.Words...), " ") // `once per PERIOD`
				fmt.Fprintf(&b, "| `%s %s`%s | %s | %s |\n", name, strings.ToUpper(tg.Value.Name), opt, kinds(tg.Value), tg.Doc)
			}
		}
		if a.Block.Any() {
			var labels []string
			if a.Block.Keys {
				labels = append(labels, "`KEY -> …` ("+a.Block.KeysDoc+")")
			}
			if a.Block.Timeout {
				labels = append(labels, "`timeout DURATION -> …`")
			}
			if a.Block.Else {
				labels = append(labels, "`else -> …`")
			}
			for _, e := range a.Block.On {
				labels = append(labels, "`on "+e+" -> …`")
			}
			need := "an optional block"
			if a.Block.Required {
				need = "a required block"
			}
			fmt.Fprintf(&b, "\nTakes %s of branches: %s.\n", need, strings.Join(labels, ", "))
		}
		if a.Notes != "" {
			b.WriteString("\n" + a.Notes + "\n")
		}
		if a.Suspends {
			b.WriteString("\nIt waits for the contact's next message.\n")
		}
		if a.Terminal {
			b.WriteString("\nNothing after it in a chain runs.\n")
		}
		if a.Example != a.Syntax {
			fmt.Fprintf(&b, "\nExample:\n\n```flow\n%s\n```\n", a.Example)
		}
	}
	return b.String()
}

func kinds(p registry.Param) string {
	var alts []string
	k := p.Kinds
	switch {
	case k&registry.Template != 0:
		alts = append(alts, "a string; `{{ expr }}` inserts a value")
	case k&registry.String != 0:
		alts = append(alts, "a string")
	}
	if k&registry.Number != 0 {
		alts = append(alts, "a number")
	}
	if k&registry.Duration != 0 {
		alts = append(alts, "a duration")
	}
	if k&registry.Ident != 0 {
		if len(p.Enum) > 0 {
			alts = append(alts, "one of `"+strings.Join(p.Enum, "`, `")+"`")
		} else {
			alts = append(alts, "a name")
		}
	}
	if k&registry.Target != 0 {
		var ts []string
		for _, t := range p.Targets {
			ts = append(ts, "`"+t+":…`")
		}
		alts = append(alts, strings.Join(ts, " or "))
	}
	if k&registry.Call != 0 {
		alts = append(alts, "an applet call `NAME(ARGS…)`")
	}
	return strings.Join(alts, " or ")
}

// TestTextMateGrammar: editor-support/flow.tmLanguage.json highlights
// exactly the registry's applets and the language's header keywords.
func TestTextMateGrammar(t *testing.T) {
	b, err := os.ReadFile("../../editor-support/flow.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Repository map[string]struct {
			Match string `json:"match"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("flow.tmLanguage.json: %v", err)
	}
	words := func(rule string) []string {
		m := regexp.MustCompile(`\(([a-z|-]+)\)`).FindStringSubmatch(g.Repository[rule].Match)
		if m == nil {
			t.Fatalf("rule %q has no (a|b|…) group: %q", rule, g.Repository[rule].Match)
		}
		w := strings.Split(m[1], "|")
		sort.Strings(w)
		return w
	}
	if got, want := strings.Join(words("applet"), " "), strings.Join(registry.Names(), " "); got != want {
		t.Errorf("applet rule lists %s; the registry has %s", got, want)
	}
	hk := append([]string{}, syntax.HeaderKeywords...)
	sort.Strings(hk)
	if got, want := strings.Join(words("header"), " "), strings.Join(hk, " "); got != want {
		t.Errorf("header rule lists %s; the language has %s", got, want)
	}
}

// TestLanguageDocLimits: the Limits table and the run applet's notes
// state the values the VM enforces.
func TestLanguageDocLimits(t *testing.T) {
	doc := readDoc(t)
	i := strings.Index(doc, "## Limits")
	if i < 0 {
		t.Fatal(`no "## Limits" section`)
	}
	table := doc[i:]
	table = table[:strings.Index(table, "\n## ")]
	thousands := func(n int) string { return fmt.Sprintf("%d,%03d", n/1000, n%1000) }
	for _, want := range []string{
		thousands(vm.MaxReplyChars) + " characters (`vm.MaxReplyChars`)",
		fmt.Sprintf("%d KiB as JSON (`vm.MaxValueBytes`)", vm.MaxValueBytes>>10),
		fmt.Sprintf("%d KiB (`vm.MaxStringBytes`)", vm.MaxStringBytes>>10),
		fmt.Sprintf("%s in all (`vm.DefaultEventBudget`)", vm.DefaultEventBudget),
		fmt.Sprintf("%d calls (`vm.DefaultMaxAppletCalls`)", vm.DefaultMaxAppletCalls),
		thousands(vm.DefaultMaxSteps) + " instructions (`vm.DefaultMaxSteps`)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the Limits table lacks %q", want)
		}
	}
	run, _ := registry.Lookup("run")
	if want := fmt.Sprintf("%s in all and at most %d calls", vm.DefaultEventBudget, vm.DefaultMaxAppletCalls); !strings.Contains(run.Notes, want) {
		t.Errorf("the run applet's notes lack %q", want)
	}
}

// TestAppletsDocExample: every code block of docs/applets.md whose
// first line names a file of examples/ ("# examples/triage.flow",
// "// examples/applets/triage.js") is that file, verbatim, so the worked
// example is the one `flowc test examples/` runs and cannot drift.
func TestAppletsDocExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/applets.md")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("(?s)\n```[a-z]*\n((?:#|//) (examples/[^\n]+)\n.*?)```\n")
	n := 0
	for _, m := range named.FindAllStringSubmatch(string(b), -1) {
		n++
		want, err := os.ReadFile(filepath.Join("../..", m[2]))
		if err != nil {
			t.Errorf("docs/applets.md shows %s: %v", m[2], err)
			continue
		}
		if m[1] != string(want) {
			t.Errorf("docs/applets.md's copy of %s differs from the file", m[2])
		}
	}
	if n < 3 {
		t.Errorf("docs/applets.md shows %d files of examples/, want the flow, the applet and its tests", n)
	}
	// The result the page quotes is the one the first test expects.
	quoted := regexp.MustCompile("(?s)returns\n\n```json\n(.*?)```\n").FindStringSubmatch(string(b))
	tests, err := os.ReadFile("../../examples/triage.flowtest")
	if err != nil {
		t.Fatal(err)
	}
	expected := regexp.MustCompile(`expect var decision = (.*)\n`).FindStringSubmatch(string(tests))
	if quoted == nil || expected == nil {
		t.Fatal("no quoted result in docs/applets.md, or no `expect var decision` in examples/triage.flowtest")
	}
	var q, e any
	if err := json.Unmarshal([]byte(quoted[1]), &q); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(expected[1]), &e); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, e) {
		t.Errorf("docs/applets.md quotes the result %s, examples/triage.flowtest expects %s", quoted[1], expected[1])
	}
}
