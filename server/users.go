package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/server/store"
)

// Per-user tokens and the agent API's authentication. An admin makes a
// token for a directory user (POST /v1/admin/users/{user}/tokens, `flowc
// users token NAME`); the server keeps only its SHA-256, shows the token
// once, and an agent's request carries it as a Bearer token. An agent's
// token opens /v1/agent and nothing else; the admin token does not open
// /v1/agent (an admin acts as no one).

// userTokenPrefix starts every per-user token, so that a leaked one is
// recognisable (secret scanners) and never mistaken for the admin token.
const userTokenPrefix = "flowc_u_"

// tokenDigest is the hex SHA-256 of a token, as the store keys it.
func tokenDigest(token string) string {
	d := sha256.Sum256([]byte(token))
	return hex.EncodeToString(d[:])
}

// NewUserToken is a fresh per-user token: the prefix and 32 random bytes.
func newUserToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return userTokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// UserTokenAnswer is POST /v1/admin/users/{user}/tokens's answer: the
// token, shown this once.
type UserTokenAnswer struct {
	store.UserToken
	Token string `json:"token"`
}

func usersTx(tx store.Tx) (store.UsersTx, error) {
	ut, ok := tx.(store.UsersTx)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no user tokens", tx)
	}
	return ut, nil
}

func (s *Server) usersReader() (store.UsersReader, error) {
	ur, ok := s.store.(store.UsersReader)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no user tokens", s.store)
	}
	return ur, nil
}

// directoryUser is the directory's user name, or a 404.
func (s *Server) directoryUser(name string) error {
	if d := s.directory().CheckFile(); d != nil {
		if _, ok := d.User(name); ok {
			return nil
		}
	}
	return &badRequest{http.StatusNotFound, fmt.Sprintf("no user named %q in the directory", name)}
}

func (s *Server) createUserToken(w http.ResponseWriter, r *http.Request) {
	user := chi.URLParam(r, "user")
	if err := s.directoryUser(user); err != nil {
		s.storeError(w, err)
		return
	}
	var req struct {
		Label string `json:"label"`
	}
	if r.ContentLength != 0 && !readAPIJSON(w, r, &req) {
		return
	}
	if ref := checkName("label", req.Label); ref != nil {
		writeJSON(w, ref.status, ref)
		return
	}
	token, err := newUserToken()
	if err != nil {
		s.storeError(w, err)
		return
	}
	ans := UserTokenAnswer{UserToken: store.UserToken{User: user, Label: req.Label, Created: s.cfg.Now().UTC()}, Token: token}
	err = s.store.InTx(r.Context(), func(tx store.Tx) error {
		ut, err := usersTx(tx)
		if err != nil {
			return err
		}
		t := ans.UserToken // a retried transaction inserts anew
		if err := ut.AddUserToken(r.Context(), &t, tokenDigest(token)); err != nil {
			return err
		}
		ans.ID = t.ID
		return nil
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, ans)
}

func (s *Server) listUserTokens(w http.ResponseWriter, r *http.Request) {
	ur, err := s.usersReader()
	if err != nil {
		s.storeError(w, err)
		return
	}
	ts, err := ur.UserTokens(r.Context(), chi.URLParam(r, "user"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	if ts == nil {
		ts = []store.UserToken{}
	}
	writeJSON(w, http.StatusOK, ts)
}

func (s *Server) revokeUserToken(w http.ResponseWriter, r *http.Request) {
	user := chi.URLParam(r, "user")
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("token id %q is not a number", chi.URLParam(r, "id"))})
		return
	}
	err = s.store.InTx(r.Context(), func(tx store.Tx) error {
		ut, err := usersTx(tx)
		if err != nil {
			return err
		}
		return ut.RevokeUserToken(r.Context(), user, id, s.cfg.Now())
	})
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("%s has no token %d in force", user, id)})
		return
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type agentUserKey struct{}

// agentUser is the user requireAgent authenticated.
func agentUser(ctx context.Context) string {
	u, _ := ctx.Value(agentUserKey{}).(string)
	return u
}

// requireAgent authenticates the agent API: a Bearer per-user token in
// force, of a user still in the directory. Anything else is 401.
func (s *Server) requireAgent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(msg string) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowc agent"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: msg})
		}
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimLeft(tok, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			refuse("missing agent token (Authorization: Bearer …; an admin makes one with `flowc users token NAME`)")
			return
		}
		if !strings.HasPrefix(tok, userTokenPrefix) {
			refuse("not an agent token: the agent API takes a user's own token, never the admin token")
			return
		}
		user, refusal, err := s.agentByToken(r.Context(), tok)
		switch {
		case err != nil:
			s.storeError(w, err)
			return
		case refusal != "":
			refuse(refusal)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), agentUserKey{}, user)))
	})
}

// agentByToken is the user of a per-user token in force, of a user still
// in the directory; refusal says why not (requireAgent's 401, the
// console's login form).
func (s *Server) agentByToken(ctx context.Context, tok string) (user, refusal string, err error) {
	return s.agentByDigest(ctx, tokenDigest(tok))
}

// agentByDigest is agentByToken by the token's digest (the console's
// sessions keep the digest, and check it at each request).
func (s *Server) agentByDigest(ctx context.Context, digest string) (user, refusal string, err error) {
	ur, err := s.usersReader()
	if err != nil {
		return "", "", err
	}
	// The stored directory, not this replica's copy: a user removed,
	// made away or moved between teams through another replica counts
	// at once. One small read; the directory itself is read again only
	// when it changed.
	v, err := ur.StoredDirectoryVersion(ctx)
	if err == nil {
		err = s.syncDirectory(ctx, v)
	}
	if err != nil {
		return "", "", err
	}
	t, err := ur.TokenByDigest(ctx, digest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", "unknown agent token", nil
	case err != nil:
		return "", "", err
	case !t.Revoked.IsZero():
		return "", "this agent token was revoked", nil
	case s.directoryUser(t.User) != nil:
		return "", fmt.Sprintf("user %q is no longer in the directory", t.User), nil
	}
	return t.User, "", nil
}

// UserPatch is a change to one directory user (PATCH
// /v1/admin/directory/users/{user}; an agent's own availability).
type UserPatch struct {
	Available *bool  `json:"available,omitempty"`
	Email     string `json:"email,omitempty"`
	Weight    *int   `json:"weight,omitempty"`
}

// patchDirectoryUser changes one user (changeDirectory: under the
// directory's lock, from the stored one, so that two replicas changing
// two users at once keep both changes). A user who becomes available is offered the
// waiting conversations of their teams.
func (s *Server) patchDirectoryUser(ctx context.Context, name string, p UserPatch) (*Directory, error) {
	if p.Weight != nil && (*p.Weight < 0 || *p.Weight > 1000) {
		return nil, &badRequest{http.StatusBadRequest, fmt.Sprintf("weight %d: want 0 to 1000", *p.Weight)}
	}
	saved, err := s.changeDirectory(ctx, func(_ store.Tx, d *Directory) (*Directory, error) {
		for i := range d.Users {
			u := &d.Users[i]
			if u.Name != name {
				continue
			}
			if p.Available != nil {
				u.Available = p.Available
			}
			if p.Email != "" {
				u.Email = p.Email
			}
			if p.Weight != nil {
				u.Weight = *p.Weight
			}
			return d, nil
		}
		return nil, &badRequest{http.StatusNotFound, fmt.Sprintf("no user named %q", name)}
	})
	if err != nil {
		return nil, err
	}
	return saved, nil // changeDirectory dispatched if they became available
}
