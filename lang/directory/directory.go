// Package directory is the directory file format: who can receive inbox
// items (users), the groups they form (teams) and the contacts the
// senders are known as. It is read from directory.json beside the flows
// by `flowc check`, `flowc serve` and the server's admin API, so that
// the file is parsed and validated in exactly one place.
//
// It sits beside lang/check in the front end and depends on nothing of
// flowc: the server turns entries into runtime values itself.
package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
)

// FileName is the directory's file name beside the flows.
const FileName = "directory.json"

// Directory is the whole file.
type Directory struct {
	Users    []User    `json:"users"`
	Teams    []Team    `json:"teams"`
	Contacts []Contact `json:"contacts"`
	Numbers  []Number  `json:"numbers,omitempty"`
}

// User is someone who can receive inbox items.
type User struct {
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Available *bool  `json:"available,omitempty"` // nil means available
	// Weight is the user's share of a queue's conversations under the
	// weighted-random strategy (`queue team:X wrandom`); 0 counts as 1.
	Weight int `json:"weight,omitempty"`
	// Webhooks make the user an agent platform's account (Twilio Flex, a
	// helpdesk): its token may reply to and finish the conversations
	// handed off to these webhooks (`forward webhook:"URL"`; an entry
	// ending in "/" is a prefix), which no person holds. Another
	// platform's handoffs stay out of its reach.
	Webhooks []string `json:"webhooks,omitempty"`
	// How a call flow's `ring` reaches the user: a phone number (E.164)
	// and/or a Twilio Client identity or SIP address ("client:alice",
	// "sip:alice@example.sip.twilio.com"). Both rings both.
	Phone  string `json:"phone,omitempty"`
	Client string `json:"client,omitempty"`
}

// IsAvailable reports whether the user takes inbox items now.
func (u User) IsAvailable() bool { return u.Available == nil || *u.Available }

