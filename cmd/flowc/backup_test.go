package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/server"
	"github.com/flowc-dev/flowc/server/store"
	"github.com/flowc-dev/flowc/server/store/sqlite"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestBackupUnderLoad: `flowc backup` taken while webhooks keep
// committing gives a file that opens, passes PRAGMA integrity_check and
// holds every message answered before the backup started.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flowc.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := lang.Load([]string{"../../examples"})
	if err != nil {
		t.Fatal(err)
	}
	progs, _ := compiler.All(res)
	srv := server.New(server.Config{Logger: quietLog}, st)
	if err := srv.Deploy(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	// Writers post until told to stop; answered records each 200.
	var (
		mu       sync.Mutex
		answered []string
		seq      atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		failures atomic.Int64
	)
	post := func() {
		i := seq.Add(1)
		sid := fmt.Sprintf("SMbackup%06d", i)
		body := fmt.Sprintf(`{"sid":%q,"from":"+1555%07d","to":"+15550200","body":"hello"}`, sid, i)
		resp, err := http.Post(hs.URL+"/v1/messages", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			failures.Add(1)
			if resp != nil {
				resp.Body.Close()
			}
			return
		}
		resp.Body.Close()
		mu.Lock()
		answered = append(answered, sid)
		mu.Unlock()
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					post()
				}
			}
		}()
	}
	// Start the backup once a good number of messages is in, under load.
	for {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 200 {
			break
		}
		post()
	}
	mu.Lock()
	before := append([]string(nil), answered...)
	mu.Unlock()
	out := filepath.Join(dir, "backup.db")
	var stdout, stderr bytes.Buffer
	code := run([]string{"backup", "--db", db, out}, nil, &stdout, &stderr)
	// Keep writing a little after the backup, then stop.
	for i := 0; i < 20; i++ {
		post()
	}
	close(stop)
	wg.Wait()
	if code != exitOK {
		t.Fatalf("flowc backup: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if failures.Load() > 0 {
		t.Fatalf("%d webhooks failed during the backup", failures.Load())
	}

	raw, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check of the backup: %q %v", ok, err)
	}
	var inCopy int
	if err := raw.QueryRow("SELECT count(*) FROM messages").Scan(&inCopy); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if inCopy >= len(answered) {
		t.Fatalf("the backup has %d of %d messages: the webhooks did not go on during and after it", inCopy, len(answered))
	}
	copyStore, err := sqlite.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	err = copyStore.InTx(context.Background(), func(tx store.Tx) error {
		for _, sid := range before {
			if _, err := tx.MessageBySID(context.Background(), sid); err != nil {
				return fmt.Errorf("message %s, answered before the backup started: %w", sid, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages answered before the backup, all in it; %s", len(before), strings.TrimSpace(stdout.String()))
}

func TestBackupRefusesAnExistingFileAndAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.db")
	os.WriteFile(existing, []byte("keep me"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"backup", "--db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "out.db")}, nil, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "missing.db") {
		t.Fatalf("a missing database: exit %d %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("backup created the database it was to copy")
	}
	db := filepath.Join(dir, "flowc.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	stderr.Reset()
	if code := run([]string{"backup", "--db", db, existing}, nil, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "exists") {
		t.Fatalf("an existing OUT: exit %d %s", code, stderr.String())
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatal("backup overwrote an existing file")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Fatalf("a temporary file is left behind: %s", e.Name())
		}
	}
}
