package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/flowc-dev/flowc/runtime"
	"github.com/flowc-dev/flowc/server/store"
)

// Directory is who is who: users, teams and known contacts. For the
// embedded default it is read from directory.json beside the flows
// (docs/server.md documents the format).
type Directory struct {
	Users    []User    `json:"users"`
	Teams    []Team    `json:"teams"`
	Contacts []Contact `json:"contacts"`

	teams    map[string]*Team
	contacts map[string]*Contact
}

// User is someone who can receive inbox items.
type User struct {
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Available *bool  `json:"available,omitempty"` // nil means available
}

// Team is a named group of users.
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Contact is a known sender.
type Contact struct {
	Phone  string            `json:"phone"`
	Name   string            `json:"name,omitempty"`
	Owner  string            `json:"owner,omitempty"`
	Tags   []string          `json:"tags,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// LoadDirectory reads a directory file; a missing file is an empty
// directory. Errors name the file and the offending entry.
func LoadDirectory(path string) (*Directory, error) {
	d := &Directory{}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return d.index()
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, fmt.Errorf("%s: offset %d: %v", path, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	d2, err := d.index()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return d2, nil
}

func (d *Directory) index() (*Directory, error) {
	d.teams = map[string]*Team{}
	d.contacts = map[string]*Contact{}
	users := map[string]bool{}
	for i, u := range d.Users {
		if u.Name == "" {
			return nil, fmt.Errorf("users[%d]: name is required", i)
		}
		users[u.Name] = true
	}
	for i := range d.Teams {
		t := &d.Teams[i]
		if t.Name == "" {
			return nil, fmt.Errorf("teams[%d]: name is required", i)
		}
		for _, m := range t.Members {
			if !users[m] {
				return nil, fmt.Errorf("teams[%d] (%s): member %q is not in users", i, t.Name, m)
			}
		}
		d.teams[t.Name] = t
	}
	for i := range d.Contacts {
		c := &d.Contacts[i]
		if c.Phone == "" {
			return nil, fmt.Errorf("contacts[%d]: phone is required", i)
		}
		d.contacts[c.Phone] = c
	}
	return d, nil
}

// directorySetting is where the directory lives once the admin API has
// changed it.
const directorySetting = "directory"

func (s *Server) directory() *Directory { return s.dir.Load() }

// saveDirectory persists d and makes it the directory in use.
func (s *Server) saveDirectory(ctx context.Context, d *Directory) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T keeps no settings", tx)
		}
		return otx.SetSetting(ctx, directorySetting, string(b))
	})
	if err != nil {
		return err
	}
	s.dir.Store(d)
	return nil
}

// LoadStoredDirectory replaces the directory with the one the admin API
// saved in the store, if any, and reports whether there was one.
func (s *Server) LoadStoredDirectory(ctx context.Context) (bool, error) {
	var raw string
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return nil
		}
		v, err := otx.Setting(ctx, directorySetting)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		raw = v
		return err
	})
	if err != nil || raw == "" {
		return false, err
	}
	d := &Directory{}
	if err := json.Unmarshal([]byte(raw), d); err != nil {
		return false, fmt.Errorf("stored directory: %w", err)
	}
	if _, err := d.index(); err != nil {
		return false, fmt.Errorf("stored directory: %w", err)
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
			if u.Name == m && (u.Available == nil || *u.Available) {
				out = append(out, m)
			}
		}
	}
	return out
}

// Contact returns what the directory knows of phone, with extra tags.
func (d *Directory) Contact(phone string, extraTags []string) runtime.Contact {
	c, ok := d.contacts[phone]
	if !ok {
		if len(extraTags) == 0 {
			return runtime.Contact{}
		}
		return runtime.Contact{Tags: extraTags}
	}
	tags := append(append([]string(nil), c.Tags...), extraTags...)
	return runtime.Contact{Known: true, Name: runtime.Str(c.Name), Owner: runtime.Str(c.Owner), Tags: tags, Fields: c.Fields}
}
