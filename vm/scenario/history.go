package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/vm/sim"
)

// What a test says happened before (or between) its messages, and what
// the operator set up: the contact's history, the operator's lists and
// the business number's settings.
//
//	texted by alice 2h ago              an SMS alice sent the contact
//	called by bob 1d ago                a call bob placed to the contact
//	call answered by bob 3h ago         the contact called; bob answered
//	contact texted 10m ago              an SMS from the contact
//	contact called 1h ago               a call from the contact nobody answered
//	campaign "spring" reply user alice 1d ago
//	campaign "spring" reply email "sales@example.com" 1d ago
//	list blocked "+15550001234", "+15550005678"
//	number backup_email "desk@example.com"
//	number setting region "east"
//
// `ago` is relative to the clock when the line runs (`2h ago`, or
// nothing for now). History and list lines before the first test apply
// at the start of every test; inside a test they are steps, applied
// when reached, so a test can text, let time pass, record a call and
// text again. number lines are settings (the directory's "numbers" entry
// for the test's business number).

// Step kinds of the history and list lines.
const (
	StepHistory StepKind = iota + 100 // texted by, called by, contact texted, campaign …
	StepList                          // list NAME "ENTRY", …
)

// History is one interaction a history line records.
type History struct {
	Kind       string // runtime.InteractionSMS or InteractionCall
	Direction  string // runtime.DirectionInbound or DirectionOutbound
	User       string // who sent, placed or answered it; "" for none
	Campaign   string // a campaign message: its name
	ReplyUser  string // … and its reply address
	ReplyEmail string
	Ago        time.Duration
}

// NumberSetting is a `number` line: a setting of the test's business
// number.
type NumberSetting struct {
	Key, Value string
}

// isSetupStep reports whether s sets something up rather than sending,
// waiting or expecting: an expect after it checks the send or wait
// before.
func isSetupStep(k StepKind) bool { return k == StepHistory || k == StepList || isQueueSetup(k) }

// parseHistory reads a history line (its first word is toks[0]).
func parseHistory(toks []token) (History, error) {
	const want = "want: texted by USER [DURATION ago], called by USER …, call answered by USER …, contact texted …, contact called …, " +
		`or campaign "NAME" reply user USER|email "ADDRESS" …`
	w := words(toks)
	var h History
	rest := w
	switch {
	case len(w) >= 3 && w[0] == "texted" && w[1] == "by":
		h = History{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, User: w[2]}
		rest = w[3:]
	case len(w) >= 3 && w[0] == "called" && w[1] == "by":
		h = History{Kind: runtime.InteractionCall, Direction: runtime.DirectionOutbound, User: w[2]}
		rest = w[3:]
	case len(w) >= 4 && w[0] == "call" && w[1] == "answered" && w[2] == "by":
		h = History{Kind: runtime.InteractionCall, Direction: runtime.DirectionInbound, User: w[3]}
		rest = w[4:]
	case len(w) >= 2 && w[0] == "contact" && (w[1] == "texted" || w[1] == "called"):
		h = History{Kind: runtime.InteractionSMS, Direction: runtime.DirectionInbound}
		if w[1] == "called" {
			h.Kind = runtime.InteractionCall
		}
		rest = w[2:]
	case len(w) >= 5 && w[0] == "campaign" && toks[1].quoted && w[2] == "reply":
		h = History{Kind: runtime.InteractionSMS, Direction: runtime.DirectionOutbound, Campaign: w[1]}
		switch w[3] {
		case "user":
			h.ReplyUser = w[4]
		case "email":
			if !directory.IsEmail(w[4]) {
				return h, fmt.Errorf("campaign reply email %q is not an e-mail address", w[4])
			}
			h.ReplyEmail = w[4]
		default:
			return h, errors.New(want)
		}
		if w[1] == "" {
			return h, errors.New("a campaign needs a name")
		}
		rest = w[5:]
	default:
		return h, errors.New(want)
	}
	if h.User == "" && (w[0] == "texted" || w[0] == "called" || w[0] == "call") {
		return h, errors.New(want)
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && rest[1] == "ago":
		d, err := check.ParseDuration(rest[0])
		if err != nil {
			return h, err
		}
		h.Ago = d
	default:
		return h, fmt.Errorf("unexpected %q: %s", strings.Join(rest, " "), want)
	}
	return h, nil
}

