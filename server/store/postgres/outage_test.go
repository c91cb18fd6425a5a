package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/postgres"
)

// privatePG is a PostgreSQL server of the test's own: its data directory
// in a temporary directory, on a free port, never the machine's shared
// server.
type privatePG struct {
	t      *testing.T
	bin    string   // directory of initdb, pg_ctl
	asUser []string // command prefix to run as the postgres user ("" when not root)
	data   string
	log    string
	port   int
	sock   string
}

// startPrivatePG initdb's and starts a private server, stopped when the
// test ends. It skips the test when the server binaries are missing.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin := ""
	if matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(matches) > 0 {
		sort.Strings(matches)
		bin = filepath.Dir(matches[len(matches)-1])
	} else if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	}
	if bin == "" {
		t.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH: cannot start a private PostgreSQL")
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Skipf("PostgreSQL server binary %s missing: %v", b, err)
		}
	}
	dir := t.TempDir()
	pg := &privatePG{t: t, bin: bin, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log"),
		sock: filepath.Join(dir, "sock")}
	if err := os.Mkdir(pg.sock, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the server as postgres,
		// which must reach the temporary directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and there is no postgres user to run a private PostgreSQL as: %v", err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			t.Skip("running as root and runuser is missing: cannot run a private PostgreSQL as postgres")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{dir, pg.sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		pg.asUser = []string{runuser, "-u", "postgres", "--"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	pg.run("initdb", "-D", pg.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	pg.start()
	t.Cleanup(func() { pg.ctl("stop", "-m", "immediate") })
	return pg
}

func (pg *privatePG) command(name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, pg.asUser...), filepath.Join(pg.bin, name)), args...)
	return exec.Command(full[0], full[1:]...)
}

func (pg *privatePG) run(name string, args ...string) {
	pg.t.Helper()
	if out, err := pg.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(pg.log)
		pg.t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

func (pg *privatePG) ctl(args ...string) error {
	out, err := pg.command("pg_ctl", append([]string{"-D", pg.data, "-w", "-t", "60"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (pg *privatePG) start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.sock)
	if err := pg.ctl("-l", pg.log, "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(pg.log)
		pg.t.Fatalf("%v\n%s", err, log)
	}
}

// stop stops the server at once, as a crash would (no shutdown
// checkpoint; the next start recovers from the WAL).
func (pg *privatePG) stop() {
	pg.t.Helper()
	if err := pg.ctl("stop", "-m", "immediate"); err != nil {
		pg.t.Fatal(err)
	}
}

func (pg *privatePG) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", pg.port)
}

// TestDatabaseDown: a server on PostgreSQL answers 503 to webhooks, and
// /readyz 503, while the database is down, acknowledges nothing it could
// not store, and recovers by itself when the database is back; every
// message answered 200 is stored, once.
func TestDatabaseDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL")
	}
	pg := startPrivatePG(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	res, err := lang.Load([]string{"../../../examples/after-hours.flow"})
	if err != nil {
		t.Fatal(err)
	}
	progs, cd := compiler.All(res)
	if res.Diags.HasErrors() || cd.HasErrors() {
		t.Fatalf("flows do not compile: %v %v", res.Diags.Err(), cd.Err())
	}
	dir, err := server.LoadDirectory("../../../examples/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	srv := server.New(server.Config{Directory: dir, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	if err := srv.Deploy(ctx, progs); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	post := func(sid string) int {
		body := fmt.Sprintf(`{"sid":%q,"from":"+1555%s","to":"+15550200","body":"hello"}`, sid, sid)
		resp, err := http.Post(hs.URL+"/v1/messages", "application/json", strings.NewReader(body))
		if err != nil {
			t.Errorf("POST %s: %v", sid, err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	ready := func() int {
		resp, err := http.Get(hs.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var (
		mu    sync.Mutex
		acked = map[string]bool{} // answered 200
	)
	record := func(sid string, code int) {
		mu.Lock()
		defer mu.Unlock()
		if code == http.StatusOK {
			acked[sid] = true
		}
	}

	// Up: messages are answered.
	for i := range 5 {
		sid := fmt.Sprintf("up%d", i)
		code := post(sid)
		record(sid, code)
		if code != http.StatusOK {
			t.Fatalf("database up: POST %s = %d", sid, code)
		}
	}
	if c := ready(); c != http.StatusOK {
		t.Fatalf("database up: /readyz = %d", c)
	}

	// A steady stream of messages all along, across the stop and the
	// start: whatever was answered 200 must be stored.
	stopStream := make(chan struct{})
	var stream sync.WaitGroup
	stream.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stopStream:
				return
			default:
			}
			sid := fmt.Sprintf("s%d", i)
			record(sid, post(sid))
			time.Sleep(5 * time.Millisecond)
		}
	})
	time.Sleep(100 * time.Millisecond)

	pg.stop()
	// Down: every message is refused with 503, and /readyz says 503.
	for i := range 5 {
		sid := fmt.Sprintf("down%d", i)
		code := post(sid)
		record(sid, code)
		if code != http.StatusServiceUnavailable {
			t.Errorf("database down: POST %s = %d, want 503", sid, code)
		}
	}
	if c := ready(); c != http.StatusServiceUnavailable {
		t.Errorf("database down: /readyz = %d, want 503", c)
	}
	time.Sleep(200 * time.Millisecond)

	pg.start()
	// Back: the service recovers by itself.
	deadline := time.Now().Add(30 * time.Second)
	for ready() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("database back: /readyz did not answer 200 within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The provider retries what was refused: now answered.
	for i := range 5 {
		sid := fmt.Sprintf("down%d", i)
		code := post(sid)
		record(sid, code)
		if code != http.StatusOK {
			t.Errorf("database back: retry of %s = %d, want 200", sid, code)
		}
	}
	for i := range 5 {
		sid := fmt.Sprintf("after%d", i)
		code := post(sid)
		record(sid, code)
		if code != http.StatusOK {
			t.Errorf("database back: POST %s = %d, want 200", sid, code)
		}
	}
	time.Sleep(100 * time.Millisecond)
	close(stopStream)
	stream.Wait()

	// Every message answered 200 is stored.
	mu.Lock()
	defer mu.Unlock()
	streamed := 0
	err = st.InTx(ctx, func(tx store.Tx) error {
		for sid := range acked {
			if strings.HasPrefix(sid, "s") {
				streamed++
			}
			m, err := tx.MessageBySID(ctx, sid)
			if errors.Is(err, store.ErrNotFound) {
				t.Errorf("message %s was answered 200 but is not stored", sid)
				continue
			}
			if err != nil {
				return err
			}
			if m.Outcome != "routed" {
				t.Errorf("message %s: outcome %q", sid, m.Outcome)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages answered 200 and stored (%d of the stream)", len(acked), streamed)
}
