// Package registry describes every applet a flow can call: its
// positional parameters, tagged arguments and branches.
//
// The grammar knows nothing about individual applets; a statement is
// just a name, a flat list of values and an optional block of labelled
// branches (as Sieve does with commands and tagged arguments). This
// registry gives those values meaning: the checker binds arguments
// against it, `docs/language.md` is generated from it, and an editor's
// completion reads it. A new applet (a queue, a blacklist, an agent
// handoff) is one entry here and no grammar change.
package registry

//go:generate go test -run ^TestLanguageDoc$ -update .

import "sort"

// Kinds is a set of argument kinds a parameter accepts.
type Kinds uint16

const (
	String   Kinds = 1 << iota // "text"
	Template                   // "text with {{ expr }}" (implies a string literal)
	Number                     // 2
	Duration                   // 10m
	Ident                      // a bare name: round-robin, a section or variable name
	Target                     // kind:name, e.g. team:sales, email:"a@b.c"
	Call                       // applet(args…)
)

// Param is a positional parameter or the value of a tag.
type Param struct {
	Name     string
	Kinds    Kinds
	Targets  []string // allowed target kinds, for Target
	Enum     []string // allowed identifiers, for Ident
	Computed []string // target kinds that may be computed, kind:(EXPR)
	Optional bool
	Doc      string
}

// Tag is a tagged argument: `by round-robin`, `as name`.
type Tag struct {
	Name     string
	Words    []string // fixed words between the name and the value: `once per 12h`
	Value    Param
	Required bool
	Doc      string
}

// Branches says which labelled branches an applet's block may hold.
type Branches struct {
	Keys     bool     // keys: for a menu the reply the contact types (1, 2, "yes"), for run a route
	KeysDoc  string   // what a key is, for the docs
	Timeout  bool     // timeout DUR -> …
	Else     bool     // else -> …
	On       []string // on EVENT -> …, e.g. on error
	Required bool     // the block must be present
}

// Any reports whether the applet takes a block at all.
func (b Branches) Any() bool { return b.Keys || b.Timeout || b.Else || len(b.On) > 0 }

// Applet is one applet's signature and documentation.
type Applet struct {
	Name     string
	Summary  string
	Params   []Param
	Tags     []Tag
	Block    Branches
	Suspends bool // waits for the contact's next message
	Handles  bool // the message counts as dealt with (no dead end)
	Terminal bool // control never continues past it in the chain
	// Channel is the one kind of flow the applet belongs in: SMS
	// ("sms": reply, menu, ask, queue), calls ("voice": say, gather,
	// ring, …; voice.go), or both ("").
	Channel string
	Syntax  string
	Example string
	Notes   string // more documentation (markdown), after the branches
}

// Tag returns the tag named name, or nil.
func (a *Applet) Tag(name string) *Tag {
	for i := range a.Tags {
		if a.Tags[i].Name == name {
			return &a.Tags[i]
		}
	}
	return nil
}

var applets = map[string]*Applet{}

func register(a *Applet) { applets[a.Name] = a }

// Lookup returns the applet named name.
func Lookup(name string) (*Applet, bool) {
	a, ok := applets[name]
	return a, ok
}

