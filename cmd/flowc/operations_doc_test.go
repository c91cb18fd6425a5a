package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// envReaders are the functions that read an environment variable by
// name: os.Getenv, os.LookupEnv, and the getenv parameters of functions
// that take one (appletLimits).
var envReaders = map[string]bool{"Getenv": true, "LookupEnv": true, "getenv": true}

// envVarsRead parses every non-test Go file under roots and returns the
// variables read, with where. A name that is neither a string literal nor
// a string constant of the same package is an error: the test could not
// check it.
func envVarsRead(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	found := map[string]string{}
	for _, root := range roots {
		pkgs := map[string][]*ast.File{} // by directory
		fset := token.NewFileSet()
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasSuffix(d.Name(), "test")) {
				return filepath.SkipDir // pgtest, storetest: helpers of tests, not of the server
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, files := range pkgs {
			consts := map[string]string{}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					if vs, ok := n.(*ast.ValueSpec); ok {
						for i, name := range vs.Names {
							if i < len(vs.Values) {
								if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
									consts[name.Name], _ = strconv.Unquote(lit.Value)
								}
							}
						}
					}
					return true
				})
			}
			for _, f := range files {
				ast.Inspect(f, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok || len(call.Args) != 1 {
						return true
					}
					var fn string
					switch x := call.Fun.(type) {
					case *ast.Ident:
						fn = x.Name
					case *ast.SelectorExpr:
						fn = x.Sel.Name
					}
					if !envReaders[fn] {
						return true
					}
					pos := fset.Position(call.Pos()).String()
					var name string
					switch a := call.Args[0].(type) {
					case *ast.BasicLit:
						name, _ = strconv.Unquote(a.Value)
					case *ast.Ident:
						name = consts[a.Name]
					}
					if name == "" {
						t.Errorf("%s: %s reads a variable whose name this test cannot resolve: use a string literal or constant", pos, fn)
						return true
					}
					found[name] = pos
					return true
				})
			}
		}
	}
	return found
}

// TestOperationsDocNamesEverySetting: docs/operations.md names every
// environment variable the commands and the server read and every flag
// of serve, migrate and backup, so a setting added later cannot be left
// out of the configuration reference.
func TestOperationsDocNamesEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	vars := envVarsRead(t, "../../cmd", "../../server")
	for _, must := range []string{"DATABASE_URL", "FLOWC_TWILIO_AUTH_TOKEN", "FLOWC_APPLET_TIMEOUT"} {
		if vars[must] == "" {
			t.Fatalf("the scan missed %s, which the code reads: found %v", must, vars)
		}
	}
	for name, pos := range vars {
		if !bytes.Contains(doc, []byte("`"+name+"`")) {
			t.Errorf("%s reads %s, which docs/operations.md does not name", pos, name)
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	for _, cmd := range []string{"serve", "migrate", "backup"} {
		var stdout, stderr bytes.Buffer
		run([]string{cmd, "-h"}, nil, &stdout, &stderr)
		flags := flagLine.FindAllStringSubmatch(stderr.String(), -1)
		if len(flags) == 0 {
			t.Fatalf("flowc %s -h lists no flags:\n%s", cmd, stderr.String())
		}
		for _, f := range flags {
			if !bytes.Contains(doc, []byte("`--"+f[1]+"`")) {
				t.Errorf("flowc %s --%s is not in docs/operations.md", cmd, f[1])
			}
		}
	}
}
