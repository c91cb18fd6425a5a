package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server"
)

func init() {
	register(command{name: "serve", summary: "serve the flows in DIR to the SMS provider's webhooks", run: runServe})
}

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "flowc serve [DIR] [--addr 127.0.0.1:8080] [--admin-addr ADDR] [--db flowc.db] [--drain-delay 5s] [--drain 10s] [--tick 1s] [--strict]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	adminAddr := fs.String("admin-addr", "", "serve the admin API and /metrics on this address only, not on --addr")
	drainDelay := fs.Duration("drain-delay", 5*time.Second, "on SIGTERM, how long /readyz answers 503 while requests are still served, before the listeners close")
	dbPath := fs.String("db", "flowc.db", "embedded SQLite database file (when DATABASE_URL is not set)")
	drain := fs.Duration("drain", 10*time.Second, "how long SIGTERM waits for in-flight requests")
	tick := fs.Duration("tick", time.Second, "how often due timers fire and the outbox is delivered")
	strict := fs.Bool("strict", false, "refuse to start when the flows have warnings (dead ends, missing branches)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) > 1 {
		fs.Usage()
		return exitUsage
	}
	dir := "."
	if len(paths) == 1 {
		dir = paths[0]
	}
	// Everything serve writes to stderr from here on is one JSON object a
	// line (log collectors parse the stream); the standard library's log
	// package goes there too.
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	slog.SetDefault(log)
	refuse := func(code int, msg string, err error) int {
		log.Error("not starting: "+msg, "error", err.Error())
		return code
	}

	// Compile everything first: refuse to start on errors.
	res, err := lang.Load([]string{dir})
	if err != nil {
		return refuse(exitUsage, "flows", err)
	}
	directory, err := server.LoadDirectory(filepath.Join(dir, "directory.json"))
	if err != nil {
		return refuse(exitUsage, "directory", err)
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	all = append(all, check.Directory(res.Files, directory.CheckFile())...) // as `flowc check` does
	all.Sort()
	if all.HasErrors() {
		logDiagnostics(log, all)
		log.Error("not starting: the flows have errors")
		return exitFail
	}
	if _, warnings := all.Count(); *strict && warnings > 0 {
		logDiagnostics(log, all)
		log.Error(fmt.Sprintf("not starting: --strict and the flows have %d warning(s)", warnings))
		return exitFail
	}
	logDiagnostics(log, all) // warnings and notes: served anyway, but the operator is told at start
	deadline, err := parseDurationSetting("FLOWC_WEBHOOK_DEADLINE", os.Getenv("FLOWC_WEBHOOK_DEADLINE"))
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	adminReads, err := parseAdminReads(os.Getenv("FLOWC_ADMIN_READS"))
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	handoffIdle, err := parseDurationSetting("FLOWC_HANDOFF_IDLE", os.Getenv("FLOWC_HANDOFF_IDLE"))
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	cfg := server.Config{
		HandoffIdle:              handoffIdle,
		AdminReads:               adminReads,
		TwilioAuthToken:          os.Getenv("FLOWC_TWILIO_AUTH_TOKEN"),
		TwilioAuthTokenSecondary: os.Getenv("FLOWC_TWILIO_AUTH_TOKEN_SECONDARY"),
		TwilioAccountSID:         os.Getenv("FLOWC_TWILIO_ACCOUNT_SID"),
		WebhookDeadline:          deadline,
		PublicURL:                os.Getenv("FLOWC_PUBLIC_URL"),
		APIToken:                 os.Getenv("FLOWC_API_TOKEN"),
		AdminToken:               os.Getenv("FLOWC_ADMIN_TOKEN"),
		Directory:                directory,
		OutboundBlacklist:        os.Getenv("FLOWC_OUTBOUND_BLACKLIST"),
		Logger:                   log,
		Outbound: &server.Outbound{
			TwilioAPIURL:              os.Getenv("FLOWC_TWILIO_API_URL"),
			TwilioAccountSID:          os.Getenv("FLOWC_TWILIO_ACCOUNT_SID"),
			TwilioAuthToken:           os.Getenv("FLOWC_TWILIO_AUTH_TOKEN"),
			TwilioMessagingServiceSID: os.Getenv("FLOWC_TWILIO_MESSAGING_SERVICE_SID"),
			SMTPAddr:                  os.Getenv("FLOWC_SMTP_ADDR"),
			SMTPFrom:                  os.Getenv("FLOWC_SMTP_FROM"),
			SMTPUser:                  os.Getenv("FLOWC_SMTP_USER"),
			SMTPPass:                  os.Getenv("FLOWC_SMTP_PASSWORD"),
			SMTPTLS:                   os.Getenv("FLOWC_SMTP_TLS"),
			WebhookSecret:             os.Getenv("FLOWC_WEBHOOK_SECRET"),
		},
	}
	if err := cfg.Validate(); err != nil {
		return refuse(exitUsage, "configuration", err)
	}
	cfg.HTTPAllowPrivate = allowPrivate() // http.go
	if cfg.EventBudget, err = eventBudget(os.Getenv); err != nil {
		return refuse(exitUsage, "configuration", err)
	}
	if cfg.Applets, err = serverApplets(); err != nil {
		return refuse(exitUsage, "applet workers", err)
	}
	retention, err := retentionSetting()
	if err != nil {
		return refuse(exitUsage, "configuration", err)
	}
	historyRetention, err := historyRetentionSetting(retention)
	if err != nil {
		return refuse(exitUsage, "configuration", err)
	}
	if cfg.SMSPace, err = smsPaceSetting(os.Getenv("FLOWC_SMS_PACE")); err != nil {
		return refuse(exitUsage, "configuration", err)
	}
	if cfg.DevMode() {
		log.Warn("DEV MODE: FLOWC_TWILIO_AUTH_TOKEN is not set, so webhook signatures are NOT verified; listening on loopback only: set FLOWC_TWILIO_AUTH_TOKEN before exposing this server", "dev_mode", true)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, dbDesc, err := openStore(ctx, *dbPath)
	if err != nil {
		return refuse(exitUsage, "database", err)
	}
	defer st.Close()

	srv := server.New(cfg, st)
	if stored, err := srv.LoadStoredDirectory(ctx); err != nil {
		return refuse(exitUsage, "stored directory", err)
	} else if stored {
		log.Info("using the directory saved through the admin API; directory.json is not read again")
	}
	token, generated, err := srv.EnsureAdminToken(ctx)
	if err != nil {
		return refuse(exitUsage, "admin token", err)
	}
	if generated {
		// Shown once, on stdout, never in the log stream (which is shipped
		// and kept); the store keeps only its hash (docs/operations.md).
		fmt.Fprintf(stdout, "flowc serve: generated the admin API token (shown only this once; set FLOWC_ADMIN_TOKEN to choose your own):\n\n    %s\n\n", token)
		log.Warn("generated an admin API token: printed once on standard output, stored only as its SHA-256; set FLOWC_ADMIN_TOKEN to choose your own")
	}
	// What the directory's flows do to the stored versions: see
	// server.DeployDirectory (a restart never undoes an admin API deploy
	// or rollback with an unchanged file, and always starts).
	deployed, err := srv.DeployDirectory(ctx, progs)
	if err != nil {
		return refuse(exitUsage, "deploy", err)
	}
	for _, d := range deployed {
		switch d.Status {
		case server.StatusKept:
			log.Info(fmt.Sprintf("keeping active version %s (deployed or rolled back through the admin API); %s is unchanged since it was last served, at version %s",
				short(d.Active), d.Flow, short(d.Version)), "flow", d.Flow, "version", short(d.Version), "active", short(d.Active), "status", d.Status)
			continue
		case server.StatusRefused:
			log.Error(fmt.Sprintf("not deployed from %s: %s; active version: %s", dir, d.Reason, orNone(short(d.Active))),
				"flow", d.Flow, "version", short(d.Version), "reason", d.Reason)
			continue
		}
		log.Info("deployed", "flow", d.Flow, "version", short(d.Version), "status", d.Status, "active", short(d.Active))
	}
	go srv.RunBackground(ctx, *tick)
	go srv.DispatchWaiting(ctx)                     // conversations a cut-short dispatch or a changed directory.json left waiting
	defer startRetention(ctx, st, retention, log)() // runs before st.Close
	defer startHistoryRetention(ctx, st, historyRetention, log)()
	err = srv.Serve(ctx, server.Listen{Addr: *addr, AdminAddr: *adminAddr, DrainDelay: *drainDelay, Drain: *drain, Started: func(a, admin net.Addr) {
		fmt.Fprintf(stdout, "flowc serve: %d flow(s) from %s on http://%s (database: %s)\n", len(progs), dir, a, dbDesc)
		if admin != nil {
			log.Info("listening", "addr", a.String(), "admin_addr", admin.String())
		} else {
			log.Info("listening", "addr", a.String())
		}
	}})
	if err != nil {
		log.Error("serve failed", "error", err.Error())
		return exitUsage
	}
	log.Info("stopped")
	return exitOK
}

// logDiagnostics writes each diagnostic as a log line, in the text form
// `flowc check` prints (file:line:col: severity: message [code]).
func logDiagnostics(log *slog.Logger, l diag.List) {
	for _, d := range l {
		level := slog.LevelWarn
		if d.Severity == diag.Error {
			level = slog.LevelError
		}
		attrs := []any{"diagnostic", d.Error()}
		if d.Hint != "" {
			attrs = append(attrs, "hint", d.Hint)
		}
		log.Log(context.Background(), level, "flow diagnostic", attrs...)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// parseDurationSetting reads the value v of the duration variable name
// (e.g. 10s); unset is 0 (the default). The caller reads the variable, so
// that every variable the server reads is named where it is read (and
// docs/operations.md is checked against those names).
func parseDurationSetting(name, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 10s", name, v)
	}
	return d, nil
}

// smsPaceSetting reads FLOWC_SMS_PACE: the least time between two SMS
// from one business number; unset: server.DefaultSMSPace (a long code's
// one a second), "0": no pacing (short codes, toll-free numbers with a
// higher rate, or a provider that paces by itself).
func smsPaceSetting(v string) (time.Duration, error) {
	switch v {
	case "":
		return server.DefaultSMSPace, nil
	case "0":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Minute {
		return 0, fmt.Errorf("FLOWC_SMS_PACE %q: want a duration such as 1s (one SMS a second per number), at most 1m, or 0 for no pacing", v)
	}
	return d, nil
}

// parseAdminReads reads FLOWC_ADMIN_READS: "" is 0
// (server.DefaultAdminReads).
func parseAdminReads(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > server.MaxAdminReads {
		return 0, fmt.Errorf("FLOWC_ADMIN_READS %q: want a number of admin reads at once from 1 to %d", v, server.MaxAdminReads)
	}
	return n, nil
}
