package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/scenario"
)

func init() {
	register(command{name: "test", summary: "run the .flowtest scenario tests kept beside the flows", run: runTest})
}

type testReport struct {
	Tests    []*scenario.Result `json:"tests"`
	Passed   int                `json:"passed"`
	Failed   int                `json:"failed"`
	Total    int                `json:"total"`
	Coverage []flowCoverage     `json:"coverage,omitempty"`
}

type flowCoverage struct {
	Flow      string           `json:"flow"`
	Covered   int              `json:"covered"`
	Total     int              `json:"total"`
	Uncovered []uncoveredEntry `json:"uncovered"`
}

type uncoveredEntry struct {
	Pos   string `json:"pos"`
	Label string `json:"label"`
}

func runTest(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fset := newFlagSet("test", "flowc test [PATH…] [--run REGEX] [--format text|json] [--coverage] [--net]", stderr)
	runRe := fset.String("run", "", "run only the tests whose name matches this regexp")
	format := fset.String("format", "text", "output format: text or json")
	coverage := fset.Bool("coverage", false, "report the branches of each flow that no test took")
	net := fset.Bool("net", false, "send the http requests no `http` mock line answers over the network (internal addresses refused unless FLOWC_HTTP_ALLOW_PRIVATE=1)")
	paths, err := parseFlags(fset, args)
	if err != nil {
		return flagExit(err)
	}
	if err := oneOf("format", *format, "text", "json"); err != nil {
		fmt.Fprintln(stderr, "flowc test:", err)
		return exitUsage
	}
	var filter *regexp.Regexp
	if *runRe != "" {
		if filter, err = regexp.Compile(*runRe); err != nil {
			fmt.Fprintln(stderr, "flowc test: --run:", err)
			return exitUsage
		}
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findTestFiles(paths)
	if err != nil {
		fmt.Fprintln(stderr, "flowc test:", err)
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "flowc test: no *.flowtest files found in", strings.Join(paths, " "))
		return exitUsage
	}

	// Parse everything first: a bad scenario line is an error, not a failure.
	var parsed []*scenario.File
	for _, f := range files {
		sf, err := scenario.ParseFile(f)
		if err != nil {
			fmt.Fprintln(stderr, "flowc test:", err)
			return exitUsage
		}
		parsed = append(parsed, sf)
	}
	progs := map[string]*vm.Program{}
	var flowOrder []string
	for _, sf := range parsed {
		for _, t := range sf.Tests {
			if _, ok := progs[t.Flow]; ok {
				continue
			}
			p, _ := compileOne(t.Flow, stderr)
			if p == nil {
				fmt.Fprintf(stderr, "flowc test: %s: cannot load flow %s\n", t.Pos, t.Flow)
				return exitUsage
			}
			progs[t.Flow] = p
			flowOrder = append(flowOrder, t.Flow)
		}
	}

	ctx := context.Background()
	applets, closeApplets, err := offlineApplets() // applets a test does not mock run for real
	if err != nil {
		fmt.Fprintln(stderr, "flowc test:", err)
		return exitUsage
	}
	defer closeApplets()
	budget, err := eventBudget(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "flowc test:", err)
		return exitUsage
	}
	network := netHTTP(*net) // one client (and its connections) for every test
	rep := &testReport{Tests: []*scenario.Result{}}
	covs := map[string]*vm.Coverage{}
	ran := map[string]bool{} // flows with at least one selected test
	for _, fl := range flowOrder {
		covs[fl] = vm.NewCoverage(progs[fl])
	}
	for _, sf := range parsed {
		for _, t := range sf.Tests {
			if filter != nil && !filter.MatchString(t.Name) {
				continue
			}
			ran[t.Flow] = true
			res := scenario.RunWith(ctx, t, progs[t.Flow], applets, scenario.WithEventBudget(budget), scenario.WithHTTP(network))
			for _, tr := range res.Traces {
				covs[t.Flow].Add(tr)
			}
			rep.Tests = append(rep.Tests, res)
			rep.Total++
			if res.Pass {
				rep.Passed++
			} else {
				rep.Failed++
			}
		}
	}
	if *coverage {
		for _, fl := range flowOrder {
			if !ran[fl] {
				continue
			}
			c := covs[fl]
			fc := flowCoverage{Flow: progs[fl].File, Covered: c.Covered(), Total: len(c.Branches), Uncovered: []uncoveredEntry{}}
			for _, b := range c.Uncovered() {
				fc.Uncovered = append(fc.Uncovered, uncoveredEntry{Pos: fmt.Sprintf("%s:%d", progs[fl].File, b.Loc.Line), Label: b.Label})
			}
			rep.Coverage = append(rep.Coverage, fc)
		}
		sort.Slice(rep.Coverage, func(i, j int) bool { return rep.Coverage[i].Flow < rep.Coverage[j].Flow })
	}

	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "flowc test:", err)
			return exitUsage
		}
	} else {
		writeTestText(stdout, rep)
	}
	if rep.Failed > 0 {
		return exitFail
	}
	return exitOK
}

func writeTestText(w io.Writer, rep *testReport) {
	for _, r := range rep.Tests {
		if r.Pass {
			fmt.Fprintf(w, "--- PASS: %s (%s)\n", r.Name, r.Where)
			continue
		}
		fmt.Fprintf(w, "--- FAIL: %s (%s)\n", r.Name, r.Where)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "    %s: expect %s\n", f.Where, f.Expected)
			fmt.Fprintf(w, "        got: %s\n", f.Got)
		}
		// What the applets logged helps explain the failure; a passing
		// test stays quiet.
		for _, l := range r.Logs {
			fmt.Fprintf(w, "    %s: %s\n", l.Where, l.AppletLog)
		}
	}
	if rep.Total == 0 {
		fmt.Fprintln(w, "no tests to run")
	} else if rep.Failed > 0 {
		fmt.Fprintf(w, "%s\nFAIL: %d/%d\n", strings.Repeat("-", 40), rep.Failed, rep.Total)
	} else {
		fmt.Fprintf(w, "PASS: %d/%d\n", rep.Passed, rep.Total)
	}
	for _, c := range rep.Coverage {
		pct := 100.0
		if c.Total > 0 {
			pct = 100 * float64(c.Covered) / float64(c.Total)
		}
		fmt.Fprintf(w, "%s: %d/%d branches (%.0f%%)\n", c.Flow, c.Covered, c.Total, pct)
		for _, u := range c.Uncovered {
			fmt.Fprintf(w, "    not covered: %s: %s\n", u.Pos, u.Label)
		}
	}
}

// findTestFiles walks paths for *.flowtest files; a path naming a file is
// taken as is.
func findTestFiles(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if !seen[p] {
				out = append(out, p)
				seen[p] = true
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".flowtest") && !seen[path] {
				out = append(out, path)
				seen[path] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
