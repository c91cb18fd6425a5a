package inbound

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/vm"
)

// The contact a flow sees: the directory's entry (blank values missing),
// then the tags flows added; an unknown number with added tags is still
// unknown.
func TestContact(t *testing.T) {
	c := Contact(&directory.Contact{Phone: "+1", Name: "Ann", Tags: []string{"vip"}, Fields: map[string]string{"plan": "pro", "blank": ""}}, []string{"returning"})
	if !c.Known || *c.Name != "Ann" || c.Owner != nil || !slices.Equal(c.Tags, []string{"vip", "returning"}) || *c.Fields["plan"] != "pro" || c.Fields["blank"] != nil {
		t.Errorf("known contact: %+v", c)
	}
	u := Contact(nil, []string{"returning"})
	if u.Known || u.Name != nil || !slices.Equal(u.Tags, []string{"returning"}) {
		t.Errorf("unknown contact: %+v", u)
	}
}

// A timer's id names its deadline to the nanosecond (the server stores
// it as the timer's MessageSid), so each deadline fires once.
func TestTimerIDNamesTheDeadline(t *testing.T) {
	d := time.Date(2026, 11, 23, 15, 10, 0, 0, time.UTC)
	if a, b := TimerID("+1", "+2", d), TimerID("+1", "+2", d.Add(time.Nanosecond)); a == b || a != "timer:+1:+2:1795446600000000000" {
		t.Errorf("timer ids %q, %q", a, b)
	}
}

// A message to a number no flow serves is recorded and not answered,
// whatever it says: STOP is not an opt-out there.
func TestNoRoute(t *testing.T) {
	p, err := Step(context.Background(), &Input{Msg: vm.Message{ID: "SM1", From: "+1", To: "+2", Body: "STOP"}}, nil)
	if err != nil || p.Outcome != OutcomeNoFlow || len(p.Replies) != 0 || p.OptOut != nil || !p.Record {
		t.Errorf("plan %+v, %v", p, err)
	}
}
