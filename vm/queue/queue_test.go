package queue

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/lang/registry"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func members(names ...string) []Member {
	var out []Member
	for _, n := range names {
		out = append(out, Member{Name: n, Available: true})
	}
	return out
}

func TestStrategiesMatchRegistry(t *testing.T) {
	if !slices.Equal(Strategies, registry.QueueStrategies) {
		t.Fatalf("vm/queue.Strategies %v != registry.QueueStrategies %v", Strategies, registry.QueueStrategies)
	}
	for _, s := range Strategies {
		if _, ok := Canonical(s); !ok {
			t.Errorf("Canonical(%q) not ok", s)
		}
	}
}

func offer(t *testing.T, strategy string, p Pick) []string {
	t.Helper()
	s, _ := Canonical(strategy)
	_, off := Offer(Settings{Strategy: s}, Enter("support", t0), p, t0)
	return off.To
}

func TestOfferStrategies(t *testing.T) {
	ms := members("alice", "bob", "carol")
	ms[1].Available = false // bob is away: never offered
	cases := []struct {
		strategy string
		pick     Pick
		want     []string
	}{
		{"ringall", Pick{Members: ms}, []string{"alice", "carol"}},
		{"linear", Pick{Members: ms}, []string{"alice"}},
		{"round-robin", Pick{Members: ms}, []string{"alice"}},
		{"rrmemory", Pick{Members: ms, Memory: "alice"}, []string{"carol"}},
		{"rrmemory", Pick{Members: ms, Memory: "carol"}, []string{"alice"}},
		{"rrmemory", Pick{Members: ms, Memory: "gone"}, []string{"alice"}},
		{"fewestcalls", Pick{Members: []Member{{Name: "a", Available: true, Handled: 3}, {Name: "b", Available: true, Handled: 1}}}, []string{"b"}},
		{"leastrecent", Pick{Members: []Member{{Name: "a", Available: true, LastDone: t0}, {Name: "b", Available: true, LastDone: t0.Add(-time.Hour)}}}, []string{"b"}},
		{"leastrecent", Pick{Members: []Member{{Name: "a", Available: true, LastDone: t0}, {Name: "b", Available: true}}}, []string{"b"}},
		{"wrandom", Pick{Members: []Member{{Name: "a", Available: true, Weight: 0}, {Name: "b", Available: false, Weight: 100}}, Seed: "SM1"}, []string{"a"}},
		{"linear", Pick{Members: []Member{{Name: "a"}}}, nil},
	}
	for _, c := range cases {
		if got := offer(t, c.strategy, c.pick); !slices.Equal(got, c.want) {
			t.Errorf("%s %+v: offered %v, want %v", c.strategy, c.pick, got, c.want)
		}
	}
}

func TestRandomIsDeterministicAndWeighted(t *testing.T) {
	ms := members("a", "b", "c")
	for _, seed := range []string{"SM1", "SM2", "SM3"} {
		if x, y := offer(t, "random", Pick{Members: ms, Seed: seed}), offer(t, "random", Pick{Members: ms, Seed: seed}); !slices.Equal(x, y) {
			t.Fatalf("random with seed %s: %v then %v", seed, x, y)
		}
	}
	heavy := []Member{{Name: "light", Available: true, Weight: 1}, {Name: "heavy", Available: true, Weight: 99}}
	n := 0
	for i := range 200 {
		if offer(t, "wrandom", Pick{Members: heavy, Seed: "SM" + string(rune('a'+i%26)) + string(rune('a'+i/26))})[0] == "heavy" {
			n++
		}
	}
	if n < 180 {
		t.Fatalf("wrandom gave the member of weight 99 (of 100) %d of 200 offers", n)
	}
}

