package runtime

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// historyEnv is a contact alice texted 2h ago and bob called 30m ago,
// with a campaign message, on a number with a backup e-mail.
func historyEnv() *Env {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	alice, bob, spring, sales := "alice", "bob", "spring", "sales@example.com"
	h := History{Interactions: []Interaction{
		{Kind: InteractionSMS, Direction: DirectionInbound, Number: "+15550100", At: now.Add(-10 * time.Minute)},
		{Kind: InteractionCall, Direction: DirectionOutbound, Number: "+15550100", User: &bob, At: now.Add(-30 * time.Minute)},
		{Kind: InteractionSMS, Direction: DirectionOutbound, Number: "+15550100", User: &alice, At: now.Add(-2 * time.Hour)},
		{Kind: InteractionSMS, Direction: DirectionOutbound, Number: "+15550100", Campaign: &spring, At: now.Add(-48 * time.Hour)},
	}, Campaign: &Campaign{Name: spring, ReplyEmail: &sales, At: now.Add(-48 * time.Hour)}}
	return &Env{Body: "hi", From: "+15557654321", To: "+15550100", Now: now,
		Contact: KnownContact("Ann", "carol", nil, nil).WithHistory(h),
		Number:  NumberSettings("front desk", "desk@example.com", map[string]string{"region": "east", "blank": ""}),
		Lists: func(name string) (map[string]bool, error) {
			switch name {
			case "blocked":
				return map[string]bool{"+15557654321": true}, nil
			case "broken":
				return nil, errors.New("store down")
			}
			return nil, nil
		}}
}

// TestHistoryExpressions: the history fields, number.* and list() read
// as plain data, typed for check.
func TestHistoryExpressions(t *testing.T) {
	c := &Compiler{Vars: map[string]bool{"v": true}}
	cases := []struct {
		src  string
		kind ExprKind
		want any
	}{
		{`contact.last_texted_by`, Value, "alice"},
		{`contact.last_called_by ?? "nobody"`, Value, "bob"},
		{`contact.last_interaction?.kind`, Value, "sms"},
		{`contact.last_interaction?.user`, Value, nil},
		{`contact.last_interaction.direction == "inbound"`, Condition, true},
		{`count(contact.interactions, .kind == "sms" and .at > now - duration("24h"))`, Value, 2},
		{`count(contact.interactions, .user == "alice")`, Value, 1},
		{`map(filter(contact.interactions, .kind == "call"), .user)`, Value, []any{"bob"}},
		{`contact.campaign?.reply_email`, Value, "sales@example.com"},
		{`contact.campaign?.reply_user ?? "none"`, Value, "none"},
		{`contact.last_texted_by ?? contact.last_called_by ?? contact.owner ?? number.backup_email`, Name, "alice"},
		{`number.backup_email`, Value, "desk@example.com"},
		{`number.settings.region`, Value, "east"},
		{`number.settings.blank ?? "-"`, Value, "-"},
		{`from in list("blocked")`, Condition, true},
		{`"+1555" in list("blocked")`, Condition, false},
		{`from in list("nobody")`, Condition, false},
		{`contact.campaign`, Value, map[string]any{"name": "spring", "reply_user": nil, "reply_email": "sales@example.com", "at": time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}},
		{`len(contact.interactions)`, Value, 4},
		{`contact.interactions[1].user`, Value, "bob"},
	}
	for _, tc := range cases {
		ce, err := c.Compile(tc.src, tc.kind)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		got, err := Eval(ce, historyEnv())
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.src, got, tc.want)
		}
	}
	// Whole values are plain data: no pointer or struct leaves an expression.
	for _, src := range []string{`contact.last_interaction`, `contact.interactions`, `filter(contact.interactions, .kind == "call")`, `number`, `first(contact.interactions)`, `map(contact.interactions, #)`} {
		ce, err := c.Compile(src, Value)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		got, err := Eval(ce, historyEnv())
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if s := reflect.TypeOf(got).String(); strings.Contains(s, "runtime.") || strings.Contains(renderJSON(got), "Kind") {
			t.Errorf("%s is %s %v, want plain data", src, s, got)
		}
	}
}

