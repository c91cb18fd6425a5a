package schedule

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a malformed schedule spec. Offset and End are byte
// offsets into the spec string delimiting the offending text (End >= Offset;
// End == Offset when the problem is at the end of the spec).
type SyntaxError struct {
	Offset, End int
	Msg         string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}

type tokKind uint8

const (
	tEOF   tokKind = iota
	tWord          // ASCII letters, or the keyword "all-day"
	tTime          // a run of digits and colons
	tDash          // '-'
	tComma         // ','
	tBad           // any other character
)

type token struct {
	kind     tokKind
	text     string
	pos, end int
}

func lex(spec string) []token {
	var toks []token
	i := 0
	for i < len(spec) {
		c := spec[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-':
			toks = append(toks, token{tDash, "-", i, i + 1})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i, i + 1})
			i++
		case isLetter(c):
			j := i
			for j < len(spec) && isLetter(spec[j]) {
				j++
			}
			if strings.EqualFold(spec[i:j], "all") && len(spec) >= j+4 &&
				strings.EqualFold(spec[j:j+4], "-day") &&
				(j+4 == len(spec) || !isLetter(spec[j+4])) {
				j += 4
			}
			toks = append(toks, token{tWord, spec[i:j], i, j})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(spec) && (spec[j] >= '0' && spec[j] <= '9' || spec[j] == ':') {
				j++
			}
			toks = append(toks, token{tTime, spec[i:j], i, j})
			i = j
		default:
			_, n := utf8.DecodeRuneInString(spec[i:])
			toks = append(toks, token{tBad, spec[i : i+n], i, i + n})
			i += n
		}
	}
	return append(toks, token{tEOF, "", len(spec), len(spec)})
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Day numbers follow time.Weekday: Sunday = 0 ... Saturday = 6.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var dayWords = map[string]int{
	"sun": 0, "sunday": 0,
	"mon": 1, "monday": 1,
	"tue": 2, "tuesday": 2,
	"wed": 3, "wednesday": 3,
	"thu": 4, "thursday": 4,
	"fri": 5, "friday": 5,
	"sat": 6, "saturday": 6,
}

const allDays = 0x7f

// clause is one parsed "[DAYS] RANGE" item.
type clause struct {
	days  uint8  // bit d set = weekday d (time.Weekday numbering)
	label string // canonical DAYS text; "" means every day
	start int    // minutes since midnight, 0..1439
	end   int    // minutes since midnight, 1..1440; end < start = overnight
}

type parser struct {
	spec string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func errAt(pos, end int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: pos, End: end, Msg: fmt.Sprintf(format, args...)}
}

func errTok(t token, format string, args ...any) *SyntaxError {
	return errAt(t.pos, t.end, format, args...)
}

// describe renders a token for "found X" messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of spec"
	case tBad:
		return fmt.Sprintf("character %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func badCharMsg(t token) string {
	switch t.text {
	case "\u2013", "\u2014", "\u2212":
		return fmt.Sprintf("unexpected character %q; use an ASCII hyphen \"-\"", t.text)
	}
	return fmt.Sprintf("unexpected character %q", t.text)
}

func parseSpec(spec string) ([]clause, error) {
	p := &parser{spec: spec, toks: lex(spec)}
	if p.peek().kind == tEOF {
		return nil, errAt(0, len(spec), "empty schedule")
	}
	var out []clause
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		t := p.next()
		switch t.kind {
		case tEOF:
			return out, nil
		case tComma:
			if p.peek().kind == tEOF {
				return nil, errTok(t, "trailing comma: expected another clause after \",\"")
			}
		case tBad:
			return nil, errTok(t, "%s", badCharMsg(t))
		case tWord:
			if isAmPm(t.text) {
				return nil, errAmPm(t)
			}
			fallthrough
		default:
			return nil, errAt(t.pos, len(spec), "unexpected %s after time range; separate clauses with commas", describe(t))
		}
	}
}

func isAmPm(w string) bool {
	switch strings.ToLower(w) {
	case "am", "pm", "a", "p":
		return true
	}
	return false
}

func errAmPm(t token) *SyntaxError {
	return errTok(t, "am/pm is not supported; use 24-hour times like 09:00-17:00 (or the 9-5 shorthand)")
}

func (p *parser) clause() (clause, error) {
	t := p.peek()
	c := clause{days: allDays}
	var daysTok token // span of the DAYS part, for "missing range" errors
	switch t.kind {
	case tWord:
		if !strings.EqualFold(t.text, "all-day") {
			var err error
			if daysTok, err = p.days(&c); err != nil {
				return c, err
			}
		}
	case tTime:
	case tBad:
		return c, errTok(t, "%s", badCharMsg(t))
	default:
		return c, errTok(t, "expected a day or time range, found %s", describe(t))
	}

	t = p.peek()
	switch {
	case t.kind == tWord && strings.EqualFold(t.text, "all-day"):
		p.next()
		c.start, c.end = 0, 24*60
		return c, nil
	case t.kind == tTime:
		return c, p.timeRange(&c)
	case t.kind == tEOF || t.kind == tComma:
		return c, errTok(daysTok, "missing time range after %q", daysTok.text)
	case t.kind == tBad:
		return c, errTok(t, "%s", badCharMsg(t))
	case t.kind == tWord:
		if d, ok := dayWords[strings.ToLower(t.text)]; ok {
			example := "mon-fri"
			if len(c.label) == 3 && c.label != dayNames[d] {
				example = c.label + "-" + dayNames[d]
			}
			return c, errTok(t, "expected a time range after %q, found day %q; use a day range like %s or separate clauses with commas", daysTok.text, t.text, example)
		}
	}
	return c, errTok(t, "expected a time range after %q, found %s", daysTok.text, describe(t))
}

