// Package vm runs a compiled flow once per inbound event.
//
// A Program is a small bytecode graph (after expr-lang/expr's vm): a
// byte-sized Opcode per instruction, with parallel slices for its one
// argument and its source location, plus side tables (templates, menus,
// targets, applet calls) that arguments index. Conditions and template
// parts are expr-lang programs compiled once by the compiler.
//
// Run is pure: it takes the program, the conversation's State (nil for a
// new conversation), one Event (an inbound message or a timer firing) and
// an Env through which the clock, the contact directory and the applet
// runner come in. It performs no I/O of its own: it returns the Actions
// to apply (replies, inbox deliveries, forwards, tags, variables), the new
// State (where the conversation waits, until when, with which variables)
// or nil when the conversation is over, and a Trace of the steps taken
// with their source locations. A step that decides a branch carries it
// as data (TraceStep.Outcome: the branch point, a BranchKind, the menu
// key or run route, the target pc); coverage reads only that, and a
// step's Note is wording for people that may change freely. vm/inbound
// wraps Run in the inbound stage (carrier keywords, the contact, resuming
// a conversation, timers) that the server and vm/sim (`flowc run`,
// `flowc test`) share; the server applies its plan in one transaction,
// vm/sim in memory.
//
// A menu or ask suspends the conversation: State.PC points at it, and the
// contact's next message resumes there; a timer event at or after
// State.Deadline takes the timeout branch. A queue (QUEUE, queue.go)
// suspends it too, with State.Queue its place in the team's queue
// (vm/queue.Ticket) and State.Deadline its most time in queue: the
// timer takes `on timeout`, an EventQueueDone (the person finished it)
// `on done`, and a message changes nothing (vm/inbound joins it to the
// open conversation instead); a queue with no room (QueueCounter) takes
// `on full` in the same run. A call flow (Program.Channel "voice",
// voice.go) is a conversation whose first event is EventCall: a gather
// suspends for EventDigits (or its timer), a ring for EventDial (a ring
// in order rings its next member and waits again, State.Ring), a
// voicemail for EventRecorded, and EventHangup ends the call wherever it
// waits; what the caller hears and who is rung are actions (ActSay …
// ActText) a server renders as TwiML. Every event has a step budget,
// so no flow can spin. A Program is immutable once built and safe for
// concurrent use by many goroutines.
//
// A run costs little besides its expressions: the machine lives on Run's
// stack, the actions and trace are gathered there and copied into one
// allocation sized to the run (the Result, its actions and, when the
// conversation waits, its State), native expression forms run against an
// environment on the stack (a pooled copy is taken only once an
// expression needs expr's VM), the caller's State is copied only where
// the run writes to it (its variables, its retries), the contact is
// looked up when the first expression or applet that may read it runs,
// and trace notes are built only when tracing. BenchmarkMessage
// (compiler/bench_test.go) compares it with a hand-written Go function
// that returns the same actions, state and trace; docs/benchmarks.md has
// the figures.
//
// An applet's result is data, never an action: it is stored in the run's
// `as` variable and may pick one of the routes the run names
// (RunCall.Routes, RouteKey), so every reply, delivery, forward and tag a
// run can lead to is an instruction of the program, visible to the
// compiler's analysis (Successors, RunOutcomes). All applet calls of one
// event share a budget (Options.EventBudget, MaxAppletCalls): one
// context with a deadline, plus the Env's clock, so a test's fake clock
// drives it. Replies and variable values are capped (MaxReplyChars,
// MaxValueBytes, MaxStringBytes); past a cap the step fails like any
// runtime error: in Result.Errors and the trace, the run goes on.
//
// A computed target (`inbox user:(contact.owner)`, INBOX_EXPR and
// FORWARD_EXPR with a Computed entry) is evaluated when its step runs
// and becomes a plain Target in the action, so the caller never sees an
// expression. Whether the name reaches anyone is decided here, against
// the Env's directory when it implements Directory (vm/inbound's does,
// from Input.Directory, for the server and the simulator alike); a name
// that reaches nobody takes the step's `on error` branch, which the
// analysis sees as any other successor. What lies beyond the message
// comes through the Env as data, read only when an expression needs it:
// the contact with its history (Contact), the number's settings
// (Directory.Number, with the contact) and the operator's lists (List,
// bound to list() once per event, each list read at most once).
package vm