// TestHistoryCompileErrors: what check reports.
func TestHistoryCompileErrors(t *testing.T) {
	c := &Compiler{Vars: map[string]bool{"n": true}}
	cases := []struct {
		src  string
		kind ExprKind
		want string
	}{
		{`contact.last_interaction?.usr`, Value, "has no field usr"},
		{`list(body)`, Value, "string literal"},
		{`list()`, Value, "one argument"},
		{`list("a", "b")`, Value, "one argument"},
		{`contact.interactions + 1`, Value, "cannot use `+`"},
		{`1 + 2`, Name, "a target's name must be a string, but this is a number"},
		{`contact.tags`, Name, "a target's name must be a string, but this is a list"},
		{`"vip" in contact.tags`, Name, "must be a string, but this is a bool"},
	}
	for _, tc := range cases {
		_, err := c.Compile(tc.src, tc.kind)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	for _, src := range []string{`contact.owner`, `n`, `"alice"`, `contact.owner ?? "x"`, `nil`, `upper(body)`} {
		if _, err := c.Compile(src, Name); err != nil {
			t.Errorf("%s as a name: %v", src, err)
		}
	}
}

// TestListErrors: a list that cannot be read is the expression's error.
func TestListErrors(t *testing.T) {
	ce, err := (&Compiler{}).Compile(`from in list("broken")`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Eval(ce, historyEnv()); err == nil || !strings.Contains(err.Error(), `list("broken"): store down`) {
		t.Fatalf("error %v", err)
	}
	if !ce.ReadsList() {
		t.Error("ReadsList false")
	}
	env := historyEnv()
	env.Lists = nil
	if v, err := Eval(ce, env); err != nil || v != false {
		t.Errorf("without lists: %v, %v", v, err)
	}
}

func TestTargetName(t *testing.T) {
	s := "x"
	for _, tc := range []struct {
		v    any
		want string
		err  bool
	}{{nil, "", false}, {"bob", "bob", false}, {&s, "x", false}, {(*string)(nil), "", false}, {3.0, "", true}} {
		got, err := TargetName(tc.v)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("TargetName(%v) = %q, %v", tc.v, got, err)
		}
	}
}

// TestListLookupIsOneStep: `from in list(...)` does not scan the list,
// so a blacklist of any size costs one look-up.
func TestListLookupIsOneStep(t *testing.T) {
	big := make(map[string]bool, MaxSteps+10)
	for i := 0; i < MaxSteps+10; i++ {
		big["+1"+strings.Repeat("0", 3)+time.Duration(i).String()] = true
	}
	ce, err := (&Compiler{}).Compile(`from in list("big")`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{From: "+1", Lists: func(string) (map[string]bool, error) { return big, nil }}
	if v, err := Eval(ce, env); err != nil || v != false {
		t.Fatalf("%v, %v", v, err)
	}
}

// TestHistoryBudget: a loop over the interactions is charged like any
// other (each interaction once, and the closure per element), and stays
// far inside an expression's budget at MaxInteractions.
func TestHistoryBudget(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	h := History{}
	for i := 0; i < MaxInteractions; i++ {
		h.Interactions = append(h.Interactions, Interaction{Kind: InteractionSMS, Direction: DirectionOutbound, At: now.Add(-time.Duration(i) * time.Hour)})
	}
	env := &Env{Now: now, Contact: Contact{}.WithHistory(h), Budget: NewBudget()}
	ce, err := (&Compiler{}).Compile(`count(contact.interactions, .kind == "sms" and .at > now - duration("24h"))`, Value)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Eval(ce, env)
	if err != nil || v != 24 {
		t.Fatalf("%v, %v", v, err)
	}
	if s := env.Budget.Steps; s < MaxInteractions || s > 100*MaxInteractions {
		t.Errorf("charged %d steps for %d interactions", s, MaxInteractions)
	}
}
