package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
)

// TestNumbersPages: GET /v1/admin/numbers?limit=N lists the numbers N
// at a time, each page's "next" leading to the rest,
// the same as one unpaged listing; a bad limit or cursor is a 400 naming
// it.
func TestNumbersPages(t *testing.T) {
	h, tok := adminHarness(t)
	t0 := time.Now().UTC()
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		for i := range 5 {
			m := store.Message{SID: fmt.Sprintf("SMu%d", i), From: "+15557654321", To: fmt.Sprintf("+1555999000%d", i),
				Outcome: "no-flow", Response: "{}", Received: t0}
			if err := tx.InsertMessage(context.Background(), &m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(q string) server.NumbersResponse {
		t.Helper()
		code, body := h.admin("GET", "/v1/admin/numbers"+q, tok, nil)
		if code != 200 {
			t.Fatalf("numbers%s: %d %s", q, code, body)
		}
		var out server.NumbersResponse
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	whole := get("")
	texted := 0
	for _, n := range whole.Numbers {
		if n.TextedUnrouted {
			texted++
		}
	}
	if whole.Next != "" || texted != 5 || len(whole.Numbers) < 7 {
		t.Fatalf("one page of everything: %+v", whole)
	}
	for _, limit := range []int{1, 2, 3, len(whole.Numbers) - 5, len(whole.Numbers), len(whole.Numbers) + 5} {
		var got server.NumbersResponse
		cursor, pages := "", 0
		for {
			page := get(fmt.Sprintf("?limit=%d&cursor=%s", limit, url.QueryEscape(cursor)))
			if n := len(page.Numbers); n > limit || (n == 0 && page.Next != "") {
				t.Fatalf("limit %d: a page of %d numbers, next %q", limit, n, page.Next)
			}
			got.Numbers = append(got.Numbers, page.Numbers...)
			if pages++; page.Next == "" || pages > 50 {
				break
			}
			cursor = page.Next
		}
		if !reflect.DeepEqual(got.Numbers, whole.Numbers) {
			t.Errorf("limit %d, page by page: %+v\nwant %+v", limit, got, whole)
		}
	}
	// The cursors of servers from before the merged listing go on after
	// the number they name.
	for _, old := range []string{"routed:", "unrouted:"} {
		mid := whole.Numbers[3].Number
		if page := get("?cursor=" + url.QueryEscape(old+mid)); !reflect.DeepEqual(page.Numbers, whole.Numbers[4:]) {
			t.Errorf("cursor %s%s: %+v, want the numbers after it", old, mid, page.Numbers)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=x", "?cursor=bogus"} {
		if code, body := h.admin("GET", "/v1/admin/numbers"+q, tok, nil); code != 400 {
			t.Errorf("numbers%s: %d %s, want 400", q, code, body)
		}
	}
	// A cursor whose "+" was not escaped reads as a space: refused, saying
	// so, instead of the list starting again from the top.
	if page := get("?limit=1"); !strings.Contains(page.Next, "+") {
		t.Fatalf("first page's next %q: want a number's cursor", page.Next)
	} else {
		code, body := h.admin("GET", "/v1/admin/numbers?limit=1&cursor="+page.Next, tok, nil)
		if code != 400 || !strings.Contains(string(body), "%2B") {
			t.Errorf("numbers with an unescaped cursor %q: %d %s, want 400 naming %%2B", page.Next, code, body)
		}
	}
}

// TestInboxPages: with ?limit= the inbox is an object of items and a
// next cursor; without it, a bare array of the first page (as clients
// from before pages read it), the cursor in X-Next-Cursor.
func TestInboxPages(t *testing.T) {
	h, tok := adminHarness(t)
	var want []int64
	err := h.store.InTx(context.Background(), func(tx store.Tx) error {
		for i := range 7 {
			it := store.InboxItem{TargetKind: "team", TargetName: "support", MessageSID: fmt.Sprintf("SMi%d", i), Body: fmt.Sprint(i), Created: time.Now()}
			if err := tx.AddInboxItem(context.Background(), &it); err != nil {
				return err
			}
			want = append(want, it.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		code, body := h.admin("GET", "/v1/admin/inbox/team/support?limit=3&cursor="+cursor, tok, nil)
		if code != 200 {
			t.Fatalf("inbox page: %d %s", code, body)
		}
		var page struct {
			Items []struct{ ID int64 } `json:"items"`
			Next  string               `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("inbox page: %v: %s", err, body)
		}
		if len(page.Items) > 3 {
			t.Fatalf("a page of %d items with limit 3", len(page.Items))
		}
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inbox page by page: %v, want %v", got, want)
	}
	// A client from before pages: a bare array.
	code, body := h.admin("GET", "/v1/admin/inbox/team/support", tok, nil)
	var items []struct{ ID int64 }
	if code != 200 || json.Unmarshal(body, &items) != nil || len(items) != len(want) {
		t.Errorf("inbox without pages: %d %s", code, body)
	}
	for _, q := range []string{"?limit=0", "?limit=100000", "?cursor=-1", "?cursor=x"} {
		if code, body := h.admin("GET", "/v1/admin/inbox/team/support"+q, tok, nil); code != 400 {
			t.Errorf("inbox%s: %d %s, want 400", q, code, body)
		}
	}
}
