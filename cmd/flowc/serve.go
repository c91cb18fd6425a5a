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
	"syscall"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/server"
)

func init() {
	register(command{name: "serve", summary: "serve the flows in DIR to the SMS provider's webhooks", run: runServe})
}

func runServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "flowc serve [DIR] [--addr 127.0.0.1:8080] [--db flowc.db] [--drain 10s] [--tick 1s] [--strict]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
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
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	// Compile everything first: refuse to start on errors.
	res, err := lang.Load([]string{dir})
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	progs, cd := compiler.All(res)
	all := append(append(diag.List{}, res.Diags...), cd...)
	all.Sort()
	if all.HasErrors() {
		diag.WriteText(stderr, all, true)
		fmt.Fprintln(stderr, "flowc serve: not starting: the flows have errors")
		return exitFail
	}
	if _, warnings := all.Count(); *strict && warnings > 0 {
		diag.WriteText(stderr, all, true)
		fmt.Fprintf(stderr, "flowc serve: not starting: --strict and the flows have %d warning(s)\n", warnings)
		return exitFail
	}
	directory, err := server.LoadDirectory(filepath.Join(dir, "directory.json"))
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve: directory:", err)
		return exitUsage
	}

	deadline, err := envDuration("FLOWC_WEBHOOK_DEADLINE")
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	cfg := server.Config{
		TwilioAuthToken:          os.Getenv("FLOWC_TWILIO_AUTH_TOKEN"),
		TwilioAuthTokenSecondary: os.Getenv("FLOWC_TWILIO_AUTH_TOKEN_SECONDARY"),
		TwilioAccountSID:         os.Getenv("FLOWC_TWILIO_ACCOUNT_SID"),
		WebhookDeadline:          deadline,
		PublicURL:                os.Getenv("FLOWC_PUBLIC_URL"),
		APIToken:                 os.Getenv("FLOWC_API_TOKEN"),
		AdminToken:               os.Getenv("FLOWC_ADMIN_TOKEN"),
		Directory:                directory,
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
		fmt.Fprintln(stderr, "flowc serve: not starting:", err)
		return exitUsage
	}
	if cfg.EventBudget, err = eventBudget(os.Getenv); err != nil {
		fmt.Fprintln(stderr, "flowc serve: not starting:", err)
		return exitUsage
	}
	if cfg.Applets, err = serverApplets(); err != nil {
		fmt.Fprintln(stderr, "flowc serve: applet workers:", err)
		return exitUsage
	}
	if cfg.DevMode() {
		fmt.Fprintln(stderr, "flowc serve: WARNING: DEV MODE: FLOWC_TWILIO_AUTH_TOKEN is not set, so webhook signatures are NOT verified;")
		fmt.Fprintln(stderr, "flowc serve: WARNING: listening on loopback only. Set FLOWC_TWILIO_AUTH_TOKEN before exposing this server.")
		log.Warn("dev mode: webhook signatures are not verified", "dev_mode", true)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, dbDesc, err := openStore(ctx, *dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve: database:", err)
		return exitUsage
	}
	defer st.Close()

	srv := server.New(cfg, st)
	if stored, err := srv.LoadStoredDirectory(ctx); err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	} else if stored {
		log.Info("using the directory saved through the admin API; directory.json is not read again")
	}
	token, generated, err := srv.EnsureAdminToken(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve: admin token:", err)
		return exitUsage
	}
	if generated {
		// Printed once, now; it stays in the database for later starts.
		fmt.Fprintf(stderr, "flowc serve: generated the admin API token (shown only this once; set FLOWC_ADMIN_TOKEN to choose your own):\n\n    %s\n\n", token)
	}
	// What the directory's flows do to the stored versions: see
	// server.DeployDirectory (a restart never undoes an admin API deploy
	// or rollback with an unchanged file, and always starts).
	deployed, err := srv.DeployDirectory(ctx, progs)
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve: deploy:", err)
		return exitUsage
	}
	for _, d := range deployed {
		switch d.Status {
		case server.StatusKept:
			fmt.Fprintf(stderr, "flowc serve: %s: keeping active version %s (deployed or rolled back through the admin API); %s is unchanged since it was last served, at version %s\n",
				d.Flow, short(d.Active), d.Flow, short(d.Version))
		case server.StatusRefused:
			fmt.Fprintf(stderr, "flowc serve: WARNING: %s: not deployed from %s: %s; active version: %s\n", d.Flow, dir, d.Reason, orNone(short(d.Active)))
			log.Error("not deployed", "flow", d.Flow, "version", short(d.Version), "reason", d.Reason)
			continue
		}
		log.Info("deployed", "flow", d.Flow, "version", short(d.Version), "status", d.Status, "active", short(d.Active))
	}
	go srv.RunBackground(ctx, *tick)
	err = srv.ListenAndServe(ctx, *addr, *drain, func(a net.Addr) {
		fmt.Fprintf(stdout, "flowc serve: %d flow(s) from %s on http://%s (database: %s)\n", len(progs), dir, a, dbDesc)
		log.Info("listening", "addr", a.String())
	})
	if err != nil {
		fmt.Fprintln(stderr, "flowc serve:", err)
		return exitUsage
	}
	log.Info("stopped")
	return exitOK
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// envDuration reads a duration variable (e.g. 10s); unset is 0 (the
// default).
func envDuration(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 10s", name, v)
	}
	return d, nil
}
