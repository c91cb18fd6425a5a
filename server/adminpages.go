package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/server/store"
)

// The admin listings that may be long (`flowc numbers`, `flowc inbox`)
// come in pages: at most ?limit= entries (default defaultPageSize, at
// most maxPageSize), and a "next" cursor to pass as ?cursor= for the
// following page ("" on the last). They run in read-only transactions
// (store.Reader), which on SQLite never hold the write connection.

const (
	defaultPageSize = 500
	maxPageSize     = 5000
)

// DefaultAdminReads is how many admin listings may run at once unless
// Config.AdminReads (FLOWC_ADMIN_READS) says otherwise.
const DefaultAdminReads = 1

// MaxAdminReads bounds Config.AdminReads.
const MaxAdminReads = 64

// adminGate bounds the admin listings (an inbox page, the numbers, the
// outbox), so that admin reads cannot take the store's connections or
// the CPUs the webhooks need: at most n run at once, and each then holds
// its slot for as long again as it took (its rest), so that a client
// reading page after page keeps a slot busy at most half of the time.
// One client looping over the listings used to take a core (its queries
// in PostgreSQL, its JSON in flowc) beside the webhooks on a 2-core
// machine; a dashboard polling every few seconds never waits. A read
// waits for a slot until its request's context ends (docs/server.md).
type adminGate struct {
	slots chan struct{}
	now   func() time.Time            // time.Now: the read's real duration (Config.Now is the flows' clock, which tests move)
	after func(time.Duration, func()) // frees the slot after the rest: time.AfterFunc
}

func newAdminGate(n int) *adminGate {
	if n <= 0 {
		n = DefaultAdminReads
	}
	return &adminGate{slots: make(chan struct{}, n), now: time.Now,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// enter takes a slot, waiting for one until ctx ends; release ends the
// read and frees the slot after the rest. A free slot is taken even when
// ctx has ended (the read itself then fails on ctx).
func (g *adminGate) enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	default:
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, &adminBusyError{cap(g.slots), ctx.Err()}
		}
	}
	start := g.now()
	return func() {
		rest := g.now().Sub(start)
		if rest <= 0 {
			<-g.slots
			return
		}
		g.after(rest, func() { <-g.slots })
	}, nil
}

// adminBusyError: the request ended while it waited for a slot.
type adminBusyError struct {
	slots int
	err   error
}

func (e *adminBusyError) Error() string {
	return fmt.Sprintf("admin reads busy: the request ended waiting for one of the %d admin read slots (FLOWC_ADMIN_READS): %v", e.slots, e.err)
}

func (e *adminBusyError) Unwrap() error { return e.err }

// adminRead runs the listing next in one of the admin read slots
// (adminGate), the whole request: the store's transaction and the JSON
// it writes, which for an inbox page of 500 items costs as much CPU.
func (s *Server) adminRead(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := s.adminReads.enter(r.Context())
		if err != nil {
			s.storeError(w, err)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// readTx runs fn in a read-only transaction when the store has them,
// else in an ordinary one.
func (s *Server) readTx(ctx context.Context, fn func(tx store.Tx, a store.AdminTx) error) error {
	run := s.store.InTx
	if r, ok := s.store.(store.Reader); ok {
		run = r.InReadTx
	}
	return run(ctx, func(tx store.Tx) error {
		a, ok := tx.(store.AdminTx)
		if !ok {
			return fmt.Errorf("store %T has no admin operations", tx)
		}
		return fn(tx, a)
	})
}

// pageSize reads ?limit=.
func pageSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, &badRequest{http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to %d", v, maxPageSize)}
	}
	return n, nil
}

// inboxEntry is an item with what its message caused to be sent
// (status.go).
type inboxEntry struct {
	store.InboxItem
	Replies []Delivery `json:"replies"`
}

// InboxPage is a page of an inbox, when the request asks for pages
// (?limit= or ?cursor=).
type InboxPage struct {
	Items []inboxEntry `json:"items"`
	// Next is the cursor of the next page (the last item's ID), "" when
	// this is the last.
	Next string `json:"next"`
}

// listInbox answers a page of the inbox: an object (InboxPage) when the
// request names ?limit= or ?cursor=; else, for clients from before pages,
// the first page as a bare array, with the next cursor in the
// X-Next-Cursor header.
func (s *Server) listInbox(w http.ResponseWriter, r *http.Request) {
	kind, name := chi.URLParam(r, "kind"), chi.URLParam(r, "name")
	if kind != "user" && kind != "team" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "inbox kind must be user or team"})
		return
	}
	q := r.URL.Query()
	all := q.Get("all") == "true"
	limit, err := pageSize(r)
	if err != nil {
		s.storeError(w, err)
		return
	}
	var after int64
	if c := q.Get("cursor"); c != "" {
		if after, err = strconv.ParseInt(c, 10, 64); err != nil || after < 0 {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("cursor %q: not a cursor this server gave (pass the last page's \"next\")", c)})
			return
		}
	}
	var page InboxPage
	err = s.readTx(r.Context(), func(tx store.Tx, a store.AdminTx) error {
		items, next, err := a.InboxPage(r.Context(), kind, name, all, after, limit)
		if err != nil {
			return err
		}
		page = InboxPage{Items: make([]inboxEntry, 0, len(items))}
		if next != 0 {
			page.Next = strconv.FormatInt(next, 10)
		}
		sids := make([]string, len(items))
		for i, it := range items {
			sids[i] = it.MessageSID
		}
		deliveries, err := s.deliveriesOfMany(r.Context(), tx, sids)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.Messages == nil { // an item from before items kept them
				it.Messages = []store.InboxMessage{}
			}
			d := deliveries[it.MessageSID]
			if d == nil {
				d = []Delivery{}
			}
			page.Items = append(page.Items, inboxEntry{it, d})
		}
		return nil
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	if q.Has("limit") || q.Has("cursor") {
		writeJSON(w, http.StatusOK, page)
		return
	}
	if page.Next != "" {
		w.Header().Set("X-Next-Cursor", page.Next)
	}
	writeJSON(w, http.StatusOK, page.Items)
}
