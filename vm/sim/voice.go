package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/vm"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Calls: a Conversation whose Prog is a call flow is a call from From to
// To. Call starts it (EventCall) or feeds it the provider's callbacks
// (digits, a dial's status, a recording, the caller hanging up), through
// the same inbound stage as texts (Input.Call); Wait fires a gather's
// timeout as a menu's.

// Call runs one call event. A new call (EventCall) starts the flow
// again, whatever the last call left.
func (c *Conversation) Call(ctx context.Context, ev vm.Event) (*vm.Result, error) {
	c.seq++
	if ev.Kind == vm.EventCall {
		c.State, c.deadline = nil, time.Time{}
	}
	m := vm.Message{ID: fmt.Sprintf("CA%06d", c.seq), From: c.From, To: c.To}
	in := c.input(false, m)
	in.Route = &inbound.Route{Flow: c.Prog.Name, Version: c.Prog.Version, Program: c.Prog}
	in.Call = &ev
	return c.step(ctx, in)
}

// Ringing is who the call's ring is ringing now (nil: none).
func (c *Conversation) Ringing() []string {
	st := c.State
	if st == nil || st.Ring == nil || st.PC < 0 || st.PC >= len(c.Prog.Code) || c.Prog.Code[st.PC] != vm.OpRing {
		return nil
	}
	r := c.Prog.Rings[c.Prog.Args[st.PC]]
	if st.Ring.Next < 1 || st.Ring.Next > len(st.Ring.Members) {
		return nil
	}
	if r.InOrder {
		return st.Ring.Members[st.Ring.Next-1 : st.Ring.Next]
	}
	return st.Ring.Members[:st.Ring.Next]
}
