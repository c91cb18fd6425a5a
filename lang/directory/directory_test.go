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
		{"negative weight", `{"users":[{"name":"a","weight":-1}]}`, "d.json: users[0] (a): weight -1 is not between 0 and 1000"},
		{"duplicate team", `{"teams":[{"name":"s"},{"name":"s"}]}`, "d.json: teams[1] (s): name is used by an earlier team"},
		{"phoneless contact", `{"contacts":[{"name":"Ann"}]}`, "d.json: contacts[0]: phone is required"},
		{"holder-like user name", `{"users":[{"name":"team:support"}]}`, `d.json: users[0] (team:support): a name may not hold ":"`},
		{"holder-like team name", `{"teams":[{"name":"webhook:x"}]}`, `d.json: teams[0] (webhook:x): a name may not hold ":"`},
		{"webhook not a URL", `{"users":[{"name":"flex","webhooks":["agents.example.com"]}]}`, `d.json: users[0] (flex): webhooks[0] "agents.example.com" is not an http(s) URL`},
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

// TestNumbers: the business numbers' settings are read and validated.
func TestNumbers(t *testing.T) {
	d, err := directory.Parse("d.json", []byte(`{"numbers": [{"number": "+15550100", "backup_email": "desk@example.com", "settings": {"region": "east"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := d.Number("+15550100"); !ok || n.BackupEmail != "desk@example.com" || n.Settings["region"] != "east" {
		t.Errorf("Number = %+v, %v", n, ok)
	}
	if _, ok := d.Number("+15550199"); ok {
		t.Error("an undescribed number was found")
	}
	for _, tc := range []struct{ json, want string }{
		{`{"numbers": [{"number": "5550100"}]}`, `d.json: numbers[0]: number "5550100" must be in E.164 form`},
		{`{"numbers": [{"number": "+15550100"}, {"number": "+15550100"}]}`, `numbers[1] (+15550100): number is described by an earlier entry`},
		{`{"numbers": [{"number": "+15550100", "backup_email": "Desk <d@x.com>"}]}`, `backup_email "Desk <d@x.com>" is not an e-mail address`},
		{`{"numbers": [{"number": "+15550100", "backup": "x"}]}`, `unknown field "backup"`},
	} {
		if _, err := directory.Parse("d.json", []byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.json, err, tc.want)
		}
	}
	for s, want := range map[string]bool{"a@b.c": true, "a@b": true, "": false, "a": false, "a@": false, "<a@b.c>": false, "a b@c.d": false} {
		if directory.IsEmail(s) != want {
			t.Errorf("directory.IsEmail(%q) = %v", s, !want)
		}
	}
}
