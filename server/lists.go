package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Lists the operator manages one entry at a time (blacklists, VIPs):
// PUT/DELETE /v1/admin/lists/NAME/ENTRY, read by flows as list("NAME")
// and by POST /v1/outbound for the outbound blacklist
// (Config.OutboundBlacklist). The server caches them as the route
// table (routes.go): every step reads the lists' version (StepState's
// ListsVersion, bumped by triggers in the transaction of each change),
// and a list is read again only when that version moved past the one
// its cached copy is of. A change on any replica is seen by the next
// message read after it.

// DefaultOutboundBlacklist is the list POST /v1/outbound refuses to send
// to (FLOWC_OUTBOUND_BLACKLIST).
const DefaultOutboundBlacklist = "blocked-outbound"

// MaxListEntryBytes bounds a list entry (a phone number, an e-mail
// address, a name).
const MaxListEntryBytes = 256

// listName is what a list may be called: it is written in flows
// (list("blocked")) and in URLs.
var listName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// listCache holds, for one lists' version, the lists read at it.
type listCache struct {
	mu      sync.Mutex
	version int64
	sets    map[string]map[string]bool
}

// maxListReads bounds the reads of a list that keeps changing while read.
const maxListReads = 4

// listReader is the step's inbound.ListReader: the lists as of version
// (the step's read) or newer.
func (s *Server) listReader(version int64) inbound.ListReader {
	return func(ctx context.Context, name string) (map[string]bool, error) { return s.listAt(ctx, name, version) }
}

// listAt is the named list at version or newer, from memory or read.
func (s *Server) listAt(ctx context.Context, name string, version int64) (map[string]bool, error) {
	c := &s.lists
	c.mu.Lock()
	if set, ok := c.sets[name]; ok && c.version >= version {
		c.mu.Unlock()
		return set, nil
	}
	c.mu.Unlock()
	var entries []string
	var v int64
	for attempt := 1; ; attempt++ {
		err := s.readStoreTx(ctx, func(tx store.Tx) error {
			ht, ok := tx.(store.HistoryTx)
			if !ok {
				return nil // a store without lists (a test's wrapper): every list is empty
			}
			var err error
			entries, v, err = ht.ListEntries(ctx, name)
			return err
		})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= maxListReads {
			return nil, fmt.Errorf("reading list %q: %w", name, err)
		}
	}
	set := make(map[string]bool, len(entries))
	for _, e := range entries {
		set[e] = true
	}
	c.mu.Lock()
	switch {
	case v > c.version: // the other lists cached may be older: dropped
		c.version, c.sets = v, map[string]map[string]bool{name: set}
	case v == c.version:
		c.sets[name] = set
	}
	c.mu.Unlock()
	return set, nil
}

// checkListEntry reports a list name or entry the API refuses, naming
// the path parameter.
func checkListEntry(name, entry string, withEntry bool) error {
	if !listName.MatchString(name) {
		return &badRequest{http.StatusBadRequest, fmt.Sprintf("list name %q: want 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit", name)}
	}
	if !withEntry {
		return nil
	}
	switch {
	case entry == "":
		return &badRequest{http.StatusBadRequest, "list entry: empty"}
	case len(entry) > MaxListEntryBytes:
		return &badRequest{http.StatusBadRequest, fmt.Sprintf("list entry: %d bytes, at most %d", len(entry), MaxListEntryBytes)}
	case !utf8.ValidString(entry):
		return &badRequest{http.StatusBadRequest, "list entry: not valid UTF-8"}
	}
	if err := storableText("entry", entry); err != nil {
		return err
	}
	return nil
}

// ListEntry is PUT /v1/admin/lists/NAME/ENTRY's answer.
type ListEntry struct {
	List  string `json:"list"`
	Entry string `json:"entry"`
	Added bool   `json:"added"` // false: it was on the list already
}

func (s *Server) putListEntry(w http.ResponseWriter, r *http.Request) {
	name, entry := pathParam(r, "name"), pathParam(r, "entry")
	if err := checkListEntry(name, entry, true); err != nil {
		s.storeError(w, err)
		return
	}
	var added bool
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		added, err = ht.PutListEntry(r.Context(), name, entry, s.cfg.Now())
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	code := http.StatusOK
	if added {
		code = http.StatusCreated
	}
	writeJSON(w, code, ListEntry{List: name, Entry: entry, Added: added})
}

func (s *Server) deleteListEntry(w http.ResponseWriter, r *http.Request) {
	name, entry := pathParam(r, "name"), pathParam(r, "entry")
	if err := checkListEntry(name, entry, true); err != nil {
		s.storeError(w, err)
		return
	}
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		return ht.DeleteListEntry(r.Context(), name, entry)
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listLists(w http.ResponseWriter, r *http.Request) {
	var out []store.ListInfo
	err := s.readStoreTx(r.Context(), func(tx store.Tx) error {
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		out, err = ht.Lists(r.Context())
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNilSlice(out))
}

// ListEntries is GET /v1/admin/lists/NAME's answer.
type ListEntries struct {
	List    string   `json:"list"`
	Entries []string `json:"entries"` // sorted bytewise; [] for an unknown or empty list
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request) {
	name := pathParam(r, "name")
	if err := checkListEntry(name, "", false); err != nil {
		s.storeError(w, err)
		return
	}
	var entries []string
	err := s.readStoreTx(r.Context(), func(tx store.Tx) error {
		ht, err := historyTx(tx)
		if err != nil {
			return err
		}
		entries, _, err = ht.ListEntries(r.Context(), name)
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ListEntries{List: name, Entries: nonNil(entries)})
}
