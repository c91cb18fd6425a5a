package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// testContactMessages: what a contact wrote to a number since a time,
// the newest first kept, without timers' runs or other conversations.
func testContactMessages(t *testing.T, s store.Store) {
	const ann, bob, num, other = "+1555001", "+1555002", "+1555999", "+1555998"
	msgs := []store.Message{
		{SID: "SMold", From: ann, To: num, Body: "an earlier conversation", Outcome: "routed", Received: T0.Add(-time.Hour)},
		{SID: "SM1", From: ann, To: num, Body: "my order is late", Outcome: "routed", Received: T0},
		{SID: "SM2", From: ann, To: num, Body: "here it is", Media: []string{"https://example.com/p.jpg"}, Outcome: "routed", Received: T0.Add(time.Minute)},
		{SID: "SM3", From: ann, To: num, Body: "HELP", Outcome: "help", Received: T0.Add(2 * time.Minute)},
		{SID: "timer:x", From: ann, To: num, Outcome: "timer", Received: T0.Add(3 * time.Minute)},
		{SID: "SMbob", From: bob, To: num, Body: "bob's", Outcome: "routed", Received: T0.Add(time.Minute)},
		{SID: "SMother", From: ann, To: other, Body: "another number", Outcome: "routed", Received: T0.Add(time.Minute)},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i := range msgs {
			if err := tx.InsertMessage(ctx, &msgs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	in := func(m store.Message) store.InboxMessage {
		media := m.Media
		if media == nil {
			media = []string{}
		}
		return store.InboxMessage{SID: m.SID, Body: m.Body, Media: media, Received: m.Received}
	}
	check := func(since time.Time, limit, wantTotal int, want ...store.Message) {
		t.Helper()
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, total, err := tx.ContactMessages(ctx, ann, num, since, limit)
			if err != nil {
				return err
			}
			what := fmt.Sprintf("ContactMessages(since %s, limit %d)", since.Format(time.TimeOnly), limit)
			if total != wantTotal || len(got) != len(want) {
				t.Errorf("%s: %d of %d messages, want %d of %d: %+v", what, len(got), total, len(want), wantTotal, got)
				return nil
			}
			for i := range got {
				checkEqual(t, fmt.Sprintf("%s[%d]", what, i), got[i], in(want[i]))
			}
			return nil
		})
	}
	check(T0, 10, 3, msgs[1], msgs[2], msgs[3])
	check(T0, 2, 3, msgs[2], msgs[3]) // the newest kept, oldest first
	check(T0.Add(time.Minute), 10, 2, msgs[2], msgs[3])
	check(time.Time{}, 10, 4, msgs[0], msgs[1], msgs[2], msgs[3])
	check(T0.Add(time.Hour), 10, 0)
	check(T0, 0, 3)
}
