package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/compiler"
	"github.com/flowc-dev/flowc/lang"
	"github.com/flowc-dev/flowc/lang/check"
	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/directory"
)

func queueDiags(t *testing.T, body string) diag.List {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.flow")
	if err := os.WriteFile(path, []byte("flow f\nnumbers \"+15550100\"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	_, cd := compiler.All(res)
	return append(append(diag.List{}, res.Diags...), cd...)
}

// TestQueueChecks: check knows the queue's branches, warns (with a hint)
// about a queue without `on timeout`, refuses `on timeout` without a
// wait and a strategy or branch it does not have.
func TestQueueChecks(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"queue team:support\n", "flow/missing-branch: queue without on timeout; hint: give it a most time in queue"},
		{"queue team:support < on timeout -> end >\n", "flow/type: queue: `on timeout` runs after the most time in queue"},
		{"queue team:support wait 5m < on timeout -> end ; on error -> end >\n", "queue has no `on error` branch (events: full, timeout, done)"},
		{"queue team:support fastest wait 5m < on timeout -> end >\n", "unexpected argument fastest"},
		{"queue team:support wait 5m max -1 < on timeout -> end >\n", "unexpected character"},
		{"queue team:support max 5 wait 5m < on timeout -> end >\n", "flow/dead-end: dead end; hint: when 5 conversations are waiting the queue is full"},
		{"queue team:support linear max 3 wait 5m < on full -> reply \"full\" ; on timeout -> end ; on done -> end >\n", ""},
	} {
		var got []string
		for _, d := range queueDiags(t, tc.body) {
			got = append(got, d.Code+": "+d.Message+"; hint: "+d.Hint)
		}
		all := strings.Join(got, "\n")
		if tc.want == "" && all != "" || !strings.Contains(all, strings.SplitN(tc.want, "; hint: ", 2)[0]) {
			t.Errorf("%q: got\n%s\nwant %s", tc.body, all, tc.want)
		}
		if parts := strings.SplitN(tc.want, "; hint: ", 2); len(parts) == 2 && !strings.Contains(all, parts[1]) {
			t.Errorf("%q: no hint %q in\n%s", tc.body, parts[1], all)
		}
	}
}

// TestQueueTimeoutFix: the missing `on timeout` warning's fix gives the
// queue a wait and a bot after timeout, and the fixed flow has no
// warning left.
func TestQueueTimeoutFix(t *testing.T) {
	body := "queue team:support linear\n"
	ds := queueDiags(t, body)
	if len(ds) != 1 || len(ds[0].Fixes) != 1 || len(ds[0].Fixes[0].Edits) != 1 {
		t.Fatalf("want one warning with one fix, got %v", ds)
	}
	e := ds[0].Fixes[0].Edits[0]
	src := "flow f\nnumbers \"+15550100\"\n" + body
	fixed := src[:e.Span.Start] + e.New + src[e.Span.End:]
	if want := "queue team:support linear wait 10m < on timeout -> reply"; !strings.Contains(fixed, want) {
		t.Fatalf("fixed:\n%s", fixed)
	}
	if ds := queueDiags(t, fixed[len("flow f\nnumbers \"+15550100\"\n"):]); len(ds) != 0 {
		t.Fatalf("after the fix:\n%s\nstill: %v", fixed, ds)
	}
}

// TestQueueTeamIsInTheDirectory: a queue's team is checked against the
// directory as an inbox's is.
func TestQueueTeamIsInTheDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "directory.json"), []byte(`{"users":[{"name":"a"}],"teams":[{"name":"support","members":["a"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f.flow")
	if err := os.WriteFile(path, []byte("flow f\nnumbers \"+15550100\"\nqueue team:suport wait 5m < on timeout -> end >\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := directory.Load(filepath.Join(dir, "directory.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := lang.Load([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	ds := check.Directory(res.Files, d)
	if len(ds) != 1 || !strings.Contains(ds[0].Message, `no team named "suport"`) {
		t.Fatalf("got %v", ds)
	}
}
