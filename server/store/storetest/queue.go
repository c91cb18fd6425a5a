package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testQueues: store.QueueTx and store.QueueReader. A saved ticket reads
// back with its offers (sorted), saving it again replaces both, and a
// deleted one is ErrNotFound; the waiting count counts waiting and
// offered tickets of the team, the asking conversation left out; a user
// sees the tickets offered or assigned to them, oldest first; the
// memory, the members' counters and the statistics add up; notes read
// back for their conversation only.
func testQueues(t *testing.T, s store.Store) {
	const num = "+15550100"
	qr, ok := s.(store.QueueReader)
	if !ok {
		t.Fatalf("store %T is not a store.QueueReader", s)
	}
	ctx := context.Background()
	tickets := []store.QueueTicket{
		{Contact: "+15550000001", Number: num, Started: T0, Team: "support", Status: "offered", Offered: []string{"carol", "bob"}, Since: T0.Add(time.Minute), Updated: T0.Add(time.Minute), Flow: "f"},
		{Contact: "+15550000002", Number: num, Started: T0, Team: "support", Status: "waiting", Since: T0.Add(2 * time.Minute), Updated: T0.Add(2 * time.Minute), Flow: "f"},
		{Contact: "+15550000003", Number: num, Started: T0, Team: "support", Status: "open", Assignee: "bob", Since: T0, Updated: T0.Add(3 * time.Minute), Flow: "f"},
		{Contact: "+15550000004", Number: num, Started: T0, Team: "billing", Status: "waiting", Since: T0, Updated: T0, Flow: "f"},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		qt := tx.(store.QueueTx)
		if err := qt.LockQueue(ctx, "support"); err != nil {
			return err
		}
		for i := range tickets {
			if err := qt.SaveQueueTicket(ctx, &tickets[i]); err != nil {
				return err
			}
		}
		if err := qt.SetQueueMemory(ctx, "support", "bob"); err != nil {
			return err
		}
		if err := qt.SetQueueMemory(ctx, "support", "carol"); err != nil {
			return err
		}
		for _, at := range []time.Time{T0, T0.Add(time.Hour)} {
			if err := qt.QueueMemberDone(ctx, "bob", at); err != nil {
				return err
			}
		}
		for range 2 {
			if err := qt.AddQueueStats(ctx, "support", map[string]int{"entered": 2, "accepted": 1, "full": 0}); err != nil {
				return err
			}
		}
		team, err := qt.QueueTeam(ctx, "support", []string{"bob", "carol"}, "+15550000002", num)
		if err != nil {
			return err
		}
		want := &store.QueueTeam{Memory: "carol", Waiting: 1, Members: map[string]store.QueueMember{"bob": {Handled: 2, LastDone: T0.Add(time.Hour)}}}
		if !sameTeam(team, want) {
			t.Errorf("QueueTeam(support) = %+v, want %+v", team, want)
		}
		team, err = qt.QueueTeam(ctx, "nobody", nil, "", "")
		if err != nil {
			return err
		}
		if team.Memory != "" || team.Waiting != 0 || team.Members != nil {
			t.Errorf("QueueTeam(nobody) = %+v, want nothing", team)
		}
		return nil
	})
	got, err := qr.QueueTicket(ctx, tickets[0].Contact, num)
	if err != nil {
		t.Fatal(err)
	}
	if want := tickets[0]; !sameTicket(*got, want, []string{"bob", "carol"}) {
		t.Errorf("QueueTicket = %+v, want %+v", got, want)
	}
	mine, err := qr.UserTickets(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].Contact != tickets[2].Contact || mine[1].Contact != tickets[0].Contact {
		t.Errorf("UserTickets(bob) = %+v, want the open one (oldest) then the offered one", mine)
	}
	waiting, err := qr.TeamTickets(ctx, "support", true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(waiting) != 2 || waiting[0].Contact != tickets[0].Contact || !reflect.DeepEqual(waiting[0].Offered, []string{"bob", "carol"}) {
		t.Errorf("TeamTickets(support, waiting) = %+v", waiting)
	}
	if all, err := qr.TeamTickets(ctx, "support", false, 1); err != nil || len(all) != 1 || all[0].Contact != tickets[2].Contact {
		t.Errorf("TeamTickets(support, all, 1) = %+v, %v; want the oldest", all, err)
	}
	stats, err := qr.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string]int64{"support": {"entered": 4, "accepted": 2}}; !reflect.DeepEqual(stats, want) {
		t.Errorf("QueueStats = %v, want %v", stats, want)
	}

	// Saving again replaces the offers; deleting removes the ticket.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		qt := tx.(store.QueueTx)
		again := tickets[0]
		again.Status, again.Offered, again.Assignee = "open", nil, "carol"
		if err := qt.SaveQueueTicket(ctx, &again); err != nil {
			return err
		}
		if err := qt.DeleteQueueTicket(ctx, tickets[1].Contact, num); err != nil {
			return err
		}
		return qt.DeleteQueueTicket(ctx, "+15559999999", num) // none: no error
	})
	if got, err := qr.UserTickets(ctx, "bob"); err != nil || len(got) != 1 {
		t.Errorf("UserTickets(bob) after the offer was taken = %+v, %v; want the open one only", got, err)
	}
	if got, err := qr.QueueTicket(ctx, tickets[0].Contact, num); err != nil || got.Assignee != "carol" || got.Offered != nil {
		t.Errorf("ticket saved again = %+v, %v", got, err)
	}
	if _, err := qr.QueueTicket(ctx, tickets[1].Contact, num); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted ticket: err = %v, want ErrNotFound", err)
	}

	// Notes.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		qt := tx.(store.QueueTx)
		for i, n := range []store.ConversationNote{
			{Contact: tickets[0].Contact, Number: num, Started: T0, User: "bob", Body: "called back", Created: T0.Add(time.Minute)},
			{Contact: tickets[0].Contact, Number: num, Started: T0.Add(time.Hour), User: "bob", Body: "a later conversation", Created: T0.Add(time.Hour)},
			{Contact: tickets[0].Contact, Number: num, Started: T0, User: "carol", Body: "refund sent", Created: T0.Add(2 * time.Minute)},
		} {
			if err := qt.AddConversationNote(ctx, &n); err != nil {
				return err
			}
			if n.ID == 0 {
				t.Errorf("note %d: no ID set", i)
			}
		}
		return nil
	})
	notes, err := qr.ConversationNotes(ctx, tickets[0].Contact, num, T0)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].Body != "called back" || notes[1].User != "carol" || !sameTime(notes[1].Created, T0.Add(2*time.Minute)) {
		t.Errorf("ConversationNotes = %+v", notes)
	}
}

func sameTeam(a, b *store.QueueTeam) bool {
	if a.Memory != b.Memory || a.Waiting != b.Waiting || len(a.Members) != len(b.Members) {
		return false
	}
	for k, m := range b.Members {
		if a.Members[k].Handled != m.Handled || !sameTime(a.Members[k].LastDone, m.LastDone) {
			return false
		}
	}
	return true
}

func sameTicket(a, b store.QueueTicket, offered []string) bool {
	return a.Contact == b.Contact && a.Number == b.Number && sameTime(a.Started, b.Started) && a.Team == b.Team &&
		a.Status == b.Status && a.Assignee == b.Assignee && reflect.DeepEqual(a.Offered, offered) &&
		sameTime(a.Since, b.Since) && sameTime(a.Updated, b.Updated) && a.Flow == b.Flow
}
