package main

import (
	"context"
	"fmt"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/sim"
)

// inProcessApplets runs JavaScript applets in this process (for run and
// test, which are offline; the server uses worker processes).
func inProcessApplets() sim.AppletFunc {
	return func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
		return nil, fmt.Errorf("JavaScript applets are not available in this build")
	}
}

// serverApplets runs applets for the server.
func serverApplets() func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	return inProcessApplets()
}
