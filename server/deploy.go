package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// This file is deploying: the admin API's deploy, rollback and promote,
// and what `flowc serve DIR` deploys at start.
//
// A version is a hash of what decides a program's behaviour (compiler,
// flow name, source, applets; see compiler.version), never of the file's
// path, so the same flow served from a directory and posted to the admin
// API is one version, and deploying it again changes nothing
// ("unchanged"). The stored encoding keeps the file name it was first
// saved with (traces show it).

// Deploy statuses: what a deploy changed.
const (
	StatusCreated   = "created"   // a new version, now active (201)
	StatusActivated = "activated" // a version saved before, active again (200)
	StatusUnchanged = "unchanged" // it is the active version already: nothing changed (200)
	StatusDraft     = "draft"     // the flow's draft, served to its test contacts only (201 when the version is new)
	StatusKept      = "kept"      // serve at start: the directory's file did not change since it last deployed it, so the active version is kept
	StatusRefused   = "refused"   // serve at start: the directory's flow conflicts (a number, a version); the active version is kept
)

// MaxTestContacts bounds a draft's test contacts.
const MaxTestContacts = 100

// conflict is a deploy refused because of what is stored (409).
func conflict(format string, args ...any) error {
	return &badRequest{http.StatusConflict, fmt.Sprintf(format, args...)}
}

func deployTx(tx store.Tx) (store.DeployTx, error) {
	d, ok := tx.(store.DeployTx)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no drafts", tx)
	}
	return d, nil
}

// deployerKey carries who deploys (withDeployer) to saveVersion, which
// stores it with a new version.
type deployerKey struct{}

// withDeployer names who deploys in ctx: what `flowc deploy` sends, or
// "flowc serve" for serve's own directory.
func withDeployer(ctx context.Context, by string) context.Context {
	return context.WithValue(ctx, deployerKey{}, by)
}

func deployerOf(ctx context.Context) string {
	by, _ := ctx.Value(deployerKey{}).(string)
	return by
}

// MaxDeployerBytes bounds DeployRequest.DeployedBy.
const MaxDeployerBytes = 128

// saveVersion saves p unless its version is saved already, checking then
// that the stored program is the same flow (name, source, applets): a
// version names content, and two contents under one name is a conflict.
func (s *Server) saveVersion(ctx context.Context, tx store.Tx, p *vm.Program, now time.Time) (isNew bool, err error) {
	isNew, _, err = s.saveVersionFixed(ctx, tx, p, now)
	return isNew, err
}

// saveVersionFixed is saveVersion, also saying whether a stored
// version's channel had to be corrected (fixed): a call flow saved
// before call flows were routed is stored as an SMS flow serving no
// number, and must be activated again to route its calls.
func (s *Server) saveVersionFixed(ctx context.Context, tx store.Tx, p *vm.Program, now time.Time) (isNew, fixed bool, err error) {
	stored, err := tx.Program(ctx, p.Version)
	switch {
	case err == nil:
		if err := sameContent(stored, p); err != nil {
			return false, false, err
		}
		if stored.Channel == p.Channel {
			return false, false, nil
		}
		dt, err := deployTx(tx)
		if err != nil {
			return false, false, err
		}
		return false, true, dt.SetProgramChannel(ctx, p.Version, p.Channel, p.Served())
	case !errors.Is(err, store.ErrNotFound):
		return false, false, err
	}
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		return false, false, err
	}
	err = tx.SaveProgram(ctx, &store.Program{Flow: p.Name, Version: p.Version, Encoded: buf.Bytes(), Numbers: p.Served(), Created: now,
		Channel: p.Channel, DeployedBy: deployerOf(ctx)})
	var vc *store.VersionConflictError
	if errors.As(err, &vc) {
		return false, false, conflict("version %s is already saved for flow %q, not %q", short(p.Version), vc.Flow, p.Name)
	}
	if err != nil {
		return false, false, err
	}
	s.mu.Lock()
	s.programs[p.Version] = p
	s.mu.Unlock()
	return true, false, nil
}

