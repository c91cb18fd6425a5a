package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"

	"github.com/flowc-dev/flowc/lang/directory"
	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// Directory is who is who: users, teams and known contacts. For the
// embedded default it is read from directory.json beside the flows
// (docs/server.md documents the format). The format and its validation
// are lang/directory's, shared with `flowc check`; this type adds the
// lookups the server makes on every message.
type Directory struct {
	Users    []User    `json:"users"`
	Teams    []Team    `json:"teams"`
	Contacts []Contact `json:"contacts"`
	Numbers  []Number  `json:"numbers,omitempty"`

	teams         map[string]*Team
	contacts      map[string]*Contact
	numbersSorted []Number             // Numbers in number order (the numbers listing)
	file          *directory.Directory // CheckFile's answer, built once by index
}

// User, Team and Contact are the directory file's entries.
type (
	User    = directory.User
	Team    = directory.Team
	Contact = directory.Contact
	Number  = directory.Number
)

// LoadDirectory reads a directory file; a missing file is an empty
// directory. Errors name the file and the offending entry.
func LoadDirectory(path string) (*Directory, error) {
	f, err := directory.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return (&Directory{}).index()
	}
	if err != nil {
		return nil, err
	}
	d := &Directory{Users: f.Users, Teams: f.Teams, Contacts: f.Contacts, Numbers: f.Numbers}
	return d.index()
}

func (d *Directory) index() (*Directory, error) {
	file := &directory.Directory{Users: d.Users, Teams: d.Teams, Contacts: d.Contacts, Numbers: d.Numbers}
	if err := file.Validate(); err != nil {
		return nil, err
	}
	d.file = nil
	if len(d.Users) > 0 || len(d.Teams) > 0 || len(d.Numbers) > 0 {
		d.file = file
	}
	d.teams = map[string]*Team{}
	d.contacts = map[string]*Contact{}
	for i := range d.Teams {
		d.teams[d.Teams[i].Name] = &d.Teams[i]
	}
	for i := range d.Contacts {
		d.contacts[d.Contacts[i].Phone] = &d.Contacts[i]
	}
	d.numbersSorted = slices.SortedFunc(slices.Values(d.Numbers), func(a, b Number) int { return strings.Compare(a.Number, b.Number) })
	return d, nil
}

// directorySetting is where the directory lives once the admin API has
// changed it.
const directorySetting = "directory"

func (s *Server) directory() *Directory { return s.dir.Load() }

// CheckFile is the directory as `flowc check` reads it, to check a flow's
// inbox targets against (check.Directory) and as the inbound stage reads
// it (computed targets, number.*); nil for an empty directory (no
// directory.json and none set through the API), against which every
// team would read as unknown. It is built once, by index, because every
// message asks for it.
func (d *Directory) CheckFile() *directory.Directory {
	if d == nil {
		return nil
	}
	return d.file
}

// saveDirectory persists d and makes it the directory in use.
func (s *Server) saveDirectory(ctx context.Context, d *Directory) error {
	_, err := s.changeDirectory(ctx, func(store.Tx, *Directory) (*Directory, error) { return d, nil })
	return err
}

// changeDirectory is every change the admin and agent APIs make to the
// directory: in one transaction holding the directory's lock
// (store.UsersTx.LockDirectory) it reads the stored directory (this
// process's when none is stored), lets change make the new one from a
// copy of it, checks it and stores it; then it is this process's. Reading
// the stored one under the lock, not this process's copy, is what keeps
// two replicas changing two users (or a user and a contact) at once from
// losing either change. change's error is returned as is, and nothing is
// stored.
func (s *Server) changeDirectory(ctx context.Context, change func(tx store.Tx, cur *Directory) (*Directory, error)) (*Directory, error) {
	var (
		d      *Directory
		became []string // users the change made available
		went   []string // and made away
	)
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T keeps no settings", tx)
		}
		if ut, ok := tx.(store.UsersTx); ok {
			if err := ut.LockDirectory(ctx); err != nil {
				return err
			}
		}
		cur, err := storedDirectory(ctx, otx)
		if err != nil {
			return err
		}
		if cur == nil {
			cur = s.directory()
		}
		if d, err = change(tx, cur.clone()); err != nil {
			return err
		}
		if _, err := d.index(); err != nil {
			return &badRequest{http.StatusBadRequest, err.Error()}
		}
		var removed []string
		became, went, removed = usersChanged(cur, d)
		if ut, ok := tx.(store.UsersTx); ok {
			for _, u := range removed { // their tokens die with them: a new user of the name gets none
				if err := ut.RevokeAllUserTokens(ctx, u, s.cfg.Now()); err != nil {
					return err
				}
			}
		}
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return otx.SetSetting(ctx, directorySetting, string(b))
	})
	if err != nil {
		return nil, err
	}
	s.dir.Store(d)
	for _, u := range became {
		s.DispatchUser(ctx, u) // queue.go: their teams' waiting conversations
	}
	for _, u := range went {
		s.passOffersOf(ctx, u) // queue.go: what was offered to them goes on
	}
	return d, nil
}

