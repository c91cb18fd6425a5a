// Package inbound is the inbound stage of flowc: what happens to one
// event (a message from a contact, or a conversation's timer) between
// its arrival and its effects. It is shared by the server (`flowc
// serve`), `flowc run` and `flowc test` (through vm/sim), so the three
// cannot disagree about STOP, HELP, START, the contact a flow sees or
// where a conversation resumes.
//
// It sits on vm: it depends on vm, runtime and lang/directory only,
// never on the server or a store. The caller reads (the server: in one
// short transaction; the simulator: from memory) and applies (the
// server: in another transaction, with delivery and persistence; the
// simulator: in memory); Step in between is pure given its Input and
// the applet runner.
//
// What comes in (Input):
//
//	the event       a message (vm.Message: id, from, to, body, media…)
//	                or a timer (the deadline of the conversation passed)
//	the route       the flow and program serving the number, nil if none
//	the opt-out     whether the contact sent STOP to this number
//	the conversation its flow, version, program and state (JSON, as
//	                stored), nil when none is in progress
//	the contact     Contact(directory entry, added tags): what the
//	                directory says of the sender, with the tags flows
//	                added in earlier conversations
//	the clock, the event's applet budget
//
// What goes out (Plan), as data:
//
//	the outcome     routed, routed-with-errors, error, opt-out, opt-in,
//	                help, opted-out, no-flow, timer
//	the replies     answered to the message (a timer's go out by SMS)
//	OptOut          record STOP (true) or START (false)
//	Save / End      the conversation's new state, or its end
//	Deliver         inbox targets (a team's member is chosen by the
//	                caller, which keeps the round-robin counters and
//	                open-item counts, with Assign: one choice for the
//	                server's commit and the simulator)
//	Forwards        e-mail and webhook forwards, with their JSON body
//	Tags            tags added to the contact, kept across conversations
//	Result          the VM's result (actions, trace, applet logs) when
//	                the flow ran
//
// The stage, in order, for a message: the carrier keywords, matched by
// runtime.CarrierKeyword as Twilio matches them (STOP opts out and ends
// the conversation, confirming once; START opts back in, or is an
// ordinary message when not opted out; HELP answers the flow's help);
// an opted-out contact's message is recorded but neither routed nor
// answered; otherwise the flow runs, resuming the conversation on the
// version it started with. A timer runs the conversation's timeout
// branch.
//
// Calls (voice.go). Input.Call is a call's event (vm.EventCall starts the
// call flow of Route; digits, a dial's status, a recording or the caller
// hanging up resume the call in Conv). There is no carrier-keyword stage
// (STOP is a text's) and nothing is recorded as a text; the plan's Call
// lists what the caller hears and who is rung (say, play, gather, dial,
// record, recorded, hangup, forward to a number), in order, for the
// caller to render as TwiML, and Texts the texts to the caller. A team
// is rung by its available members, in the directory's order
// (vm.Ringer).
//
// Queues (queue.go). A `queue` step suspends the conversation in a
// team's queue; from then until it is finished it has an owner, and the
// stage decides every event of it with vm/queue's pure functions, from
// data the caller reads and passes in:
//
//	Input.Queues    per team the step may touch (the program's queue
//	                steps, a transfer's target): QueueData, the members
//	                in the directory's order with availability, weight,
//	                last finish and finished count; the round-robin
//	                memory; how many other conversations wait
//	Input.Agent     a person's action (the agent API; offline, a
//	                .flowtest's `agent` step): accept, reply TEXT,
//	                transfer to user:NAME/team:NAME, finish
//	Input.Dispatch  a member became available: a waiting conversation
//	                is offered again (the caller dispatches a team's
//	                waiting conversations first come, first served)
//	the state       vm.State.Queue, the conversation's queue.Ticket:
//	                status, since, offered, assignee, transfer, last
//	                activity
//
// and it says what happened as Plan.Queue (QueuePlan: the event, the
// new ticket, who is newly offered it, the team's new round-robin
// memory, whom to notify, on accept the wait and whether it met the
// service level, whether it left the queue, a refusal's error). The
// conversation's one timer (Saved.Deadline) is the ticket's next limit
// (queue.Next). What each event does:
//
//	entering        `on full` when max are waiting (QueueFull); else
//	                offered by the strategy to available members, or
//	                waiting for one (QueueEntered)
//	a text          joins it (OutcomeQueued, QueueJoined, Notify: the
//	                assignee): stored and shown to the person, the flow
//	                does not run; HELP is answered; STOP opts out and
//	                closes it (QueueClosed)
//	the wait        `on timeout` runs (QueueTimedOut): the bot after
//	                timeout may reply, ask, queue again or end
//	a reservation   passes to the next member (QueueReoffered)
//	a transfer      not taken in time returns to who transferred it
//	                (QueueReturned)
//	inactivity      closes it, without `on done` (QueueClosed)
//	accept          QueueAccepted; reply: Plan.Replies go to the contact
//	                (refused to an opted-out one); transfer: to a user,
//	                or every available member of a team; finish: `on
//	                done` runs (QueueFinished), the bot on finish
//	refused         an action by someone whose conversation it is not
//	                (queue.ErrNotYours: the API's 403) or that its
//	                status forbids (queue.ErrState): OutcomeRefused,
//	                nothing changes
//
// Assign (assign.go) picks a team's member from what the caller read:
// the available members in the directory's order, the round-robin
// counter, the open-item counts, the message id. CheckMediaURL
// (media.go) is the webhook's rule for a media URL, for `flowc test`'s
// `send … media` and, later, the server.
package inbound
