package queue

import (
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// The strategies, by uContact's (Asterisk's) names.
const (
	RingAll     = "ringall"     // every available member at once
	RRMemory    = "rrmemory"    // the member after the one offered last
	Linear      = "linear"      // the first available, in the directory's order
	LeastRecent = "leastrecent" // who finished a conversation longest ago
	FewestCalls = "fewestcalls" // who finished fewest
	Random      = "random"      // any, from the seed
	WRandom     = "wrandom"     // any, weighted by Member.Weight, from the seed
)

// Strategies are the names Canonical accepts: the strategies, then their aliases.
var Strategies = []string{RingAll, RRMemory, Linear, LeastRecent, FewestCalls, Random, WRandom,
	"all-at-once", "round-robin", "in-order", "least-recent", "fewest-handled", "weighted-random"}

var aliases = map[string]string{
	"all-at-once": RingAll, "round-robin": RRMemory, "in-order": Linear, "least-recent": LeastRecent,
	"fewest-handled": FewestCalls, "weighted-random": WRandom,
}

// Canonical returns the strategy a name stands for; "" is RRMemory.
func Canonical(name string) (string, bool) {
	if name == "" {
		return RRMemory, true
	}
	if a, ok := aliases[name]; ok {
		return a, true
	}
	return name, slices.Contains(Strategies[:7], name)
}

// Settings is one `queue` step as written.
type Settings struct {
	Team         string
	Strategy     string        // canonical (Canonical)
	Max          int           // conversations waiting at most; 0: no limit
	Wait         time.Duration // time in queue before `on timeout`; 0: none
	ServiceLevel time.Duration // the wanted time to be taken (statistics)
	Reserve      time.Duration // an offer's time to be accepted; 0: no limit
	Transfer     time.Duration // a transfer's time to be taken; 0: no limit
	Inactivity   time.Duration // an open conversation's idle time before it closes; 0: never
}

// Statuses of a Ticket.
const (
	Waiting      = "waiting"
	Offered      = "offered"
	Open         = "open"
	Transferring = "transferring"
)

// Ticket is a conversation's place in a queue (see the package doc).
type Ticket struct {
	Team         string    `json:"team"`
	Status       string    `json:"status"`
	Since        time.Time `json:"since"`
	Offered      []string  `json:"offered,omitempty"`
	OfferedAt    time.Time `json:"offered_at,omitzero"`
	Passed       []string  `json:"passed,omitempty"`
	Assignee     string    `json:"assignee,omitempty"`
	AcceptedAt   time.Time `json:"accepted_at,omitzero"`
	TransferFrom string    `json:"transfer_from,omitempty"`
	TransferTo   string    `json:"transfer_to,omitempty"` // user:NAME or team:NAME
	TransferAt   time.Time `json:"transfer_at,omitzero"`
	LastActivity time.Time `json:"last_activity,omitzero"`
	// Idle is a handed-off conversation's inactivity limit (vm/inbound's
	// handoffs to an agent platform's webhook, which have no queue step
	// to hold it); zero for a queue's, whose step has it.
	Idle time.Duration `json:"idle,omitempty"`
}

// Clone returns a copy that shares no slice with t.
func (t *Ticket) Clone() *Ticket {
	if t == nil {
		return nil
	}
	c := *t
	c.Offered, c.Passed = slices.Clone(t.Offered), slices.Clone(t.Passed)
	return &c
}

// Enter is the ticket of a conversation entering the team's queue at now.
func Enter(team string, now time.Time) *Ticket {
	return &Ticket{Team: team, Status: Waiting, Since: now, LastActivity: now}
}

// Admit reports whether a conversation may enter a queue that already
// has waiting conversations waiting (not yet taken).
func Admit(s Settings, waiting int) bool { return s.Max <= 0 || waiting < s.Max }

// Member is one of a team's members as the caller read them.
type Member struct {
	Name      string    `json:"name"`
	Available bool      `json:"available"`
	Weight    int       `json:"weight,omitempty"`   // wrandom; below 1 counts as 1
	LastDone  time.Time `json:"last_done,omitzero"` // leastrecent: when they last finished one (zero: never)
	Handled   int       `json:"handled,omitempty"`  // fewestcalls: how many they finished
}

// Pick is what choosing whom to offer a conversation depends on.
type Pick struct {
	Members []Member // the team's members, in the directory's order
	Memory  string   // rrmemory: the member offered last ("" : none yet)
	Seed    string   // random, wrandom: the message id, so a retry picks the same
}

// Offering is who is offered a conversation.
type Offering struct {
	To   []string // the members offered it; empty: it waits for one to be available
	Last string   // rrmemory: the team's new memory ("" : unchanged)
}

// Offer chooses the members a waiting ticket is offered to, under the
// settings' strategy: only available members, and none whose
// reservation already passed for it unless every available member's
// has (then the round starts again). It returns the new ticket (offered,
// or still waiting when nobody is available) and the offering.
func Offer(s Settings, t *Ticket, p Pick, now time.Time) (*Ticket, Offering) {
	t = t.Clone()
	var avail, fresh []Member
	for _, m := range p.Members {
		if m.Available {
			avail = append(avail, m)
			if !slices.Contains(t.Passed, m.Name) {
				fresh = append(fresh, m)
			}
		}
	}
	if len(fresh) == 0 && len(avail) > 0 {
		t.Passed, fresh = nil, avail
	}
	var off Offering
	if len(fresh) > 0 {
		off = choose(s.Strategy, fresh, p, t)
	}
	if len(off.To) == 0 {
		if t.Status == Offered {
			t.Status = Waiting
		}
		t.Offered, t.OfferedAt = nil, time.Time{}
		return t, off
	}
	t.Offered, t.OfferedAt = off.To, now
	if t.Status != Transferring {
		t.Status = Offered
	}
	return t, off
}

func choose(strategy string, ms []Member, p Pick, t *Ticket) Offering {
	one := func(m Member) Offering { return Offering{To: []string{m.Name}} }
	switch strategy {
	case RingAll:
		var all []string
		for _, m := range ms {
			all = append(all, m.Name)
		}
		return Offering{To: all}
	case Linear:
		return one(ms[0])
	case RRMemory:
		// The first member listed after the one offered last, in the
		// full list's order (so a member who left does not reset it).
		i := slices.IndexFunc(p.Members, func(m Member) bool { return m.Name == p.Memory })
		for k := 1; k <= len(p.Members); k++ {
			cand := p.Members[(i+k+len(p.Members))%len(p.Members)]
			if slices.ContainsFunc(ms, func(m Member) bool { return m.Name == cand.Name }) {
				return Offering{To: []string{cand.Name}, Last: cand.Name}
			}
		}
	case LeastRecent:
		best := ms[0]
		for _, m := range ms[1:] {
			if m.LastDone.Before(best.LastDone) {
				best = m
			}
		}
		return one(best)
	case FewestCalls:
		best := ms[0]
		for _, m := range ms[1:] {
			if m.Handled < best.Handled {
				best = m
			}
		}
		return one(best)
	case Random:
		return one(ms[hash(p.Seed, len(t.Passed))%uint32(len(ms))])
	case WRandom:
		total := 0
		for _, m := range ms {
			total += weight(m)
		}
		r := int(hash(p.Seed, len(t.Passed)) % uint32(total))
		for _, m := range ms {
			if r -= weight(m); r < 0 {
				return one(m)
			}
		}
	}
	return Offering{}
}

func weight(m Member) int { return max(m.Weight, 1) }

// hash is the random strategies' draw: the seed and the round (how many
// members passed already), so a re-offer draws again.
func hash(seed string, round int) uint32 {
	h := fnv.New32a()
	h.Write([]byte(seed))
	h.Write([]byte{':'})
	h.Write([]byte(strconv.Itoa(round)))
	return h.Sum32()
}

// Errors of an agent's action.
var (
	ErrNotYours = errors.New("queue: the conversation is not yours") // the agent API's 403
	ErrState    = errors.New("queue: the conversation cannot do that now")
)

// Accept is member who taking the ticket offered to them (or transferred
// to them). It returns the new ticket and the time it waited in the queue
// (for the service level; zero for a transfer).
func Accept(t *Ticket, who string, now time.Time) (*Ticket, time.Duration, error) {
	if t == nil || (t.Status != Offered && t.Status != Transferring) {
		return t, 0, ErrState
	}
	if !slices.Contains(t.Offered, who) {
		return t, 0, ErrNotYours
	}
	t = t.Clone()
	waited := time.Duration(0)
	if t.Status == Offered {
		waited = now.Sub(t.Since)
	}
	t.Status, t.Assignee, t.AcceptedAt, t.LastActivity = Open, who, now, now
	t.Offered, t.OfferedAt, t.Passed = nil, time.Time{}, nil
	t.TransferFrom, t.TransferTo, t.TransferAt = "", "", time.Time{}
	return t, waited, nil
}

// WithinServiceLevel reports whether a conversation taken after waited
// met the settings' service level (always, without one).
func WithinServiceLevel(s Settings, waited time.Duration) bool {
	return s.ServiceLevel <= 0 || waited <= s.ServiceLevel
}

// Reply is the assignee's text to the contact: it counts as activity.
// During a transfer, the one who transferred it still has it.
func Reply(t *Ticket, who string, now time.Time) (*Ticket, error) {
	if t == nil || (t.Status != Open && t.Status != Transferring) {
		return t, ErrState
	}
	if t.Assignee != who {
		return t, ErrNotYours
	}
	t = t.Clone()
	t.LastActivity = now
	return t, nil
}

// Contact is the contact's text joining the conversation: activity.
func Contact(t *Ticket, now time.Time) *Ticket {
	t = t.Clone()
	t.LastActivity = now
	return t
}

// Transfer is the assignee offering the conversation to another user
// (user:NAME) or team (team:NAME); a team's members are then offered it
// with Offer. The assignee keeps it until it is taken.
func Transfer(t *Ticket, who, to string, now time.Time) (*Ticket, error) {
	if t == nil || t.Status != Open {
		return t, ErrState
	}
	if t.Assignee != who {
		return t, ErrNotYours
	}
	t = t.Clone()
	t.Status, t.TransferFrom, t.TransferTo, t.TransferAt = Transferring, who, to, now
	t.Offered, t.OfferedAt, t.Passed = nil, time.Time{}, nil
	if name, ok := cutPrefix(to, "user:"); ok {
		t.Offered, t.OfferedAt = []string{name}, now
	}
	return t, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// Finish is the assignee finishing the conversation: it leaves the
// queue, and the flow goes on at `on done`.
func Finish(t *Ticket, who string) error {
	if t == nil || (t.Status != Open && t.Status != Transferring) {
		return ErrState
	}
	if t.Assignee != who {
		return ErrNotYours
	}
	return nil
}

// Limits that pass (Due).
const (
	LimitWait        = "wait"        // the time in queue: `on timeout` (the VM's deadline)
	LimitReservation = "reservation" // an offer not accepted: the next member
	LimitTransfer    = "transfer"    // a transfer not taken: back to who transferred it
	LimitInactivity  = "inactivity"  // an open conversation idle: closed
)

// deadlines lists the ticket's limits with when they pass.
func deadlines(s Settings, t *Ticket) [][2]any {
	var out [][2]any
	add := func(limit string, from time.Time, d time.Duration) {
		if d > 0 && !from.IsZero() {
			out = append(out, [2]any{limit, from.Add(d)})
		}
	}
	switch t.Status {
	case Waiting, Offered:
		add(LimitWait, t.Since, s.Wait)
		if t.Status == Offered {
			add(LimitReservation, t.OfferedAt, s.Reserve)
		}
	case Transferring:
		add(LimitTransfer, t.TransferAt, s.Transfer)
		add(LimitInactivity, t.LastActivity, s.Inactivity)
	case Open:
		add(LimitInactivity, t.LastActivity, s.Inactivity)
	}
	return out
}

// Next is when the ticket's next limit passes; zero: never.
func Next(s Settings, t *Ticket) time.Time {
	var next time.Time
	for _, d := range deadlines(s, t) {
		if at := d[1].(time.Time); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// Due returns the limit that passed by now (the earliest, if several),
// "" when none has.
func Due(s Settings, t *Ticket, now time.Time) string {
	limit, when := "", time.Time{}
	for _, d := range deadlines(s, t) {
		at := d[1].(time.Time)
		if !now.Before(at) && (limit == "" || at.Before(when)) {
			limit, when = d[0].(string), at
		}
	}
	return limit
}

// Expire applies a limit other than the wait (which runs flow code): a
// reservation moves the offer on (the caller then calls Offer with the
// ticket returned), a transfer returns the conversation to who
// transferred it, inactivity closes it (closed: the conversation ends).
func Expire(t *Ticket, limit string, now time.Time) (nt *Ticket, closed bool) {
	t = t.Clone()
	switch limit {
	case LimitReservation:
		t.Passed = append(t.Passed, t.Offered...)
		t.Offered, t.OfferedAt, t.Status = nil, time.Time{}, Waiting
	case LimitTransfer:
		t.Status, t.Offered, t.OfferedAt, t.Passed = Open, nil, time.Time{}, nil
		t.TransferFrom, t.TransferTo, t.TransferAt = "", "", time.Time{}
		t.LastActivity = now
	case LimitInactivity:
		return t, true
	}
	return t, false
}

// Position is a waiting ticket's place in line among the tickets of its
// team (1: next to be offered): first come, first served, ties broken by
// the order given. Zero when it is not waiting.
func Position(t *Ticket, queue []*Ticket) int {
	if t == nil || (t.Status != Waiting && t.Status != Offered) {
		return 0
	}
	n := 1
	for _, o := range queue {
		if o == t {
			break
		}
		if o.Team == t.Team && (o.Status == Waiting || o.Status == Offered) && !o.Since.After(t.Since) {
			n++
		}
	}
	return n
}