// Team is a named group of users.
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Contact is a known sender.
type Contact struct {
	Phone  string            `json:"phone"`
	Name   string            `json:"name,omitempty"`
	Owner  string            `json:"owner,omitempty"`
	Tags   []string          `json:"tags,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Number is a business number's settings, which flows read as number.*
// (number.backup_email, number.settings.NAME) for messages sent to it.
type Number struct {
	Number      string            `json:"number"`                 // E.164
	Name        string            `json:"name,omitempty"`         // a label for people
	BackupEmail string            `json:"backup_email,omitempty"` // where to forward when nobody else is found
	Settings    map[string]string `json:"settings,omitempty"`     // any other setting
}

// Load reads and validates the directory file at path. A missing file
// is reported as an error wrapping fs.ErrNotExist (callers decide
// whether that means "no directory").
func Load(path string) (*Directory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes and validates directory JSON; name is the file's name
// for error messages. Unknown fields are rejected (a misspelt "memebrs"
// would otherwise silently empty a team), and errors name the file, the
// line and column of a syntax error, or the offending entry.
func Parse(name string, b []byte) (*Directory, error) {
	d := &Directory{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, at(name, b, se.Offset, err.Error())
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, at(name, b, te.Offset, fmt.Sprintf("%s: expected %s, not %s", te.Field, te.Type, te.Value))
		}
		if err == io.EOF {
			return nil, &Error{File: name, Msg: "empty file (write {} for an empty directory)"}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if dec.More() {
		return nil, &Error{File: name, Msg: "data after the directory's closing }"}
	}
	if err := d.Validate(); err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	return d, nil
}

// Error is a directory file that cannot be used: where (a line and
// column when the JSON itself is at fault, else the entry named in Msg)
// and why.
type Error struct {
	File      string
	Line, Col int // 0 when the message names the entry instead
	Offset    int // byte offset of Line:Col
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return e.File + ": " + e.Msg
}

func at(name string, b []byte, off int64, msg string) *Error {
	line, col, o := lineCol(b, off)
	return &Error{File: name, Line: line, Col: col, Offset: o, Msg: msg}
}

// lineCol turns a byte offset just past the problem, as encoding/json
// reports it, into the 1-based line and column of the problem's last byte.
// Columns count bytes (JSON files are mostly ASCII).
func lineCol(b []byte, off int64) (line, col, offset int) {
	off = min(max(off-1, 0), int64(len(b)))
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col, int(off)
}

// Validate checks what JSON decoding cannot: names present and unique,
// team members that are users, phones present and unique. Errors name the
// entry: `teams[0] (sales): member "bbo" is not in users`.
func (d *Directory) Validate() error {
	users := map[string]bool{}
	for i, u := range d.Users {
		if u.Name == "" {
			return fmt.Errorf("users[%d]: name is required", i)
		}
		if users[u.Name] {
			return fmt.Errorf("users[%d] (%s): name is used by an earlier user", i, u.Name)
		}
		if strings.ContainsAny(u.Name, ":\x00\r\n") {
			return fmt.Errorf("users[%d] (%s): a name may not hold \":\" or a line break (team:NAME and webhook:URL name who holds a conversation)", i, u.Name)
		}
		for j, w := range u.Webhooks {
			if !strings.HasPrefix(w, "https://") && !strings.HasPrefix(w, "http://") {
				return fmt.Errorf("users[%d] (%s): webhooks[%d] %q is not an http(s) URL", i, u.Name, j, w)
			}
		}
		if u.Weight < 0 || u.Weight > 1000 {
			return fmt.Errorf("users[%d] (%s): weight %d is not between 0 and 1000 (a queue's wrandom share; 0 counts as 1)", i, u.Name, u.Weight)
		}
		if err := u.validateRing(); err != nil {
			return fmt.Errorf("users[%d] (%s): %v", i, u.Name, err)
		}
		users[u.Name] = true
	}
	teams := map[string]bool{}
	for i, t := range d.Teams {
		if t.Name == "" {
			return fmt.Errorf("teams[%d]: name is required", i)
		}
		if teams[t.Name] {
			return fmt.Errorf("teams[%d] (%s): name is used by an earlier team", i, t.Name)
		}
		if strings.ContainsAny(t.Name, ":\x00\r\n") {
			return fmt.Errorf("teams[%d] (%s): a name may not hold \":\" or a line break", i, t.Name)
		}
		teams[t.Name] = true
		for _, m := range t.Members {
			if !users[m] {
				return fmt.Errorf("teams[%d] (%s): member %q is not in users", i, t.Name, m)
			}
		}
	}
	phones := map[string]bool{}
	for i, c := range d.Contacts {
		if c.Phone == "" {
			return fmt.Errorf("contacts[%d]: phone is required", i)
		}
		if phones[c.Phone] {
			return fmt.Errorf("contacts[%d] (%s): phone is used by an earlier contact", i, c.Phone)
		}
		phones[c.Phone] = true
	}
	numbers := map[string]bool{}
	for i, n := range d.Numbers {
		if !isE164(n.Number) {
			return fmt.Errorf("numbers[%d]: number %q must be in E.164 form (+15550100)", i, n.Number)
		}
		if numbers[n.Number] {
			return fmt.Errorf("numbers[%d] (%s): number is described by an earlier entry", i, n.Number)
		}
		numbers[n.Number] = true
		if n.BackupEmail != "" && !IsEmail(n.BackupEmail) {
			return fmt.Errorf("numbers[%d] (%s): backup_email %q is not an e-mail address", i, n.Number, n.BackupEmail)
		}
	}
	return nil
}

// Number returns the settings of the business number, if the directory
// describes it.
func (d *Directory) Number(number string) (Number, bool) {
	for _, n := range d.Numbers {
		if n.Number == number {
			return n, true
		}
	}
	return Number{}, false
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsEmail reports whether s is a bare e-mail address (a@example.com, no
// display name or angle brackets), as forward email: takes it.
func IsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

// User returns the user named name.
func (d *Directory) User(name string) (User, bool) {
	for _, u := range d.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// Team returns the team named name.
func (d *Directory) Team(name string) (Team, bool) {
	for _, t := range d.Teams {
		if t.Name == name {
			return t, true
		}
	}
	return Team{}, false
}

// Members returns a team's available members, in the file's order.
func (d *Directory) Members(team string) []string {
	t, ok := d.Team(team)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range t.Members {
		if u, ok := d.User(m); ok && u.IsAvailable() {
			out = append(out, m)
		}
	}
	return out
}