// All returns every applet, sorted by name.
func All() []*Applet {
	out := make([]*Applet, 0, len(applets))
	for _, a := range applets {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the sorted applet names.
func Names() []string {
	var out []string
	for _, a := range All() {
		out = append(out, a.Name)
	}
	return out
}

// computedNotes documents computed targets, for inbox and forward.
const computedNotes = "A target in parentheses is computed: `user:(EXPR)`, `team:(EXPR)`, `email:(EXPR)` deliver to the " +
	"string EXPR gives when the step runs, and `on error` runs when that names nobody (see [Computed targets](#computed-targets)). " +
	"Only a computed target may have `on error`: a written one is checked against the directory by `flowc check`."

// Strategies are the ways `inbox team:X by …` picks a member.
var Strategies = []string{"round-robin", "least-busy", "random", "all"}

// QueueStrategies are the ways `queue team:X STRATEGY` picks the member
// offered a conversation: uContact's (Asterisk's) names, then aliases
// (vm/queue.Canonical maps them; a test keeps the two lists equal).
var QueueStrategies = []string{"ringall", "rrmemory", "linear", "leastrecent", "fewestcalls", "random", "wrandom",
	"all-at-once", "round-robin", "in-order", "least-recent", "fewest-handled", "weighted-random"}

func init() {
	register(&Applet{
		Name: "reply", Summary: "Send a text message back to the contact.",
		Params: []Param{{Name: "text", Kinds: Template, Doc: "the message; `{{ expr }}` inserts a value"}},
		Tags: []Tag{{Name: "once", Words: []string{"per"}, Value: Param{Name: "period", Kinds: Duration},
			Doc: "send it at most once per period to a contact on this number (see below)"}},
		Handles: true, Channel: SMS,
		Syntax:  `reply TEMPLATE [once per DUR]`,
		Example: `reply "Thanks {{contact.name ?? 'there'}}, we got your message."`,
		Notes:   onceNotes, // effects.go
	})
	register(&Applet{
		Name: "inbox", Summary: "Deliver the message to a user's or a team's inbox (the SMS Inbox applet).",
		Params: []Param{{Name: "to", Kinds: Target, Targets: []string{"user", "team"}, Computed: []string{"user", "team"},
			Doc: "user:NAME or team:NAME; user:(EXPR) or team:(EXPR) computes the name"}},
		Tags: []Tag{{Name: "by", Value: Param{Name: "strategy", Kinds: Ident, Enum: Strategies},
			Doc: "for a team: which member gets it (default all)"}},
		Block:   Branches{On: []string{"error"}},
		Handles: true,
		Syntax:  `inbox user:NAME | team:NAME | user:(EXPR) | team:(EXPR) [by round-robin|least-busy|random|all] [< on error -> … >]`,
		Example: `inbox user:(contact.owner) < on error -> inbox team:sales >`,
		Notes: "A run that ends after an inbox delivery leaves the conversation **held** by whom it went to (the user, the member " +
			"the strategy chose, or the whole team): the contact's later texts join it, reaching that person through the agent API " +
			"and never restarting the flow, until they finish it (`POST /v1/agent/conversations/{id}/finish`, a .flowtest's " +
			"`agent NAME finishes`), STOP, or `FLOWC_HANDOFF_IDLE` (24h) without a text either way. " + computedNotes,
	})
	register(&Applet{
		Name: "forward", Summary: "Forward the message by e-mail or to a webhook (for agent platforms); in a call flow, connect the call to a number.",
		Params: []Param{{Name: "to", Kinds: Target, Targets: []string{"email", "webhook", "number"}, Computed: []string{"email"},
			Doc: `email:"a@b.c" or webhook:"https://…"; email:(EXPR) computes the address; in a call flow, number:"+1…" connects the call to that number`}},
		Block:   Branches{On: []string{"error"}},
		Handles: true,
		Syntax:  `forward email:"ADDRESS" | email:(EXPR) | webhook:"URL" | number:"+1…" [< on error -> … >]`,
		Example: `forward email:"owner@example.com"`,
		Notes: "A webhook's URL is always written in the file (it cannot be computed), so `flowc check` and a reader see every " +
			"place a message can be sent. A run that ends after a webhook forward is a **handoff** to an agent platform (Flex, a " +
			"helpdesk): the conversation stays open with the webhook, the contact's later texts are forwarded to it with the same " +
			"`conversation_id` (the body also carries the flow's `variables`), and the platform replies and finishes through the " +
			"agent API (docs/server.md). " + computedNotes,
	})
	register(&Applet{
		Name: "tag", Summary: "Add a tag to the contact.",
		Params:  []Param{{Name: "tag", Kinds: String}},
		Syntax:  `tag "NAME"`,
		Example: `tag "after-hours"`,
	})
	register(&Applet{
		Name: "ask", Summary: "Send a question and wait for a free-text reply, stored in a variable.",
		Params: []Param{{Name: "prompt", Kinds: Template}},
		Tags: []Tag{{Name: "as", Value: Param{Name: "variable", Kinds: Ident}, Required: true,
			Doc: "the variable that receives the reply"}},
		Block:    Branches{Timeout: true},
		Suspends: true, Handles: true, Channel: SMS,
		Syntax:  `ask TEMPLATE as NAME [< timeout DUR -> … >]`,
		Example: `ask "What is your order number?" as order < timeout 1h -> inbox team:support >`,
	})
	register(&Applet{
		Name: "menu", Summary: "Send a prompt and branch on the key the contact replies with.",
		Params:   []Param{{Name: "prompt", Kinds: Template, Optional: true}},
		Block:    Branches{Keys: true, KeysDoc: "a reply: a number, a word or a string", Timeout: true, Else: true, Required: true},
		Suspends: true, Handles: true, Channel: SMS,
		Syntax:  `menu [TEMPLATE] < KEY -> … ; timeout DUR -> … ; else -> … >`,
		Example: `menu "Reply 1 for sales, 2 for support" < 1 -> inbox team:sales ; 2 -> inbox team:support ; timeout 10m -> inbox team:sales ; else -> retry 2 >`,
	})
	register(&Applet{
		Name: "retry", Summary: "Inside a menu or ask branch: prompt again, at most N times in all (default 1); past that, fall through to the next step.",
		Params:  []Param{{Name: "times", Kinds: Number, Optional: true}},
		Handles: true,
		Syntax:  `retry [N]`,
		Example: `menu "Reply 1 or 2" < 1 -> inbox team:sales ; 2 -> inbox team:support ; else -> reply "Please reply 1 or 2." then retry 2 then inbox team:sales >`,
	})
	register(&Applet{
		Name: "run", Summary: "Call a JavaScript applet declared with `applet NAME = \"file.js\"`.",
		Params: []Param{{Name: "call", Kinds: Call, Doc: "NAME(args…), each argument an expression"}},
		Tags: []Tag{{Name: "as", Value: Param{Name: "variable", Kinds: Ident},
			Doc: "store the applet's result in this variable"}},
		Block: Branches{Keys: true, KeysDoc: "a route the applet's result may name: a word or a string",
			Else: true, On: []string{"error"}},
		Syntax:  `run NAME(ARGS…) [as NAME] [< "ROUTE" -> … ; else -> … ; on error -> … >]`,
		Example: `run lookup(body) as route < "oncall" -> inbox team:oncall ; else -> inbox team:support ; on error -> inbox team:support >`,
		Notes: "The applet's result is data: it is stored in the `as` variable and never replies, delivers, forwards or tags " +
			"by itself. To let the applet choose what happens, name the choices as routes: the result picks the route " +
			"whose key it names (a string result, or the string in its `route` field, compared like a menu key: trimmed, " +
			"in lower case, without surrounding punctuation). A result naming no route takes `else`; without `else` the " +
			"flow goes on after the run (`flowc check` warns: flow/missing-branch). So every reply, inbox and forward an " +
			"applet can lead to is written in the flow, where `flowc check` sees it.\n\n" +
			"All applet calls of one message share a budget: 2s in all and at most 100 calls (vm.DefaultEventBudget, " +
			"vm.DefaultMaxAppletCalls). Past it a run takes its `on error` branch, or the conversation ends. " +
			"A result larger than a flow variable may hold (see [Limits](#limits)) is an error too.",
	})
	register(&Applet{
		Name: "queue", Summary: "Put the conversation in a team's queue: a member takes it, and it stays theirs until they finish it (uContact's SMS channel, Flex's \"Send to Flex\").",
		Params: []Param{
			{Name: "team", Kinds: Target, Targets: []string{"team"}, Doc: "team:NAME, the team whose members are offered the conversation"},
			{Name: "strategy", Kinds: Ident, Enum: QueueStrategies, Optional: true,
				Doc: "which available member is offered it (default rrmemory); aliases: all-at-once, round-robin, in-order, least-recent, fewest-handled, weighted-random"},
		},
		Tags: []Tag{
			{Name: "max", Value: Param{Name: "count", Kinds: Number}, Doc: "at most N conversations waiting (0, the default: no limit); past it `on full` runs"},
			{Name: "wait", Value: Param{Name: "time", Kinds: Duration}, Doc: "the most time in the queue before `on timeout` runs (the bot after timeout)"},
			{Name: "service-level", Value: Param{Name: "time", Kinds: Duration}, Doc: "the wanted time to be taken; only the statistics read it"},
			{Name: "reserve", Value: Param{Name: "time", Kinds: Duration}, Doc: "how long an offer waits for its member to accept before the next member is offered it (default: no limit)"},
			{Name: "transfer", Value: Param{Name: "time", Kinds: Duration}, Doc: "how long a transferred conversation waits to be taken before it returns to who transferred it (default: no limit)"},
			{Name: "inactivity", Value: Param{Name: "time", Kinds: Duration}, Doc: "an open conversation with no text either way for this long is closed (default: never)"},
		},
		Block:    Branches{On: []string{"full", "timeout", "done"}},
		Suspends: true, Handles: true, Channel: SMS,
		Syntax:  `queue team:NAME [STRATEGY] [max N] [wait DUR] [service-level DUR] [reserve DUR] [transfer DUR] [inactivity DUR] [< on full -> … ; on timeout -> … ; on done -> … >]`,
		Example: `queue team:support rrmemory max 20 wait 10m service-level 2m < on full -> reply "We are busy, try later." ; on timeout -> reply "Sorry for the wait, we'll text you back." ; on done -> ask "How did we do, 1 to 5?" as score < timeout 1h -> end > >`,
		Notes: "The steps before `queue` are the bot on start. The conversation then waits in the queue: only available " +
			"members are offered it, by the strategy; while it is waiting, offered or open with a member, the contact's texts " +
			"join it (they reach the member) instead of starting the flow again, and STOP still opts out and closes it. " +
			"`on full` runs when `max` conversations are already waiting, `on timeout` when nobody took it within `wait` " +
			"(it may reply, ask, queue again or end), `on done` when the member finishes it (the bot on finish, e.g. a survey). " +
			"A missing branch goes on after the queue. Agents accept, reply, transfer and finish through the agent API " +
			"(offline: `agent` steps in a .flowtest, see docs/testing.md).\n\n" +
			"Strategies (Asterisk's, as uContact names them): `ringall` offers every available member at once, the first to " +
			"accept takes it; `rrmemory` offers the member after the one offered last; `linear` always starts with the first " +
			"listed; `leastrecent` the one who finished a conversation longest ago; `fewestcalls` the one who finished fewest; " +
			"`random` any, and `wrandom` weighted by each member's `weight` in the directory (both chosen from the message id, " +
			"so a retry picks the same member).",
	})
	register(&Applet{
		Name: "goto", Summary: "Continue in a named section.",
		Params:   []Param{{Name: "section", Kinds: Ident}},
		Terminal: true,
		Syntax:   `goto NAME`,
		Example:  `goto support`,
	})
	register(&Applet{
		Name: "end", Summary: "End the conversation here, on purpose.",
		Handles: true, Terminal: true,
		Syntax:  `end`,
		Example: `end`,
	})
}
