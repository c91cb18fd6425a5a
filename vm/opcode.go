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
	OpSay                       // arg: say index (voice.go)
	OpPlay                      // arg: const index (the audio's URL)
	OpGather                    // arg: gather index; suspends for the digits
	OpRing                      // arg: ring index; suspends for the dial's status
	OpVoicemail                 // arg: voicemail index; suspends for the recording
	OpHangup                    // ends the call
	OpText                      // arg: template index (a text to the caller)
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
	OpSay:         "SAY",
	OpPlay:        "PLAY",
	OpGather:      "GATHER",
	OpRing:        "RING",
	OpVoicemail:   "VOICEMAIL",
	OpHangup:      "HANGUP",
	OpText:        "TEXT",
}

func (op Opcode) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "OP?"
}

// Suspends reports whether the instruction waits for the next message.
func (op Opcode) Suspends() bool {
	return op == OpMenu || op == OpAsk || op == OpQueue || op == OpGather || op == OpRing || op == OpVoicemail
}

// Handles reports whether executing the instruction deals with the
// current message (it is answered, delivered, forwarded or ended).
func (op Opcode) Handles() bool {
	switch op {
	case OpReply, OpInbox, OpForward, OpMenu, OpAsk, OpEnd, OpInboxExpr, OpForwardExpr, OpReplyOnce, OpQueue,
		OpGather, OpRing, OpVoicemail, OpHangup:
		return true
	}
	return false
}
