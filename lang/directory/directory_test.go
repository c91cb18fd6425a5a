package directory_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowc-dev/flowc/lang/directory"
)

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"teams":[{"name":"sales","memebrs":["a"]}]}`, `d.json: json: unknown field "memebrs"`},
		{"syntax", "{\n  \"users\": [\n    {\"name\": \"a\",}\n  ]\n}", "d.json:3:18: invalid character '}'"},
		{"type", `{"users": [{"name": 7}]}`, "d.json:1:21: users.name: expected string, not number"},
		{"member not a user", `{"users":[{"name":"alice"}],"teams":[{"name":"sales","members":["bbo"]}]}`, `d.json: teams[0] (sales): member "bbo" is not in users`},
		{"nameless user", `{"users":[{"email":"x@y"}]}`, "d.json: users[0]: name is required"},
		{"duplicate team", `{"teams":[{"name":"s"},{"name":"s"}]}`, "d.json: teams[1] (s): name is used by an earlier team"},
		{"phoneless contact", `{"contacts":[{"name":"Ann"}]}`, "d.json: contacts[0]: phone is required"},
		{"empty", ``, "d.json: empty file"},
		{"trailing", `{} {}`, "d.json: data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := directory.Parse("d.json", []byte(tc.json))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestExamplesDirectory(t *testing.T) {
	d, err := directory.Load(filepath.Join("..", "..", "examples", directory.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Members("sales"); strings.Join(got, ",") != "alice,bob" {
		t.Errorf("sales members %v", got)
	}
	if _, err := directory.Load("no-such-dir/directory.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestMembersSkipsUnavailable(t *testing.T) {
	d, err := directory.Parse("d.json", []byte(`{"users":[{"name":"a","available":false},{"name":"b"}],"teams":[{"name":"t","members":["a","b"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Members("t"); len(got) != 1 || got[0] != "b" {
		t.Errorf("members %v, want [b]", got)
	}
	if d.Members("nope") != nil {
		t.Error("members of an unknown team")
	}
}
