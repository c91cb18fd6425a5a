package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/flowc-dev/flowc/server/store"
)

// The route table (every number's flow, every draft) changes only on a
// deploy, a rollback or a routing change, so the server keeps it in
// memory and reads it again only when the store's RoutesVersion, read
// with every step's state (store.StepState), is past the one it holds: a
// change committed by any replica is seen by the next message read after
// it. A commit that starts a conversation checks that the version is
// still the one routed by (commitStep).

// routeTable is store.RouteTable indexed for routing.
type routeTable struct {
	version int64
	numbers map[string]store.NumberRoute
	calls   map[string]store.NumberRoute // the numbers' call flows
	drafts  []store.Draft                // by flow, as the store lists them
	tested  map[string][]int             // test contact → indexes into drafts, in order
}

func newRouteTable(rt *store.RouteTable) *routeTable {
	t := &routeTable{version: rt.Version, numbers: make(map[string]store.NumberRoute, len(rt.Numbers)),
		drafts: rt.Drafts, tested: map[string][]int{}}
	for _, n := range rt.Numbers {
		t.numbers[n.Number] = n
	}
	t.calls = make(map[string]store.NumberRoute, len(rt.Calls))
	for _, n := range rt.Calls {
		t.calls[n.Number] = n
	}
	for i, d := range rt.Drafts {
		for _, c := range d.Contacts {
			t.tested[c] = append(t.tested[c], i)
		}
	}
	return t
}

// route is routeFor on the table: the flow and version a first message
// from contact to number starts on; ok false when none serves it.
func (t *routeTable) route(number, contact string) (flow, version string, ok bool) {
	n, routed := t.numbers[number]
	var drafts []store.Draft
	for _, i := range t.tested[contact] {
		drafts = append(drafts, t.drafts[i])
	}
	flow, version = draftRoute(n.Flow, n.Version, number, drafts)
	return flow, version, routed || flow != ""
}

// callRoute is the call flow and version answering a call to number;
// ok false when none does. (Drafts answer test contacts' texts only.)
func (t *routeTable) callRoute(number string) (flow, version string, ok bool) {
	n, ok := t.calls[number]
	return n.Flow, n.Version, ok
}

// draftRoute is the route of a first message to number from a contact
// whose drafts (by flow) are drafts, when flow/version route number ("":
// no flow does): that flow's draft when the contact tests it; with no
// flow, a draft that declares number. routeFor and routeTable.route
// share it, so the cache and the commit's fallback check cannot differ.
func draftRoute(flow, version, number string, drafts []store.Draft) (string, string) {
	for _, d := range drafts {
		if (flow != "" && d.Flow == flow) || (flow == "" && slices.Contains(d.Numbers, number)) {
			return d.Flow, d.Version
		}
	}
	return flow, version
}

// routeCache holds the newest route table read.
type routeCache struct {
	cur  atomic.Pointer[routeTable]
	load sync.Mutex // one reload at a time; the others wait and use it
}

// maxRouteReads bounds the reads of a route table that keeps changing
// while it is read (RouteTable's ErrConflict).
const maxRouteReads = 4

// routeTableAt is a route table at least as new as version (the RoutesVersion
// a step read), from memory or read again.
func (s *Server) routeTableAt(ctx context.Context, version int64) (*routeTable, error) {
	if t := s.routeCache.cur.Load(); t != nil && t.version >= version {
		return t, nil
	}
	s.routeCache.load.Lock()
	defer s.routeCache.load.Unlock()
	if t := s.routeCache.cur.Load(); t != nil && t.version >= version { // another request read it meanwhile
		return t, nil
	}
	var rt *store.RouteTable
	for attempt := 1; ; attempt++ {
		err := s.readStoreTx(ctx, func(tx store.Tx) error {
			dt, err := deployTx(tx)
			if err != nil {
				return err
			}
			rt, err = dt.RouteTable(ctx)
			return err
		})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= maxRouteReads {
			return nil, fmt.Errorf("reading the route table: %w", err)
		}
	}
	t := newRouteTable(rt)
	s.routeCache.cur.Store(t)
	return t, nil
}

// readStoreTx runs fn in a read-only transaction (store.Reader: on
// SQLite not the writers' connection), or in InTx on a store without one.
func (s *Server) readStoreTx(ctx context.Context, fn func(tx store.Tx) error) error {
	if r, ok := s.store.(store.Reader); ok {
		return r.InReadTx(ctx, fn)
	}
	return s.store.InTx(ctx, fn)
}
