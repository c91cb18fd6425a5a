package inbound

import "testing"

func TestAssignRoundRobinTakesTurns(t *testing.T) {
	members := []string{"ann", "bob", "cy"}
	var got []string
	var counter int64
	for range 5 {
		m, advance := Assign(Assignment{Strategy: "round-robin", Members: members, Counter: counter})
		if !advance {
			t.Fatalf("round-robin did not use the counter")
		}
		counter++
		got = append(got, m)
	}
	want := []string{"ann", "bob", "cy", "ann", "bob"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("round-robin turns = %v, want %v", got, want)
		}
	}
}

func TestAssignLeastBusyFirstOfTheLeast(t *testing.T) {
	members := []string{"ann", "bob", "cy"}
	if m, advance := Assign(Assignment{Strategy: "least-busy", Members: members, Open: map[string]int{"ann": 2, "bob": 1, "cy": 1}}); m != "bob" || advance {
		t.Errorf("least-busy = %q (advance %v), want bob: the first of the two with one open item", m, advance)
	}
	if m, _ := Assign(Assignment{Strategy: "least-busy", Members: members}); m != "ann" {
		t.Errorf("least-busy with no open items = %q, want ann (first in the directory)", m)
	}
}

func TestAssignRandomIsStablePerMessage(t *testing.T) {
	members := []string{"ann", "bob", "cy", "dee"}
	seen := map[string]bool{}
	for _, id := range []string{"SM1", "SM2", "SM3", "SM4", "SM5", "SM6", "SM7", "SM8"} {
		a, _ := Assign(Assignment{Strategy: "random", Members: members, MessageID: id})
		b, _ := Assign(Assignment{Strategy: "random", Members: members, MessageID: id})
		if a != b || a == "" {
			t.Fatalf("random for %s: %q then %q, want one member twice (a retry picks the same)", id, a, b)
		}
		seen[a] = true
	}
	if len(seen) < 2 {
		t.Errorf("random picked only %v over 8 messages", seen)
	}
}

func TestAssignNobody(t *testing.T) {
	if m, advance := Assign(Assignment{Strategy: "round-robin"}); m != "" || advance {
		t.Errorf("no available member: %q, advance %v; want nobody, counter untouched", m, advance)
	}
	if m, _ := Assign(Assignment{Strategy: "", Members: []string{"ann"}}); m != "" {
		t.Errorf("no strategy: %q, want nobody (the team's queue)", m)
	}
}
