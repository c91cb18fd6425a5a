package main

import (
	"fmt"
	"io"

	"github.com/flowc-dev/flowc/internal/buildinfo"
)

func init() {
	register(command{name: "version", summary: "print the version, commit and Go version", run: runVersion})
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: flowc version")
		return exitUsage
	}
	mod, rev, gov := buildinfo.Read()
	fmt.Fprintf(stdout, "flowc %s\ncommit %s\n%s\n", mod, rev, gov)
	return exitOK
}
