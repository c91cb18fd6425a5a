// Package queue decides what happens to a conversation in a team's
// queue (the `queue` applet): which members are offered it, under each
// strategy; what a member's accept, reply, transfer and finish do; and
// what each of its limits does when it passes (time in queue,
// reservation, transfer, inactivity). Every function is pure: what it
// depends on (the settings, the conversation's Ticket, the team's
// members with their availability, weights and counters, the clock, the
// message id that seeds the random strategies) is passed in as data,
// and what it decided comes back as data. The simulator (vm/sim, for
// `flowc run` and `flowc test`) calls it through vm/inbound now; the
// server will call the same functions through the same stage, so an
// offline scenario is what the server does.
//
// # The data
//
// Settings is one `queue` step as written (vm.Queue holds it in the
// program): the team, the strategy, max, wait, service-level, reserve,
// transfer and inactivity.
//
// Ticket is the conversation's place in the queue, kept in the
// conversation's state (vm.State.Queue, JSON, as the server stores it):
//
//	team, status    waiting (nobody has it), offered (Offered are
//	                reserved for it), open (Assignee has it),
//	                transferring (Assignee offered it to TransferTo)
//	since           when it entered the queue: the time in queue, the
//	                position and the service level count from it
//	offered, offered_at   the current offer and when it was made
//	passed          members whose reservation timed out: not offered it
//	                again until every available member has been
//	assignee, accepted_at who has it, since when
//	transfer_from, transfer_to, transfer_at   a transfer in progress
//	last_activity   the last text either way (inactivity counts from it)
//
// Member is what the caller reads of each of the team's members, in the
// directory's order: name, availability, weight (wrandom), when they
// last finished a conversation of this team (leastrecent) and how many
// they finished (fewestcalls). Memory is the team's round-robin memory:
// the member offered last (rrmemory); the caller stores Offer.Last.
//
// # The decisions
//
//	Admit(settings, waiting)             room in the queue? (else `on full`)
//	Offer(settings, ticket, pick)        the members to offer it to
//	Accept/Reply/Transfer/Finish         an agent's action: the new
//	                                     ticket, or ErrNotYours / ErrState
//	Next(settings, ticket)               its next deadline (the one timer)
//	Due(settings, ticket, now)           which limit passed: wait,
//	                                     reservation, transfer, inactivity
//	Expire(settings, ticket, limit, now) what that limit does
//	Position(ticket, waiting)            its place in line (1 = next)
//
// A limit of zero never passes. The wait limit is the VM's (the queue
// step's timeout, like a menu's: vm.State.Deadline) and runs `on
// timeout`; the others never run flow code: a reservation that passes
// moves the offer on, a transfer that passes returns the conversation to
// who transferred it, inactivity closes it (without `on done`: nobody
// finished it).
package queue
