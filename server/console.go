package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server/console"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/vm"
)

// The console (/ui, server/console) reads and acts through this
// adapter, the same functions the admin and agent APIs call: the
// console package does not import the server, so it sees only what is
// here.

// consoleBackend is the Server as console.Backend.
type consoleBackend struct{ s *Server }

// console returns the /ui handler; admin: admin logins are taken (the
// listener that serves the admin API).
func (s *Server) console(admin bool) *console.Console {
	return console.New(consoleBackend{s}, console.Options{AdminLogin: admin, Secure: strings.HasPrefix(s.cfg.PublicURL, "https://"), Logger: s.log})
}

func (b consoleBackend) Now() time.Time { return b.s.cfg.Now() }

func (b consoleBackend) Authenticate(ctx context.Context, token string, admin bool) (console.Principal, string, error) {
	if strings.HasPrefix(token, userTokenPrefix) {
		user, refusal, err := b.s.agentByToken(ctx, token)
		if err != nil || refusal != "" {
			return console.Principal{}, refusal, err
		}
		return console.Principal{Role: console.RoleAgent, User: user, TokenDigest: tokenDigest(token)}, "", nil
	}
	if !admin {
		return console.Principal{}, console.WrongToken, nil // not even compared (console.Backend)
	}
	d := b.s.adminDigest.Load()
	got := sha256.Sum256([]byte(token))
	if d == nil || subtle.ConstantTimeCompare(got[:], d[:]) != 1 {
		return console.Principal{}, console.WrongToken, nil
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	proof, err := b.s.adminProofs.of(d, salt)
	if err != nil {
		return console.Principal{}, "", err
	}
	return console.Principal{Role: console.RoleAdmin, User: "admin", TokenDigest: proof}, "", nil
}

func (b consoleBackend) StillValid(ctx context.Context, p console.Principal) (string, error) {
	switch p.Role {
	case console.RoleAdmin:
		d := b.s.adminDigest.Load()
		salt, ok := proofSalt(p.TokenDigest)
		if d == nil || !ok {
			return "the admin token changed", nil
		}
		proof, err := b.s.adminProofs.of(d, salt)
		if err != nil {
			return "", err
		}
		if subtle.ConstantTimeCompare([]byte(proof), []byte(p.TokenDigest)) != 1 {
			return "the admin token changed", nil
		}
		return "", nil
	case console.RoleAgent:
		// As requireAgent: the stored directory, the token in force.
		_, refusal, err := b.s.agentByDigest(ctx, p.TokenDigest)
		return refusal, err
	}
	return "no role", nil
}

func (b consoleBackend) settings(ctx context.Context, fn func(otx store.OutboxTx) error) error {
	return b.s.store.InTx(ctx, func(tx store.Tx) error {
		otx, ok := tx.(store.OutboxTx)
		if !ok {
			return fmt.Errorf("store %T keeps no settings", tx)
		}
		return fn(otx)
	})
}

func (b consoleBackend) Setting(ctx context.Context, key string) (v string, err error) {
	err = b.settings(ctx, func(otx store.OutboxTx) error { v, err = otx.Setting(ctx, key); return err })
	return v, err
}

func (b consoleBackend) SetSetting(ctx context.Context, key, value string) error {
	return b.settings(ctx, func(otx store.OutboxTx) error { return otx.SetSetting(ctx, key, value) })
}

func (b consoleBackend) DeleteSetting(ctx context.Context, key string) error {
	return b.settings(ctx, func(otx store.OutboxTx) error { return otx.DeleteSetting(ctx, key) })
}

func (b consoleBackend) SettingsPrefixed(ctx context.Context, prefix string) (out []store.Setting, err error) {
	err = b.settings(ctx, func(otx store.OutboxTx) error { out, err = otx.SettingsPrefixed(ctx, prefix); return err })
	return out, err
}

func (b consoleBackend) Flows(ctx context.Context) (out []console.Flow, err error) {
	err = b.s.store.InTx(ctx, func(tx store.Tx) error {
		ps, err := tx.ActivePrograms(ctx)
		if err != nil {
			return err
		}
		dt, err := deployTx(tx)
		if err != nil {
			return err
		}
		drafts, err := dt.Drafts(ctx)
		out = out[:0]
		for _, f := range appendDraftOnly(nil, drafts) {
			out = append(out, console.Flow{Name: f.Flow, Draft: f.Draft.Version})
		}
		for _, p := range ps {
			f := console.Flow{Name: p.Flow, Active: p.Version, Numbers: p.Numbers, Deployed: p.Created}
			if d := draftInfo(drafts, p.Flow); d != nil {
				f.Draft = d.Version
			}
			out = append(out, f)
		}
		return err
	})
	return out, err
}

func (b consoleBackend) Versions(ctx context.Context, flow string) (out []console.Version, err error) {
	err = b.s.store.InTx(ctx, func(tx store.Tx) error {
		ps, err := tx.Programs(ctx, flow)
		out = out[:0]
		for _, p := range ps {
			out = append(out, console.Version{Version: p.Version, Created: p.Created, Active: p.Active, Numbers: p.Numbers, DeployedBy: p.DeployedBy})
		}
		return err
	})
	return out, err
}

func (b consoleBackend) Program(ctx context.Context, version string) (p *vm.Program, err error) {
	err = b.s.store.InTx(ctx, func(tx store.Tx) error { p, err = b.s.program(ctx, tx, version); return err })
	return p, err
}

func (b consoleBackend) Rollback(ctx context.Context, flow, version string) error {
	_, err := b.s.rollbackTo(ctx, flow, version)
	var br *badRequest
	if errors.As(err, &br) {
		return &console.Refused{Code: br.status, Msg: br.msg}
	}
	return err
}

// Diagnostics checks a stored version's source again as a deploy does
// (compileRequest): the flow and its applets, the directory's targets.
func (b consoleBackend) Diagnostics(p *vm.Program) diag.List {
	file := path.Base(p.File)
	if !strings.HasSuffix(file, ".flow") {
		file = p.Name + ".flow"
	}
	req := DeployRequest{File: file, Source: string(p.Source), Applets: map[string]string{}}
	for _, a := range p.Applets {
		if a.HTTP == nil && a.Path != "" {
			req.Applets[a.Path] = string(a.Source)
		}
	}
	bundle, msg := deployBundle(req)
	if msg != "" {
		return diag.List{{Severity: diag.Error, Message: msg}}
	}
	res, err := lang.LoadFS(bundle, []string{file})
	if err != nil {
		return diag.List{{Severity: diag.Error, Message: err.Error()}}
	}
	_, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	all = append(all, check.Directory(res.Files, b.s.directory().CheckFile())...)
	all.Sort()
	return all
}

// Replay is the behaviour diff of `flowc deploy --diff` (diff.go) for a
// stored version against the active one.
func (b consoleBackend) Replay(ctx context.Context, version string, days int) (*console.Replay, error) {
	p, err := b.Program(ctx, version)
	if err != nil {
		return nil, err
	}
	d, err := b.s.diff(ctx, p, days)
	if err != nil {
		return nil, err
	}
	out := &console.Replay{Days: days, Replayed: d.Replayed, Truncated: d.Truncated}
	for _, c := range d.Changed {
		out.Changed = append(out.Changed, console.ReplayChange{SID: c.SID, From: c.From, Body: c.Body, Received: c.Received,
			Active: c.Active.describe(), New: c.New.describe()})
	}
	return out, nil
}

// describe says in words what a version did with a message.
func (r Routing) describe() string {
	var parts []string
	for _, t := range r.Replies {
		parts = append(parts, fmt.Sprintf("reply %q", t))
	}
	for _, d := range r.Deliveries {
		parts = append(parts, "inbox "+d)
	}
	for _, f := range r.Forwards {
		parts = append(parts, "forward "+f)
	}
	for _, t := range r.Tags {
		parts = append(parts, fmt.Sprintf("tag %q", t))
	}
	if len(parts) == 0 {
		return r.Outcome
	}
	return r.Outcome + ": " + strings.Join(parts, ", ")
}

// adminProofs are what admin sessions keep of the admin token: scrypt of
// its SHA-256 under the session's own random salt, as
// "scrypt:SALT:KEY" in hex. A session row is in the store (every replica
// reads it), and the admin token may be one a person chose
// (FLOWC_ADMIN_TOKEN): a plain hash there would let whoever copies the
// database test guesses at a hash's speed; scrypt makes each guess cost
// what a sign-in costs. Each process computes a salt's proof once, at
// sign-in or at the session's first request, and keeps it for the
// checks of every request after (StillValid).
type adminProofCache struct {
	mu     sync.Mutex
	proofs map[[sha256.Size + 16]byte]string
}

// scrypt's cost: 16 MiB and some 40 ms per proof.
const proofN, proofR, proofP = 1 << 14, 8, 1

// maxAdminProofs bounds the cache (a proof per admin session in force).
const maxAdminProofs = 1024

func (c *adminProofCache) of(digest *[sha256.Size]byte, salt []byte) (string, error) {
	var k [sha256.Size + 16]byte
	copy(k[:], digest[:])
	copy(k[sha256.Size:], salt)
	c.mu.Lock()
	p, ok := c.proofs[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	key, err := scrypt.Key(digest[:], salt, proofN, proofR, proofP, 32)
	if err != nil {
		return "", fmt.Errorf("admin session proof: %w", err)
	}
	p = "scrypt:" + hex.EncodeToString(salt) + ":" + hex.EncodeToString(key)
	c.mu.Lock()
	if c.proofs == nil || len(c.proofs) >= maxAdminProofs {
		c.proofs = map[[sha256.Size + 16]byte]string{}
	}
	c.proofs[k] = p
	c.mu.Unlock()
	return p, nil
}

// proofSalt is the salt of a proof; false when it is not one (a session
// from before proofs, keeping the token's plain digest: signed out).
func proofSalt(proof string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(proof, "scrypt:")
	if !ok {
		return nil, false
	}
	s, _, ok := strings.Cut(rest, ":")
	salt, err := hex.DecodeString(s)
	if !ok || err != nil || len(salt) != 16 {
		return nil, false
	}
	return salt, true
}
