package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
)

func init() {
	register(command{name: "deploy", summary: "deploy a .flow file to a running server (a new immutable version)", run: runDeploy})
}

func runDeploy(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("deploy", "flowc deploy FILE.flow [--server URL] [--token TOKEN]", stderr)
	c := adminFlags(fs)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	path := paths[0]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "flowc deploy:", err)
		return exitUsage
	}
	req := map[string]any{"file": filepath.Base(path), "source": string(src)}
	// The bundle: the flow and the applets it declares, by the paths it
	// declares them with, read with the rules the server applies (inside
	// the flow's directory, regular files within the size limit). The
	// server reads nothing else; what is missing it reports at the line.
	if res, err := lang.Load([]string{path}); err == nil && len(res.Infos) == 1 {
		applets := map[string]string{}
		for _, a := range res.Infos[0].Applets {
			if a.File == "" {
				continue // refused by the check: the server says why
			}
			if b, err := check.ReadApplet(res.Files[0].Source.Files(), a.File); err == nil {
				applets[a.File] = string(b)
			}
		}
		if len(applets) > 0 {
			req["applets"] = applets
		}
	}
	var out struct {
		Flow     string   `json:"flow"`
		Version  string   `json:"version"`
		Numbers  []string `json:"numbers"`
		Warnings []struct {
			File    string `json:"file"`
			Message string `json:"message"`
			Code    string `json:"code"`
			Range   struct {
				Start struct{ Line, Column int } `json:"start"`
			} `json:"range"`
		} `json:"warnings"`
	}
	code, err := c.call("POST", "/v1/admin/flows", req, &out, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "flowc deploy:", err)
		return clientExit(code)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(stderr, "%s:%d:%d: warning: %s [%s]\n", w.File, w.Range.Start.Line, w.Range.Start.Column, w.Message, w.Code)
	}
	fmt.Fprintf(stdout, "deployed %s version %s (numbers: %v)\n", out.Flow, out.Version[:12], out.Numbers)
	return exitOK
}