// parseList reads `list NAME "ENTRY", "ENTRY"…`.
func parseList(toks []token) (string, []string, error) {
	const want = `want: list NAME "ENTRY", "ENTRY"… (e.g. list blocked "+15550001234")`
	if len(toks) < 2 || toks[0].quoted || toks[0].s == "," {
		return "", nil, errors.New(want)
	}
	entries, err := quotedList(toks[1:], want)
	if err != nil || len(entries) == 0 {
		return "", nil, errors.New(want)
	}
	return toks[0].s, entries, nil
}

// parseNumber reads `number backup_email "ADDRESS"`, `number name
// "LABEL"` and `number setting KEY "VALUE"`.
func parseNumber(toks []token) (NumberSetting, error) {
	const want = `want: number backup_email "ADDRESS", number name "LABEL" or number setting KEY "VALUE"`
	switch {
	case len(toks) == 2 && (toks[0].s == "backup_email" || toks[0].s == "name") && toks[1].quoted:
		if toks[0].s == "backup_email" && !directory.IsEmail(toks[1].s) {
			return NumberSetting{}, fmt.Errorf("backup_email %q is not an e-mail address", toks[1].s)
		}
		return NumberSetting{Key: toks[0].s, Value: toks[1].s}, nil
	case len(toks) == 3 && toks[0].s == "setting" && !toks[1].quoted && toks[2].quoted:
		return NumberSetting{Key: "settings." + toks[1].s, Value: toks[2].s}, nil
	}
	return NumberSetting{}, errors.New(want)
}

// applyHistory records h in env as of now, for the contact from texting
// the business number to.
func applyHistory(env *sim.Env, from, to string, h History, now time.Time) {
	at := now.Add(-h.Ago)
	if h.Campaign != "" {
		env.SetCampaign(from, to, runtime.Campaign{Name: h.Campaign, ReplyUser: runtime.Str(h.ReplyUser), ReplyEmail: runtime.Str(h.ReplyEmail), At: at})
		return
	}
	env.Record(from, runtime.Interaction{Kind: h.Kind, Direction: h.Direction, Number: to, User: runtime.Str(h.User), At: at})
}

// applyList adds entries to the list name of env.
func applyList(env *sim.Env, name string, entries []string) {
	if env.Lists == nil {
		env.Lists = map[string]map[string]bool{}
	}
	set := env.Lists[name]
	if set == nil {
		set = map[string]bool{}
		env.Lists[name] = set
	}
	for _, e := range entries {
		set[e] = true
	}
}

// withNumber is d with the test's number lines applied to the business
// number to (d is not changed: it may be shared by the tests).
func withNumber(d *directory.Directory, to string, settings []NumberSetting) *directory.Directory {
	if len(settings) == 0 {
		return d
	}
	out := &directory.Directory{}
	if d != nil {
		*out = *d
		out.Numbers = slices.Clone(d.Numbers)
	}
	i := slices.IndexFunc(out.Numbers, func(n directory.Number) bool { return n.Number == to })
	if i < 0 {
		out.Numbers = append(out.Numbers, directory.Number{Number: to})
		i = len(out.Numbers) - 1
	}
	n := &out.Numbers[i]
	n.Settings = cloneSettings(n.Settings)
	for _, s := range settings {
		switch {
		case s.Key == "backup_email":
			n.BackupEmail = s.Value
		case s.Key == "name":
			n.Name = s.Value
		case strings.HasPrefix(s.Key, "settings."):
			if n.Settings == nil {
				n.Settings = map[string]string{}
			}
			n.Settings[strings.TrimPrefix(s.Key, "settings.")] = s.Value
		}
	}
	return out
}

func cloneSettings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
