package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/fetch"
	"github.com/flowc-dev/flowc/vm/scenario"
	"github.com/flowc-dev/flowc/vm/sim"
)

// httpFlags are `flowc run`'s ways to answer http steps: mocks (the
// .flowtest syntax) and, with --net, the network.
func httpFlags(fs *flag.FlagSet) (net *bool, mocks *string) {
	net = fs.Bool("net", false, "send http steps' requests over the network (internal addresses refused unless FLOWC_HTTP_ALLOW_PRIVATE=1; secrets from FLOWC_SECRET_*)")
	mocks = fs.String("http-mocks", "", "a file of `http \"URL\" returns JSON` lines (the .flowtest syntax) that answer http steps")
	return net, mocks
}

// allowPrivate reads FLOWC_HTTP_ALLOW_PRIVATE, as the server does.
func allowPrivate() bool { return os.Getenv("FLOWC_HTTP_ALLOW_PRIVATE") == "1" }

// netHTTP is the network client with --net, else nil (requests fail).
func netHTTP(net bool) vm.HTTPDoer {
	if !net {
		return nil
	}
	return fetch.New(allowPrivate())
}

// offlineHTTP answers `flowc run`'s http steps: from the mocks file
// first, then the network with --net; neither: a step says how to give
// it an answer.
func offlineHTTP(net bool, mocksFile string, env *sim.Env) (vm.HTTPDoer, error) {
	real := netHTTP(net)
	if mocksFile == "" {
		if real == nil {
			return noHTTP{}, nil
		}
		return real, nil
	}
	b, err := os.ReadFile(mocksFile)
	if err != nil {
		return nil, fmt.Errorf("--http-mocks: %v", err)
	}
	mocks, err := scenario.ParseHTTPMocks(mocksFile, string(b))
	if err != nil {
		return nil, fmt.Errorf("--http-mocks: %v", err)
	}
	return scenario.MockHTTP(mocks, env, real), nil
}

type noHTTP struct{}

func (noHTTP) DoHTTP(_ context.Context, req *vm.HTTPRequest) (*vm.HTTPResponse, error) {
	return nil, fmt.Errorf("flowc run sends no request without --net or --http-mocks FILE (a line: http %s %q returns JSON)", req.Method, req.URL)
}

// printEdits shows, for :state, what flows removed and set of the
// contact and the once-per-period replies already sent on number.
func printEdits(w io.Writer, env *sim.Env, contact, number string, prog *vm.Program) {
	loc := prog.Location()
	removed, fields := env.Edits(contact)
	if len(removed) > 0 {
		fmt.Fprintf(w, "  tags removed: %s\n", strings.Join(removed, ", "))
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if fields[k] == "" {
			fmt.Fprintf(w, "  field %s removed\n", k)
		} else {
			fmt.Fprintf(w, "  field %s = %q\n", k, fields[k])
		}
	}
	marks := env.Marks(contact, number)
	keys := make([]string, 0, len(marks))
	for k := range marks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		what := k
		for pc, op := range prog.Code {
			if op == vm.OpReplyOnce && prog.Onces[prog.Args[pc]].Mark == k {
				what = "reply " + prog.Describe(pc) // its text, as the flow writes it
			}
		}
		fmt.Fprintf(w, "  %s: sent %s\n", what, marks[k].In(loc).Format("Mon 15:04"))
	}
}
