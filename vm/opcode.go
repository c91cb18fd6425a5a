package vm

// Opcode is one VM instruction.
type Opcode byte

const (
	OpHalt        Opcode = iota // end of a path: the conversation is over
	OpJump                      // arg: target pc
	OpTest                      // arg: expr index; sets the condition flag
	OpJumpFalse                 // arg: target pc, taken when the flag is false
	OpReply                     // arg: template index
	OpInbox                     // arg: target index
	OpForward                   // arg: target index
	OpTag                       // arg: const index
	OpSet                       // arg: set index
	OpRun                       // arg: run index
	OpMenu                      // arg: menu index; suspends
	OpAsk                       // arg: ask index; suspends
	OpRetry                     // arg: retry index
	OpEnd                       // explicit end of the conversation
	OpInboxExpr                 // arg: computed target index (inbox user:(EXPR))
	OpForwardExpr               // arg: computed target index (forward email:(EXPR))
	OpUntag                     // arg: const index (effects.go)
	OpField                     // arg: field index (effects.go)
	OpReplyOnce                 // arg: once index (effects.go)
	OpQueue                     // arg: queue index; suspends in the queue (or, full, takes `on full`)
	opCount
)

var opNames = [...]string{
	OpHalt:        "HALT",
	OpJump:        "JUMP",
	OpTest:        "TEST",
	OpJumpFalse:   "JUMP_FALSE",
	OpReply:       "REPLY",
	OpInbox:       "INBOX",
	OpForward:     "FORWARD",
	OpTag:         "TAG",
	OpSet:         "SET",
	OpRun:         "RUN",
	OpMenu:        "MENU",
	OpAsk:         "ASK",
	OpRetry:       "RETRY",
	OpEnd:         "END",
	OpInboxExpr:   "INBOX_EXPR",
	OpForwardExpr: "FORWARD_EXPR",
	OpUntag:       "UNTAG",
	OpField:       "FIELD",
	OpReplyOnce:   "REPLY_ONCE",
	OpQueue:       "QUEUE",
}

func (op Opcode) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "OP?"
}

// Suspends reports whether the instruction waits for the next message.
func (op Opcode) Suspends() bool { return op == OpMenu || op == OpAsk || op == OpQueue }

// Handles reports whether executing the instruction deals with the
// current message (it is answered, delivered, forwarded or ended).
func (op Opcode) Handles() bool {
	switch op {
	case OpReply, OpInbox, OpForward, OpMenu, OpAsk, OpEnd, OpInboxExpr, OpForwardExpr, OpReplyOnce, OpQueue:
		return true
	}
	return false
}