// sameContent reports (as a conflict) a stored version whose content is
// not p's.
func sameContent(stored *store.Program, p *vm.Program) error {
	if stored.Flow != p.Name {
		return conflict("version %s is already saved for flow %q, not %q", short(p.Version), stored.Flow, p.Name)
	}
	old, err := vm.Decode(bytes.NewReader(stored.Encoded))
	if err != nil {
		return conflict("version %s of flow %q is stored in a form this flowc cannot read (%v)", short(p.Version), p.Name, err)
	}
	same := old.Name == p.Name && old.Source == p.Source && len(old.Applets) == len(p.Applets)
	for i := 0; same && i < len(p.Applets); i++ {
		// Not the applet's path: the version does not hash it (the same
		// flow and applet deployed from another folder are one version).
		same = bytes.Equal(old.Applets[i].Source, p.Applets[i].Source)
	}
	if !same {
		return conflict("version %s of flow %q is already saved with different content (a version id collision)", short(p.Version), p.Name)
	}
	return nil
}

// activeVersion is the flow's active version, "" when it has none.
func activeVersion(ctx context.Context, tx store.Tx, flow string) (string, error) {
	ps, err := tx.Programs(ctx, flow)
	for _, p := range ps {
		if p.Active {
			return p.Version, err
		}
	}
	return "", err
}

// activate makes p its flow's active version, saving it first, and
// routes its declared numbers to it; its draft goes if it was p.
func (s *Server) activate(ctx context.Context, tx store.Tx, p *vm.Program, now time.Time) (status string, err error) {
	isNew, fixed, err := s.saveVersionFixed(ctx, tx, p, now)
	if err != nil {
		return "", err
	}
	active, err := activeVersion(ctx, tx, p.Name)
	if err != nil {
		return "", err
	}
	if active == p.Version && !fixed {
		return StatusUnchanged, nil
	}
	if err := activateVersion(ctx, tx, p.Name, p.Version, p.Served(), now); err != nil {
		return "", err
	}
	if isNew {
		return StatusCreated, nil
	}
	return StatusActivated, nil
}

// activateVersion is tx.Activate, a number of another flow being a 409,
// and the flow's draft dropped when it is the version activated.
func activateVersion(ctx context.Context, tx store.Tx, flow, version string, numbers []string, now time.Time) error {
	err := tx.Activate(ctx, flow, version, numbers, now)
	var taken *store.NumberTakenError
	if errors.As(err, &taken) {
		flag, what := "--texts", "its texts are"
		if taken.Channel == "voice" {
			flag, what = "--calls", "its calls are"
		}
		return conflict("number %s: %s served by flow %q: unassign it there first (flowc numbers unassign %s %s)", taken.Number, what, taken.Flow, taken.Number, flag)
	}
	if err != nil {
		return err
	}
	dt, err := deployTx(tx)
	if err != nil {
		return err
	}
	d, err := dt.Draft(ctx, flow)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Version == version {
		return dt.DeleteDraft(ctx, flow)
	}
	return nil
}