// days parses DAYS into c and returns a token spanning the DAYS text.
func (p *parser) days(c *clause) (token, error) {
	t := p.next()
	lw := strings.ToLower(t.text)
	switch lw {
	case "daily":
		c.days, c.label = allDays, ""
		return t, nil
	case "weekdays":
		c.days, c.label = 0x3e, "mon-fri"
		return t, nil
	case "weekends":
		c.days, c.label = 0x41, "sat-sun"
		return t, nil
	}
	first, ok := dayWords[lw]
	if !ok {
		return t, errTok(t, "unknown day %q", t.text)
	}
	if p.peek().kind != tDash {
		c.days, c.label = 1<<first, dayNames[first]
		return t, nil
	}
	dash := p.next()
	t2 := p.next()
	if t2.kind == tBad {
		return t, errTok(t2, "%s", badCharMsg(t2))
	}
	if t2.kind != tWord {
		return t, errAt(t.pos, dash.end, "expected a day after %q, found %s", p.spec[t.pos:dash.end], describe(t2))
	}
	last, ok := dayWords[strings.ToLower(t2.text)]
	if !ok {
		return t, errTok(t2, "unknown day %q", t2.text)
	}
	span := token{tWord, p.spec[t.pos:t2.end], t.pos, t2.end}
	if first == last {
		return span, errTok(span, "day range %q starts and ends on the same day; write just %q", span.text, dayNames[first])
	}
	c.days = 0
	for d := first; ; d = (d + 1) % 7 {
		c.days |= 1 << d
		if d == last {
			break
		}
	}
	if c.days == allDays {
		c.label = ""
	} else {
		c.label = dayNames[first] + "-" + dayNames[last]
	}
	return span, nil
}

// clockTime is a parsed START or END time.
type clockTime struct {
	min  int  // minutes since midnight, 0..1440
	bare bool // written as a bare hour without ":MM"
}

func parseTime(t token) (clockTime, error) {
	s := t.text
	hour, mins, hasColon := strings.Cut(s, ":")
	if strings.Contains(mins, ":") || hour == "" {
		return clockTime{}, errTok(t, "bad time %q: expected H, HH, H:MM or HH:MM", s)
	}
	if len(hour) > 2 {
		return clockTime{}, errTok(t, "bad time %q: the hour has at most two digits; write times as H, HH, H:MM or HH:MM", s)
	}
	h := atoi(hour)
	if h > 24 {
		return clockTime{}, errTok(t, "bad time %q: hour must be 0-24", s)
	}
	m := 0
	if hasColon {
		if len(mins) != 2 {
			return clockTime{}, errTok(t, "bad time %q: minutes must be two digits, 00-59", s)
		}
		m = atoi(mins)
		if m > 59 {
			return clockTime{}, errTok(t, "bad time %q: minutes must be 00-59", s)
		}
		if h == 24 && m != 0 {
			return clockTime{}, errTok(t, "bad time %q: the latest time is 24:00", s)
		}
	}
	return clockTime{min: h*60 + m, bare: !hasColon}, nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// timeRange parses START "-" END into c.
func (p *parser) timeRange(c *clause) error {
	st := p.next()
	start, err := parseTime(st)
	if err != nil {
		return err
	}
	if start.min == 24*60 {
		return errTok(st, "24:00 can only end a range; a range starting at midnight starts at 00:00")
	}
	d := p.peek()
	if d.kind != tDash {
		if d.kind == tWord && isAmPm(d.text) {
			return errAmPm(d)
		}
		if d.kind == tBad {
			return errTok(d, "%s", badCharMsg(d))
		}
		if d.kind == tEOF || d.kind == tComma {
			return errTok(st, "missing end time: expected \"-\" and an end time after %q", st.text)
		}
		return errTok(d, "expected \"-\" after start time %q, found %s", st.text, describe(d))
	}
	p.next()
	et := p.peek()
	if et.kind != tTime {
		if et.kind == tWord && isAmPm(et.text) {
			return errAmPm(et)
		}
		if et.kind == tBad {
			return errTok(et, "%s", badCharMsg(et))
		}
		return errAt(st.pos, d.end, "missing end time after %q", p.spec[st.pos:d.end])
	}
	p.next()
	end, err := parseTime(et)
	if err != nil {
		return err
	}
	// The "9-5" shorthand: two bare hours up to 12 with END <= START
	// means END is in the afternoon.
	if start.bare && end.bare && start.min <= 12*60 && end.min <= 12*60 && end.min <= start.min {
		end.min += 12 * 60
	}
	if end.min == start.min {
		return errAt(st.pos, et.end, "empty range %q: start and end are the same time", p.spec[st.pos:et.end])
	}
	if end.min == 0 {
		end.min = 24 * 60 // "22:00-00:00" is "22:00-24:00"
	}
	c.start, c.end = start.min, end.min
	return nil
}

func fmtClock(b *strings.Builder, m int) {
	h, mm := m/60, m%60
	b.WriteByte(byte('0' + h/10))
	b.WriteByte(byte('0' + h%10))
	b.WriteByte(':')
	b.WriteByte(byte('0' + mm/10))
	b.WriteByte(byte('0' + mm%10))
}