// usersChanged compares two directories: the users the second makes
// available (new and available, or back from away), those it makes away
// and those it removes.
func usersChanged(before, after *Directory) (available, away, removed []string) {
	was := map[string]bool{}
	for _, u := range before.Users {
		was[u.Name] = u.IsAvailable()
	}
	for _, u := range after.Users {
		avail, ok := was[u.Name]
		switch {
		case u.IsAvailable() && (!ok || !avail):
			available = append(available, u.Name)
		case !u.IsAvailable() && ok && avail:
			away = append(away, u.Name)
		}
		delete(was, u.Name)
	}
	for name := range was {
		removed = append(removed, name)
	}
	slices.Sort(removed)
	return available, away, removed
}

// storedDirectory is the directory the admin API stored, nil if none.
func storedDirectory(ctx context.Context, otx store.OutboxTx) (*Directory, error) {
	raw, err := otx.Setting(ctx, directorySetting)
	if errors.Is(err, store.ErrNotFound) || (err == nil && raw == "") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &Directory{}
	if err := json.Unmarshal([]byte(raw), d); err != nil {
		return nil, fmt.Errorf("stored directory: %w", err)
	}
	if _, err := d.index(); err != nil {
		return nil, fmt.Errorf("stored directory: %w", err)
	}
	return d, nil
}

// syncDirectory loads the stored directory again when the store's
// version (StepState.DirectoryVersion, read with the step) is newer than
// the one this process has: another replica saved one through the admin
// API. The first step of a process loads it once; a store without a
// version (0) never does.
func (s *Server) syncDirectory(ctx context.Context, version int64) error {
	if version == 0 || version <= s.dirVersion.Load() {
		return nil
	}
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if version <= s.dirVersion.Load() {
		return nil
	}
	if _, err := s.LoadStoredDirectory(ctx); err != nil {
		return err
	}
	s.dirVersion.Store(version)
	return nil
}

// LoadStoredDirectory replaces the directory with the one the admin API
// saved in the store, if any, and reports whether there was one.
func (s *Server) LoadStoredDirectory(ctx context.Context) (bool, error) {
	if s.store == nil { // a server without a store (a unit test's) keeps nothing
		return false, nil
	}
	var d *Directory
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return nil
		}
		var err error
		d, err = storedDirectory(ctx, otx)
		return err
	})
	if err != nil || d == nil {
		return false, err
	}
	s.dir.Store(d)
	return true, nil
}

func (d *Directory) clone() *Directory {
	b, _ := json.Marshal(d)
	c := &Directory{}
	json.Unmarshal(b, c)
	return c
}

// Members returns a team's available members, in the file's order.
func (d *Directory) Members(team string) []string {
	t, ok := d.teams[team]
	if !ok {
		return nil
	}
	var out []string
	for _, m := range t.Members {
		for _, u := range d.Users {
			if u.Name == m && u.IsAvailable() {
				out = append(out, m)
			}
		}
	}
	return out
}

// Contact returns what the directory knows of phone, with the tags
// flows added (inbound.Contact, as `flowc run` and `flowc test` see it).
func (d *Directory) Contact(phone string, extraTags []string) runtime.Contact {
	return inbound.Contact(d.contacts[phone], extraTags)
}