// deploy is Server.Deploy: compiled programs become the active versions
// of their flows, routing their declared numbers to them, in one
// transaction; a program already active changes nothing.
func (s *Server) deploy(ctx context.Context, progs []*vm.Program) error {
	return s.store.InTx(ctx, func(tx store.Tx) error {
		for _, p := range progs {
			if _, err := s.activate(ctx, tx, p, s.cfg.Now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// DirectoryDeploy is what DeployDirectory did with one flow.
type DirectoryDeploy struct {
	Flow    string
	Version string // the directory's version
	Status  string // StatusCreated, StatusActivated, StatusUnchanged, StatusKept or StatusRefused
	Active  string // the version active now
	Reason  string // why it was refused
}

// DeployDirectory is what `flowc serve DIR` deploys at start, flow by
// flow (each in its own transaction):
//
//   - the directory's version is active: nothing changes;
//   - the file is unchanged since serve last deployed it from the
//     directory, and another version is active (deployed or rolled back
//     through the admin API since): that version is kept, so a restart
//     never undoes an operator's deploy or rollback;
//   - otherwise (a new flow, or the file changed since): the directory
//     wins and its version becomes active, new or saved before.
//
// A flow whose deploy conflicts (a number served by another flow) is
// refused, keeping whatever was active, and the others still deploy: a
// restart always starts. Only a store failure is an error.
func (s *Server) DeployDirectory(ctx context.Context, progs []*vm.Program) ([]DirectoryDeploy, error) {
	ctx = withDeployer(ctx, "flowc serve")
	var out []DirectoryDeploy
	for _, p := range progs {
		var r DirectoryDeploy
		err := s.store.InTx(ctx, func(tx store.Tx) error {
			r = DirectoryDeploy{Flow: p.Name, Version: p.Version}
			dt, err := deployTx(tx)
			if err != nil {
				return err
			}
			last, err := dt.DirectoryVersion(ctx, p.Name)
			if err != nil {
				return err
			}
			if r.Active, err = activeVersion(ctx, tx, p.Name); err != nil {
				return err
			}
			if r.Active != "" && r.Active != p.Version && last == p.Version {
				r.Status = StatusKept
				return nil
			}
			if r.Status, err = s.activate(ctx, tx, p, s.cfg.Now()); err != nil {
				return err
			}
			r.Active = p.Version
			return dt.SetDirectoryVersion(ctx, p.Name, p.Version)
		})
		var br *badRequest
		if errors.As(err, &br) {
			r.Status, r.Reason = StatusRefused, br.msg
			err = s.store.InTx(ctx, func(tx store.Tx) error {
				var err error
				r.Active, err = activeVersion(ctx, tx, p.Name)
				return err
			})
		}
		if err != nil {
			return out, fmt.Errorf("deploy %s: %w", p.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// routeFor is the flow and version a conversation's first message from
// contact to number starts on, read in tx: the flow routed to number, or
// that flow's draft when contact is one of its test contacts; with no
// flow routed to number, a draft that declares number and lists contact
// (draftRoute, which the in-memory route table shares). commitStep asks
// here when the route table changed since its step read it.
func routeFor(ctx context.Context, tx store.Tx, number, contact string) (flow, version string, err error) {
	flow, version, err = tx.Route(ctx, number)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", err
	}
	dt, derr := deployTx(tx)
	if derr != nil {
		return "", "", derr
	}
	drafts, derr := dt.DraftsFor(ctx, contact)
	if derr != nil {
		return "", "", derr
	}
	if f, v := draftRoute(flow, version, number, drafts); f != flow || v != version {
		return f, v, nil
	}
	return flow, version, err
}

// DeployRequest deploys one flow from source.
type DeployRequest struct {
	File    string            `json:"file"`              // e.g. "sales.flow": names the flow when it has no flow header, and appears in diagnostics
	Source  string            `json:"source"`            // the .flow text
	Applets map[string]string `json:"applets,omitempty"` // JavaScript applets by the path the flow declares them with
	// Strict refuses a flow with warnings (also ?strict=true).
	Strict bool `json:"strict,omitempty"`
	// Draft stores the version as the flow's draft, served only to
	// TestContacts until it is promoted.
	Draft        bool     `json:"draft,omitempty"`
	TestContacts []string `json:"test_contacts,omitempty"`
	// DeployedBy says who deploys (flowc deploy sends USER@HOST, or its
	// --by): stored with a new version, shown with the flow's versions.
	DeployedBy string `json:"deployed_by,omitempty"`
}

// DeployResponse is the result of a deploy.
type DeployResponse struct {
	Flow         string                `json:"flow"`
	Version      string                `json:"version"`
	Status       string                `json:"status"` // created, activated, unchanged or draft
	Numbers      []string              `json:"numbers"`
	TestContacts []string              `json:"test_contacts,omitempty"`
	Warnings     []diag.JSONDiagnostic `json:"warnings"`
}

// DraftInfo is a flow's draft in the admin API.
type DraftInfo struct {
	Version      string    `json:"version"`
	TestContacts []string  `json:"test_contacts"`
	Numbers      []string  `json:"numbers"`
	Created      time.Time `json:"created"`
}

func draftInfo(drafts []store.Draft, flow string) *DraftInfo {
	for _, d := range drafts {
		if d.Flow == flow {
			return &DraftInfo{Version: d.Version, TestContacts: nonNil(d.Contacts), Numbers: nonNil(d.Numbers), Created: d.Created}
		}
	}
	return nil
}

// appendDraftOnly adds the flows that have a draft and no active version
// yet (ActiveVersion ""), keeping the list sorted by flow.
func appendDraftOnly(out []FlowInfo, drafts []store.Draft) []FlowInfo {
	n := len(out)
	for _, d := range drafts {
		if !slices.ContainsFunc(out[:n], func(f FlowInfo) bool { return f.Flow == d.Flow }) {
			out = append(out, FlowInfo{Flow: d.Flow, Numbers: []string{}, Draft: draftInfo(drafts, d.Flow)})
		}
	}
	if len(out) > n {
		slices.SortFunc(out, func(a, b FlowInfo) int { return strings.Compare(a.Flow, b.Flow) })
	}
	return out
}

// compileRequest compiles a deploy request's bundle, answering the
// request itself (and returning nil) when it is refused: a bad bundle
// (400), a flow that does not compile (422), or warnings under strict
// (422).
func (s *Server) compileRequest(w http.ResponseWriter, r *http.Request, req *DeployRequest) (*vm.Program, []diag.JSONDiagnostic) {
	if req.File == "" || strings.ContainsAny(req.File, `/\`) || !strings.HasSuffix(req.File, ".flow") {
		writeJSON(w, http.StatusBadRequest, apiError{Error: `"file" must be a file name ending in .flow, without directories`})
		return nil, nil
	}
	if q := r.URL.Query().Get("strict"); q != "" {
		v, err := strconv.ParseBool(q)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("query strict=%q: want true or false", q)})
			return nil, nil
		}
		req.Strict = req.Strict || v
	}
	progs, all, msg, err := s.compileBundle(*req)
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: msg})
		return nil, nil
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return nil, nil
	}
	report := diag.Report(all, 1)
	if all.HasErrors() || len(progs) != 1 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "the flow does not compile", Diagnostics: report.Diagnostics})
		return nil, nil
	}
	if _, warnings := all.Count(); req.Strict && warnings > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: fmt.Sprintf("strict: the flow has %d warning(s); nothing was deployed", warnings), Diagnostics: report.Diagnostics})
		return nil, nil
	}
	p := progs[0]
	p.File = req.File
	return p, report.Diagnostics
}

func (s *Server) deployFlow(w http.ResponseWriter, r *http.Request) {
	var req DeployRequest
	if !readJSON(w, r, &req) {
		return
	}
	contacts, msg := testContacts(req)
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: msg})
		return
	}
	by := req.DeployedBy
	if len(by) > MaxDeployerBytes || !utf8.ValidString(by) || strings.ContainsFunc(by, unicode.IsControl) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf(`"deployed_by" must be at most %d bytes of text on one line`, MaxDeployerBytes)})
		return
	}
	if by == "" {
		by = "admin API"
	}
	r = r.WithContext(withDeployer(r.Context(), by))
	p, warnings := s.compileRequest(w, r, &req)
	if p == nil {
		return
	}
	if req.Draft && p.Channel == "voice" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf(`%s is a call flow (channel voice): a draft answers its test contacts' texts, so a call flow is deployed without "draft"`, p.Name)})
		return
	}
	var status string
	isNew := false
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		var err error
		if !req.Draft {
			status, err = s.activate(r.Context(), tx, p, s.cfg.Now())
			return err
		}
		status, isNew, err = s.saveDraft(r.Context(), tx, p, contacts)
		return err
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.log.Info("deployed", "flow", p.Name, "version", p.Version, "status", status)
	code := http.StatusOK
	if status == StatusCreated || (status == StatusDraft && isNew) {
		code = http.StatusCreated
	}
	resp := DeployResponse{Flow: p.Name, Version: p.Version, Status: status, Numbers: nonNil(p.Served()), Warnings: warnings}
	if req.Draft {
		resp.TestContacts = contacts
	}
	writeJSON(w, code, resp)
}

// testContacts checks a request's test contacts: a draft needs at least
// one, each an E.164 number, at most MaxTestContacts; sorted, without
// repeats.
func testContacts(req DeployRequest) ([]string, string) {
	if !req.Draft {
		if len(req.TestContacts) > 0 {
			return nil, `"test_contacts" is only for a draft ("draft": true)`
		}
		return nil, ""
	}
	if len(req.TestContacts) == 0 {
		return nil, `a draft needs "test_contacts": the numbers it answers until it is promoted`
	}
	if len(req.TestContacts) > MaxTestContacts {
		return nil, fmt.Sprintf(`"test_contacts": %d numbers, at most %d`, len(req.TestContacts), MaxTestContacts)
	}
	var out []string
	for i, c := range req.TestContacts {
		if !e164(c) {
			return nil, fmt.Sprintf(`"test_contacts"[%d]: %q is not an E.164 number (+ then digits)`, i, c)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

// saveDraft makes p the flow's draft for contacts. The active version
// itself is "unchanged" (it answers everyone already), as is the same
// draft for the same contacts.
func (s *Server) saveDraft(ctx context.Context, tx store.Tx, p *vm.Program, contacts []string) (status string, isNew bool, err error) {
	now := s.cfg.Now()
	if isNew, err = s.saveVersion(ctx, tx, p, now); err != nil {
		return "", false, err
	}
	active, err := activeVersion(ctx, tx, p.Name)
	if err != nil {
		return "", false, err
	}
	if active == p.Version {
		return StatusUnchanged, false, nil
	}
	dt, err := deployTx(tx)
	if err != nil {
		return "", false, err
	}
	if d, err := dt.Draft(ctx, p.Name); err == nil && d.Version == p.Version && slices.Equal(d.Contacts, contacts) {
		return StatusUnchanged, false, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", false, err
	}
	err = dt.SetDraft(ctx, &store.Draft{Flow: p.Name, Version: p.Version, Contacts: contacts, Numbers: p.Numbers, Created: now})
	return StatusDraft, isNew, err
}

// deployBundle is the request as a file system, in memory: the flow
// under its name and each applet under the path the flow declares it
// with. Compiling reads from it and from nothing else, so a flow cannot
// name a file of the server (see lang/check/paths.go); nothing is
// written to disk. msg is a 400's message naming the field at fault.
// compileBundle compiles a deploy's flow and applets as a deploy does:
// its diagnostics with the directory's targets checked (`inbox
// team:slaes` routes nowhere); msg says what is wrong with the request.
func (s *Server) compileBundle(req DeployRequest) (progs []*vm.Program, all diag.List, msg string, err error) {
	bundle, msg := deployBundle(req)
	if msg != "" {
		return nil, nil, msg, nil
	}
	res, err := lang.LoadFS(bundle, []string{req.File})
	if err != nil {
		return nil, nil, "", err
	}
	progs, cd := compiler.All(res)
	all = append(append(diag.List{}, res.Diags...), cd...)
	all = append(all, check.Directory(res.Files, s.directory().CheckFile())...)
	all.Sort()
	return progs, all, "", nil
}

func deployBundle(req DeployRequest) (bundle fstest.MapFS, msg string) {
	bundle = fstest.MapFS{req.File: &fstest.MapFile{Data: []byte(req.Source), Mode: 0o444}}
	for name, src := range req.Applets {
		if p := check.AppletPathProblem(name); p != "" {
			return nil, fmt.Sprintf("applets[%q]: %s", name, p)
		}
		if name == req.File {
			return nil, fmt.Sprintf("applets[%q]: that is the flow's own file name", name)
		}
		bundle[name] = &fstest.MapFile{Data: []byte(src), Mode: 0o444}
	}
	return bundle, ""
}

// versionArg checks a version argument: a version or a prefix of at
// least 8 characters.
func versionArg(v string) error {
	if len(v) < 8 {
		return &badRequest{http.StatusBadRequest, `"version" must be a version or a prefix of at least 8 characters`}
	}
	return nil
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	var req struct {
		Version string `json:"version"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	chosen, err := s.rollbackTo(r.Context(), flow, req.Version)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, FlowInfo{Flow: flow, ActiveVersion: chosen.Version, Numbers: nonNil(chosen.Numbers), Deployed: chosen.Created})
}

// rollbackTo makes a stored version (or a prefix of at least 8
// characters naming one) the flow's active version again, routing the
// numbers it had (POST /v1/admin/flows/{flow}/rollback and the
// console's rollback button).
func (s *Server) rollbackTo(ctx context.Context, flow, version string) (store.Program, error) {
	if err := versionArg(version); err != nil {
		return store.Program{}, err
	}
	var chosen store.Program
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		ps, err := tx.Programs(ctx, flow)
		if err != nil {
			return err
		}
		var matches []store.Program
		for _, p := range ps {
			if strings.HasPrefix(p.Version, version) {
				matches = append(matches, p)
			}
		}
		switch len(matches) {
		case 0:
			return fmt.Errorf("flow %q has no version %s: %w", flow, version, store.ErrNotFound)
		case 1:
		default:
			return &badRequest{http.StatusBadRequest, "version prefix " + version + " is ambiguous"}
		}
		chosen = matches[0]
		if err := fixChannel(ctx, tx, &chosen); err != nil {
			return err
		}
		return activateVersion(ctx, tx, flow, chosen.Version, chosen.Numbers, s.cfg.Now())
	})
	return chosen, err
}

// fixChannel corrects a stored version saved as an SMS flow that is a
// call flow (saved before call flows were routed), so that activating
// it routes its calls: its program says what it is.
func fixChannel(ctx context.Context, tx store.Tx, stored *store.Program) error {
	if stored.Channel != "" {
		return nil
	}
	p, err := vm.Decode(bytes.NewReader(stored.Encoded))
	if err != nil || p.Channel == stored.Channel {
		return nil // not readable here: activated as it is stored
	}
	dt, err := deployTx(tx)
	if err != nil {
		return err
	}
	stored.Channel, stored.Numbers = p.Channel, p.Served()
	return dt.SetProgramChannel(ctx, stored.Version, p.Channel, p.Served())
}

// promote makes the flow's draft its active version, for everyone, and
// routes the draft's declared numbers to it. A version in the request
// must be the draft's (so one promotes what one tested).
func (s *Server) promote(w http.ResponseWriter, r *http.Request) {
	flow := chi.URLParam(r, "flow")
	var req struct {
		Version string `json:"version,omitempty"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Version != "" {
		if err := versionArg(req.Version); err != nil {
			s.storeError(w, err)
			return
		}
	}
	var d *store.Draft
	err := s.store.InTx(r.Context(), func(tx store.Tx) error {
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		if d, err = dt.Draft(r.Context(), flow); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("flow %q has no draft: %w", flow, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		if !strings.HasPrefix(d.Version, req.Version) {
			return conflict("the draft of %q is version %s, not %s", flow, short(d.Version), req.Version)
		}
		return activateVersion(r.Context(), tx, flow, d.Version, d.Numbers, s.cfg.Now())
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.log.Info("promoted", "flow", flow, "version", d.Version)
	writeJSON(w, http.StatusOK, FlowInfo{Flow: flow, ActiveVersion: d.Version, Numbers: nonNil(d.Numbers), Deployed: s.cfg.Now()})
}

// short is a version's first 12 characters, as the CLI prints it.
func short(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