func TestReservationMovesOn(t *testing.T) {
	s := Settings{Strategy: Linear, Reserve: 30 * time.Second, Wait: 10 * time.Minute}
	p := Pick{Members: members("alice", "bob")}
	tk, off := Offer(s, Enter("support", t0), p, t0)
	if !slices.Equal(off.To, []string{"alice"}) || tk.Status != Offered {
		t.Fatalf("first offer: %v %s", off.To, tk.Status)
	}
	if got := Next(s, tk); !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("next deadline %v", got)
	}
	if d := Due(s, tk, t0.Add(29*time.Second)); d != "" {
		t.Fatalf("due early: %s", d)
	}
	now := t0.Add(30 * time.Second)
	if d := Due(s, tk, now); d != LimitReservation {
		t.Fatalf("due %q", d)
	}
	tk, _ = Expire(tk, LimitReservation, now)
	tk, off = Offer(s, tk, p, now)
	if !slices.Equal(off.To, []string{"bob"}) {
		t.Fatalf("after alice's reservation passed, offered %v", off.To)
	}
	tk, _ = Expire(tk, LimitReservation, now.Add(30*time.Second))
	_, off = Offer(s, tk, p, now.Add(30*time.Second))
	if !slices.Equal(off.To, []string{"alice"}) {
		t.Fatalf("after everyone passed, a new round offers %v", off.To)
	}
	if d := Due(s, Enter("support", t0), t0.Add(10*time.Minute)); d != LimitWait {
		t.Fatalf("at the wait limit, due %q", d)
	}
}

func TestAgentActions(t *testing.T) {
	s := Settings{Strategy: RingAll, ServiceLevel: 2 * time.Minute, Transfer: 5 * time.Minute, Inactivity: time.Hour}
	tk, _ := Offer(s, Enter("support", t0), Pick{Members: members("alice", "bob")}, t0)
	if _, _, err := Accept(tk, "mallory", t0); !errors.Is(err, ErrNotYours) {
		t.Fatalf("accept by someone not offered: %v", err)
	}
	tk, waited, err := Accept(tk, "bob", t0.Add(3*time.Minute))
	if err != nil || tk.Assignee != "bob" || waited != 3*time.Minute || WithinServiceLevel(s, waited) {
		t.Fatalf("accept: %+v %v %v", tk, waited, err)
	}
	if _, err := Reply(tk, "alice", t0); !errors.Is(err, ErrNotYours) {
		t.Fatalf("alice replies to bob's: %v", err)
	}
	now := t0.Add(4 * time.Minute)
	tk, err = Transfer(tk, "bob", "user:carol", now)
	if err != nil || tk.Status != Transferring || !slices.Equal(tk.Offered, []string{"carol"}) {
		t.Fatalf("transfer: %+v %v", tk, err)
	}
	if d := Due(s, tk, now.Add(5*time.Minute)); d != LimitTransfer {
		t.Fatalf("transfer limit: due %q", d)
	}
	back, _ := Expire(tk, LimitTransfer, now.Add(5*time.Minute))
	if back.Status != Open || back.Assignee != "bob" {
		t.Fatalf("after the transfer limit: %+v", back)
	}
	taken, waited, err := Accept(tk, "carol", now.Add(time.Minute))
	if err != nil || taken.Assignee != "carol" || waited != 0 {
		t.Fatalf("carol takes the transfer: %+v %v %v", taken, waited, err)
	}
	if err := Finish(taken, "bob"); !errors.Is(err, ErrNotYours) {
		t.Fatalf("bob finishes carol's: %v", err)
	}
	if err := Finish(taken, "carol"); err != nil {
		t.Fatal(err)
	}
	if d := Due(s, taken, now.Add(time.Minute+time.Hour)); d != LimitInactivity {
		t.Fatalf("inactivity: due %q", d)
	}
	if _, closed := Expire(taken, LimitInactivity, now); !closed {
		t.Fatal("inactivity does not close")
	}
}

func TestAdmitAndPosition(t *testing.T) {
	if !Admit(Settings{}, 1000) || Admit(Settings{Max: 2}, 2) || !Admit(Settings{Max: 2}, 1) {
		t.Fatal("Admit")
	}
	a, b := Enter("s", t0), Enter("s", t0.Add(time.Minute))
	other := Enter("x", t0)
	q := []*Ticket{a, other, b}
	if Position(a, q) != 1 || Position(b, q) != 2 {
		t.Fatalf("positions %d %d", Position(a, q), Position(b, q))
	}
}
