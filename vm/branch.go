package vm

// BranchKind names the way a branch point went. The VM records it on
// the trace step that decided (TraceStep.Outcome), so tools such as
// coverage read what happened from data, never from the wording of
// TraceStep.Note, which is for people and may change at any time.
type BranchKind uint8

const (
	NoBranch        BranchKind = iota // the step decided no branch
	BranchTrue                        // a when's condition held
	BranchFalse                       // a when's condition did not hold (or failed)
	BranchKey                         // a menu reply matched key Outcome.Key
	BranchTimeout                     // a menu's or ask's timeout fired
	BranchElse                        // a menu's else, or a run's else
	BranchUnmatched                   // a menu reply matched no key and the menu has no else
	BranchAnswer                      // an ask got its answer
	BranchRetry                       // a retry prompted again
	BranchExhausted                   // a retry had no retries left and went on
	BranchRoute                       // an applet's result picked route Outcome.Key
	BranchOK                          // a run went on after the step (no routes, or no route matched and no else)
	BranchError                       // a run failed: its `on error` branch, or the end of the conversation
	BranchFull                        // a queue had no room: its `on full` branch (or the step after it)
	BranchDone                        // a queued conversation was finished: its `on done` branch (or the step after it)
	BranchAnswered                    // a ring was answered: its `on answered` branch (voice.go)
	BranchNoAnswer                    // nobody a ring rang answered (or the call failed): `on no-answer`
	BranchBusy                        // the last one a ring rang was busy: `on busy`
)

var branchKindNames = [...]string{
	NoBranch:        "none",
	BranchTrue:      "true",
	BranchFalse:     "false",
	BranchKey:       "key",
	BranchTimeout:   "timeout",
	BranchElse:      "else",
	BranchUnmatched: "unmatched",
	BranchAnswer:    "answer",
	BranchRetry:     "retry",
	BranchExhausted: "exhausted",
	BranchRoute:     "route",
	BranchOK:        "ok",
	BranchError:     "error",
	BranchFull:      "full",
	BranchDone:      "done",
	BranchAnswered:  "answered",
	BranchNoAnswer:  "no-answer",
	BranchBusy:      "busy",
}

func (k BranchKind) String() string {
	if int(k) < len(branchKindNames) && branchKindNames[k] != "" {
		return branchKindNames[k]
	}
	return "branch?"
}

// Outcome is the branch one executed step took.
type Outcome struct {
	// At is the branch point's pc: the step's own, except for a when,
	// whose TEST step decides the JUMP_FALSE after it.
	At   int
	Kind BranchKind // NoBranch: the step decided nothing
	Key  string     // the menu key or run route, for BranchKey and BranchRoute
	// Target is the pc control continues at; -1 when the conversation
	// ends there (a run error without `on error`, an unmatched reply).
	Target int
}
