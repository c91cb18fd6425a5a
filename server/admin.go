package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/store"
)

// adminTokenSetting is where the SHA-256 of a generated admin token is
// kept, as "sha256:" and 64 hex digits. Earlier versions kept the token
// itself; EnsureAdminToken replaces such a value by its hash.
const adminTokenSetting = "admin_token"

const adminTokenHashPrefix = "sha256:"

// EnsureAdminToken settles the admin API's bearer token: the configured
// one (FLOWC_ADMIN_TOKEN), else the one generated at an earlier start,
// else a new one. The store keeps only the token's SHA-256 (a copy of the
// database, a backup, grants no admin access), so the token itself is
// returned only when this call generated it (generated true), for the
// caller to show once; otherwise token is "".
func (s *Server) EnsureAdminToken(ctx context.Context) (token string, generated bool, err error) {
	if s.cfg.AdminToken != "" {
		s.setAdminDigest(sha256.Sum256([]byte(s.cfg.AdminToken)))
		return "", false, nil
	}
	var digest [sha256.Size]byte
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T keeps no settings", tx)
		}
		// Replicas starting together on an empty database take turns
		// here, so the second reads the token the first generated.
		if err := tx.LockConversation(ctx, "\x00settings", adminTokenSetting); err != nil {
			return err
		}
		stored, err := otx.Setting(ctx, adminTokenSetting)
		if err == nil {
			if h, ok := strings.CutPrefix(stored, adminTokenHashPrefix); ok {
				if n, err := hex.Decode(digest[:], []byte(h)); err != nil || n != sha256.Size {
					return fmt.Errorf("setting %s is not %s and 64 hex digits", adminTokenSetting, adminTokenHashPrefix)
				}
				return nil
			}
			// An earlier version stored the token itself: keep it valid,
			// store its hash instead.
			digest = sha256.Sum256([]byte(stored))
			return otx.SetSetting(ctx, adminTokenSetting, adminTokenHashPrefix+hex.EncodeToString(digest[:]))
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token, generated = "flowc_"+hex.EncodeToString(b), true
		digest = sha256.Sum256([]byte(token))
		return otx.SetSetting(ctx, adminTokenSetting, adminTokenHashPrefix+hex.EncodeToString(digest[:]))
	})
	if err != nil {
		return "", false, err
	}
	s.setAdminDigest(digest)
	return token, generated, nil
}

// setAdminDigest sets the SHA-256 of the admin token requireAdmin accepts.
func (s *Server) setAdminDigest(d [sha256.Size]byte) { s.adminDigest.Store(&d) }

// requireAdmin checks the bearer token on every admin route.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.adminDigest.Load()
		if d == nil || !bearerDigestMatches(r.Header.Get("Authorization"), *d) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="flowc admin"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "missing or wrong admin token (Authorization: Bearer …)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) adminRoutes(r chi.Router) {
	r.Use(s.requireAdmin)
	r.Get("/flows", s.listFlows)
	r.Post("/flows", s.deployFlow)
	r.Get("/flows/{flow}/versions", s.listVersions)
	r.Post("/flows/{flow}/rollback", s.rollback)
	r.Post("/flows/{flow}/promote", s.promote)
	r.Post("/flows/diff", s.diffFlow)
	r.With(s.adminRead).Get("/numbers", s.listNumbers) // numbers.go
	r.Put("/numbers/{number}", s.assignNumber)
	r.Delete("/numbers/{number}", s.unassignNumber)
	r.Post("/numbers/sync", s.syncNumbers) // numbersync.go
	r.Get("/directory", s.getDirectory)
	r.Put("/directory", s.putDirectory)
	r.Patch("/directory/users/{user}", s.patchUser)
	r.Post("/users/{user}/tokens", s.createUserToken)        // users.go
	r.Get("/users/{user}/tokens", s.listUserTokens)          // users.go
	r.Delete("/users/{user}/tokens/{id}", s.revokeUserToken) // users.go
	r.Get("/contacts/{phone}", s.getContact)                 // contacts.go
	r.Patch("/contacts/{phone}", s.patchContact)             // contacts.go
	r.With(s.adminRead).Get("/inbox/{kind}/{name}", s.listInbox)
	r.Post("/inbox/items/{id}/done", s.markDone)
	r.Get("/executions/{sid}", s.getExecution)
	r.Get("/calls/{sid}", s.getCall) // voice.go
	r.With(s.adminRead).Get("/outbox", s.listOutbox)
	r.Get("/lists", s.listLists)
	r.Get("/lists/{name}", s.getList)
	r.Put("/lists/{name}/{entry}", s.putListEntry)
	r.Delete("/lists/{name}/{entry}", s.deleteListEntry)
	r.With(s.adminRead).Get("/queues", s.listQueues)      // queuestats.go
	r.With(s.adminRead).Get("/queues/{team}", s.getQueue) // queuestats.go
}

