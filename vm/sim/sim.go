// Package sim runs flows offline: a fake clock, an in-memory contact
// directory and a conversation driver that fires timers when the clock
// passes their deadline. `flowc run` and `flowc test` are built on it.
package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm"
)

// AppletFunc runs an applet for the simulator.
type AppletFunc func(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error)

// Env is an offline vm.Env.
type Env struct {
	Clock    time.Time
	Contacts map[string]runtime.Contact
	Applets  AppletFunc
	// EventBudget is the time all applet calls of one event may take
	// (vm.Options.EventBudget); zero: vm.DefaultEventBudget.
	EventBudget time.Duration
}

// Now implements vm.Env.
func (e *Env) Now() time.Time { return e.Clock }

// Contact implements vm.Env.
func (e *Env) Contact(_ context.Context, phone string) (runtime.Contact, error) {
	return e.Contacts[phone], nil
}

// RunApplet implements vm.Env.
func (e *Env) RunApplet(ctx context.Context, a *vm.Applet, in vm.AppletInput) (any, error) {
	if e.Applets == nil {
		return nil, fmt.Errorf("no applet runner configured")
	}
	return e.Applets(ctx, a, in)
}

// Conversation is one contact texting one number of a flow.
type Conversation struct {
	Prog  *vm.Program
	Env   *Env
	From  string
	To    string
	State *vm.State
	Trace bool
	seq   int
}

// Send delivers an inbound message and returns what the flow decided.
func (c *Conversation) Send(ctx context.Context, body string) (*vm.Result, error) {
	c.seq++
	ev := vm.Event{Kind: vm.EventMessage, Message: vm.Message{ID: fmt.Sprintf("SM%06d", c.seq), From: c.From, To: c.To, Body: body}}
	return c.apply(ctx, ev)
}

// Wait advances the clock by d. If the conversation's deadline falls
// inside that time, the clock stops at the deadline, the timer fires and
// its result is returned; then the clock moves on to the end of d.
func (c *Conversation) Wait(ctx context.Context, d time.Duration) ([]*vm.Result, error) {
	end := c.Env.Clock.Add(d)
	var out []*vm.Result
	for c.State != nil && !c.State.Deadline.IsZero() && !c.State.Deadline.After(end) {
		if c.State.Deadline.After(c.Env.Clock) {
			c.Env.Clock = c.State.Deadline
		}
		res, err := c.apply(ctx, vm.Event{Kind: vm.EventTimer, Message: vm.Message{From: c.From, To: c.To}})
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	c.Env.Clock = end
	return out, nil
}

func (c *Conversation) apply(ctx context.Context, ev vm.Event) (*vm.Result, error) {
	// Offline, an applet's console output is part of what the author
	// sees (Result.Logs); the server does not collect it.
	res, err := vm.Run(ctx, c.Prog, c.State, ev, c.Env, vm.Options{Trace: c.Trace, AppletLogs: true, EventBudget: c.Env.EventBudget})
	if err != nil {
		return nil, err
	}
	c.State = res.State
	return res, nil
}
