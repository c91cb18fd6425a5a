package compiler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowc-dev/flowc/vm"
)

// A once-per-period reply's mark names its text as written, so a deploy
// that changes the rest of the flow keeps the marks already stored; the
// hosts and the http step's spec survive encoding.
func TestEffectsCompileAndEncode(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := compileFile(t, write("a.flow", "numbers \"+15550100\"\nreply \"closed\" once per 12h\ninbox team:support\n"))
	b := compileFile(t, write("b.flow", "numbers \"+15550101\"\ntag \"x\"\nreply \"closed\" once per 1d\nreply \"other\" once per 1h\n"))
	if len(a.Onces) != 1 || len(b.Onces) != 2 || a.Onces[0].Mark != b.Onces[0].Mark || b.Onces[0].Mark == b.Onces[1].Mark {
		t.Fatalf("marks: %+v %+v", a.Onces, b.Onces)
	}
	p := compileFile(t, write("c.flow", `numbers "+15550102"
hosts "crm.example.com", "API.example.com:8443"
set body_ = {a: 1}
http POST "https://api.example.com:8443/x?q={{ from }}" json body_ header "X-Key: ${K}" within 3s as r < on error -> end >
`))
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := vm.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q.Hosts, []string{"crm.example.com", "api.example.com:8443"}) {
		t.Errorf("hosts = %q", q.Hosts)
	}
	var h *vm.HTTPSpec
	for _, ap := range q.Applets {
		if ap.HTTP != nil {
			h = ap.HTTP
		}
	}
	if h == nil || h.Method != "POST" || h.Body < 0 || h.Within.Seconds() != 3 || !reflect.DeepEqual(h.Headers, [][2]string{{"X-Key", "${K}"}}) {
		t.Fatalf("http spec after decoding: %+v", h)
	}
}
