package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm/inbound"
)

// One contact, read and changed without replacing the directory:
// GET and PATCH /v1/admin/contacts/{phone} (`flowc contacts`). A PATCH
// changes the directory's entry (making one when there is none) and
// forgets what flows had changed of the same things, so that the
// operator's value is what the next message sees: the fields it names
// lose the flows' values, and tags given replace every tag (the flows'
// added and removed ones too).

// ContactPatch is a PATCH's body; every member is optional.
type ContactPatch struct {
	Name   *string            `json:"name,omitempty"`
	Owner  *string            `json:"owner,omitempty"`
	Tags   *[]string          `json:"tags,omitempty"`   // the whole list
	Fields map[string]*string `json:"fields,omitempty"` // null or "" removes one
}

// ContactView is a contact as flows see it now: the directory's entry
// with what flows added, removed and set.
type ContactView struct {
	Phone     string            `json:"phone"`
	Known     bool              `json:"known"` // in the directory
	Name      string            `json:"name,omitempty"`
	Owner     string            `json:"owner,omitempty"`
	Tags      []string          `json:"tags"`
	Fields    map[string]string `json:"fields"`
	Directory *Contact          `json:"directory,omitempty"` // the entry alone, when there is one
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	phone := chi.URLParam(r, "phone")
	if !e164(phone) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("contact %q: want an E.164 number such as +15557654321", phone)})
		return
	}
	v, err := s.contactView(r.Context(), s.directory(), phone)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request) {
	phone := chi.URLParam(r, "phone")
	if !e164(phone) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("contact %q: want an E.164 number such as +15557654321", phone)})
		return
	}
	var req ContactPatch
	if !readJSON(w, r, &req) {
		return
	}
	for k := range req.Fields {
		if k == "" {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "fields: a field needs a name"})
			return
		}
	}
	// The stored directory under its lock (changeDirectory), so that a
	// replica's change of a user at the same time is kept.
	d, err := s.changeDirectory(r.Context(), func(tx store.Tx, d *Directory) (*Directory, error) {
		i := slices.IndexFunc(d.Contacts, func(c Contact) bool { return c.Phone == phone })
		if i < 0 {
			d.Contacts = append(d.Contacts, Contact{Phone: phone})
			i = len(d.Contacts) - 1
		}
		c := &d.Contacts[i]
		if req.Name != nil {
			c.Name = *req.Name
		}
		if req.Owner != nil {
			c.Owner = *req.Owner
		}
		if req.Tags != nil {
			c.Tags = slices.Clone(*req.Tags)
		}
		var fields []string
		for k, v := range req.Fields {
			fields = append(fields, k)
			if v == nil || *v == "" {
				delete(c.Fields, k)
				continue
			}
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			c.Fields[k] = *v
		}
		sort.Strings(fields)
		if et, ok := tx.(store.EditsTx); ok && (len(fields) > 0 || req.Tags != nil) {
			return d, et.ClearContactEdits(r.Context(), phone, fields, req.Tags != nil)
		}
		return d, nil
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	v, err := s.contactView(r.Context(), d, phone)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// contactView reads what flows changed of phone and shows the contact as
// they see it.
func (s *Server) contactView(ctx context.Context, d *Directory, phone string) (*ContactView, error) {
	var tags []string
	var edits *store.ContactEdits
	err := s.readStoreTx(ctx, func(tx store.Tx) error {
		var err error
		if tags, err = tx.ContactTags(ctx, phone); err != nil {
			return err
		}
		if et, ok := tx.(store.EditsTx); ok {
			edits, err = et.ContactEdits(ctx, phone, "")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	c := d.Contact(phone, tags)
	if edits != nil {
		c = inbound.EditContact(c, edits.Untags, edits.Fields)
	}
	v := &ContactView{Phone: phone, Known: c.Known, Name: deref(c.Name), Owner: deref(c.Owner), Tags: c.Tags, Fields: map[string]string{}}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	for k, f := range c.Fields {
		if f != nil {
			v.Fields[k] = *f
		}
	}
	if e, ok := d.contacts[phone]; ok {
		v.Directory = e
	}
	return v, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