type apiError struct {
	Error       string                `json:"error"`
	Diagnostics []diag.JSONDiagnostic `json:"diagnostics,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "malformed JSON body: " + err.Error()})
		return false
	}
	return true
}

// adminTx runs fn in a transaction with the admin view of the store.
func (s *Server) adminTx(ctx context.Context, fn func(tx store.Tx, a store.AdminTx) error) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		a, ok := tx.(store.AdminTx)
		if !ok {
			return fmt.Errorf("store %T has no admin operations", tx)
		}
		return fn(tx, a)
	})
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	var (
		taken    *store.NumberTakenError
		conflict *store.VersionConflictError
		br       *badRequest
		busy     *adminBusyError
	)
	switch {
	case errors.As(err, &busy):
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
	case errors.As(err, &br):
		writeJSON(w, br.status, apiError{Error: br.msg})
	case errors.As(err, &taken), errors.As(err, &conflict):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
	default:
		s.log.Error("admin", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "database unavailable"})
	}
}

// FlowInfo is a flow in the admin API.
type FlowInfo struct {
	Flow          string     `json:"flow"`
	ActiveVersion string     `json:"active_version"`
	Numbers       []string   `json:"numbers"`
	Deployed      time.Time  `json:"deployed"`
	Draft         *DraftInfo `json:"draft,omitempty"`
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) {
	var out []FlowInfo
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		ps, err := tx.ActivePrograms(r.Context())
		if err != nil {
			return err
		}
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		drafts, err := dt.Drafts(r.Context())
		out = out[:0]
		for _, p := range ps {
			out = append(out, FlowInfo{Flow: p.Flow, ActiveVersion: p.Version, Numbers: nonNil(p.Numbers), Deployed: p.Created, Draft: draftInfo(drafts, p.Flow)})
		}
		out = appendDraftOnly(out, drafts)
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nonNilSlice(out))
}

// VersionInfo is one immutable version of a flow.
type VersionInfo struct {
	Version    string    `json:"version"`
	Created    time.Time `json:"created"`
	Active     bool      `json:"active"`
	Numbers    []string  `json:"numbers"`
	DeployedBy string    `json:"deployed_by,omitempty"` // who saved it ("": before flowc kept it)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	var out []VersionInfo
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		ps, err := tx.Programs(r.Context(), flow)
		out = out[:0]
		for _, p := range ps {
			out = append(out, VersionInfo{Version: p.Version, Created: p.Created, Active: p.Active, Numbers: nonNil(p.Numbers), DeployedBy: p.DeployedBy})
		}
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	if len(out) == 0 {
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no flow named %q", flow)})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// pathParam is a URL path parameter, unescaped (chi hands back the raw
// form when the path had escapes, such as %2B for the + of a number).
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func e164(n string) bool {
	if len(n) < 3 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return false
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// getDirectory answers the stored directory (read again: another
// replica may have changed it since this one last did).
func (s *Server) getDirectory(w http.ResponseWriter, r *http.Request) {
	if _, err := s.LoadStoredDirectory(r.Context()); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.directory())
}

func (s *Server) putDirectory(w http.ResponseWriter, r *http.Request) {
	var d Directory
	if !readJSON(w, r, &d) {
		return
	}
	if _, err := d.index(); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err := s.saveDirectory(r.Context(), &d); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, &d)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	var req UserPatch
	if !readJSON(w, r, &req) {
		return
	}
	d, err := s.patchDirectoryUser(r.Context(), chi.URLParam(r, "user"), req) // users.go
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) markDone(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "item id must be a number"})
		return
	}
	var item *store.InboxItem
	err = s.store.InTx(r.Context(), func(tx store.Tx) error {
		if qt, ok := tx.(store.QueueTx); ok {
			var err error
			if item, err = qt.InboxItemHolder(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return tx.MarkInboxDone(r.Context(), id, s.cfg.Now())
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	if item != nil {
		if err := s.finishInboxHold(r.Context(), item); err != nil {
			s.storeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "done": true})
}

// Execution is how one message was routed.
type Execution struct {
	SID      string          `json:"sid"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	Body     string          `json:"body"`
	Flow     string          `json:"flow"`
	Version  string          `json:"version"`
	Outcome  string          `json:"outcome"`
	Received time.Time       `json:"received"`
	Answer   json.RawMessage `json:"answer"`
	Trace    json.RawMessage `json:"trace"`
	// Deliveries is what the message caused to be sent (a timer's replies,
	// forwards), with the provider's delivery reports.
	Deliveries []Delivery `json:"deliveries"`
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	out, err := s.execution(r.Context(), pathParam(r, "sid"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// execution is how message sid was routed (GET /v1/admin/executions/{sid},
// the console's traces).
func (s *Server) execution(ctx context.Context, sid string) (Execution, error) {
	var m *store.Message
	var deliveries []Delivery
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if m, err = tx.MessageBySID(ctx, sid); err != nil {
			return err
		}
		deliveries, err = s.deliveriesOf(ctx, tx, sid)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("no message %s: %w", sid, err)
		}
		return Execution{}, err
	}
	trace := json.RawMessage(m.Trace)
	if len(trace) == 0 {
		trace = json.RawMessage("null")
	}
	return Execution{SID: m.SID, From: m.From, To: m.To, Body: m.Body, Flow: m.Flow, Version: m.Version,
		Outcome: m.Outcome, Received: m.Received, Answer: json.RawMessage(m.Response), Trace: trace, Deliveries: deliveries}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
