package runtime

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr/file"
)

// CacheCompiled makes Compile keep, process-wide, up to about max
// compiled expressions (max <= 0 turns it off and drops them), and
// return the kept result when it compiles the same source, of the same
// kind, for the same calendar, with the same of its names declared as
// variables, again. `flowc lsp` turns
// it on: it recompiles a file after every change, and a change alters
// one expression, not the file's hundreds. Nothing else does: a flow is
// compiled once there.
//
// A kept *Compiled is the same value for every program that asks for it.
// It is never changed after Compile returns it, and one program already
// runs it concurrently, so sharing it changes nothing. Its hours() and
// holiday() read the Compiler they were compiled by, whose calendar has
// the same content as the asking Compiler's (the content is in the key:
// the time zone, the holidays, each schedule's canonical form, which is
// what a program stores and vm.Link rebuilds its calendar from), so they
// answer the same. An error is kept too (a file being typed has broken
// expressions); each caller gets its own copy of expr's *file.Error,
// which callers adjust.
//
// It returns the previous max (0: off). Calling it again with the
// current max keeps what is kept.
func CacheCompiled(max int) (prev int) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if x := compiledCache.Load(); x != nil {
		prev = x.max
	}
	switch {
	case max == prev:
	case max <= 0:
		compiledCache.Store(nil)
	default:
		compiledCache.Store(&exprCache{max: max, cur: map[exprKey]cached{}})
	}
	return prev
}

var cacheMu sync.Mutex // serialises CacheCompiled

var compiledCache atomic.Pointer[exprCache]

type exprKey struct {
	cal, vars string // what else it depends on (Compiler.scope)
	src       string
	kind      ExprKind
}

type cached struct {
	c   *Compiled
	err error
}

// exprCache holds two generations: a lookup that finds an entry in the
// older one moves it to the newer, and when the newer is full the older
// is dropped. What a session still uses stays; what it typed on the way
// goes, and the cache holds at most 2×max entries.
type exprCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[exprKey]cached
	hits     int64 // for the tests
}

func (x *exprCache) get(k exprKey) (cached, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v, ok := x.cur[k]
	if !ok {
		if v, ok = x.old[k]; ok {
			x.putLocked(k, v)
		}
	}
	if ok {
		x.hits++
	}
	return v, ok
}

func (x *exprCache) put(k exprKey, v cached) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.putLocked(k, v)
}

func (x *exprCache) putLocked(k exprKey, v cached) {
	if len(x.cur) >= x.max {
		x.old, x.cur = x.cur, map[exprKey]cached{}
	}
	x.cur[k] = v
}

// out is a cached result as a caller gets it: expr's error copied.
func (v cached) out() (*Compiled, error) {
	if fe, ok := v.err.(*file.Error); ok {
		c := *fe
		return nil, &c
	}
	return v.c, v.err
}

// scope is what a compiled expression of src depends on besides src
// and its kind: the calendar's content (hours, holiday and their native
// forms) and which of the names src uses are declared variables (a bare
// name is a variable read only if declared). Only those variables: a
// change that declares a variable elsewhere in the file leaves the
// expressions that do not name it kept. Every look-up of Vars during a
// compile (varPatcher, the cost visitor, the native forms) is of a name
// written in src, so the declared variables among src's words decide
// them all; a declared name that is not one word (none is, as the
// language names variables) is in every key.
func (c *Compiler) scope(src string) (cal, vars string) {
	c.scopeOnce.Do(c.fillScope)
	var used []string
	for i := 0; i < len(src); {
		j := i
		for j < len(src) && isWordByte(src[j]) {
			j++
		}
		if j == i {
			i++
			continue
		}
		if w := src[i:j]; c.Vars[w] {
			used = append(used, w)
		}
		i = j
	}
	if len(used) == 0 {
		return c.scopeKey, ""
	}
	sort.Strings(used)
	used = slices.Compact(used)
	return c.scopeKey, strings.Join(used, "\x00")
}

// isWordByte: identifier characters, and every byte of a multi-byte
// character, so that a word is never cut inside a name.
func isWordByte(b byte) bool {
	return b == '_' || b == '$' || b >= 0x80 || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

// fillScope computes the key of the calendar and of the declared names
// that are not one word.
func (c *Compiler) fillScope() {
	var b strings.Builder
	var odd []string
	for v, ok := range c.Vars {
		if !ok {
			continue
		}
		for i := 0; i < len(v); i++ {
			if !isWordByte(v[i]) {
				odd = append(odd, v)
				break
			}
		}
	}
	sort.Strings(odd)
	for _, v := range odd {
		b.WriteString(v)
		b.WriteByte(0)
	}
	b.WriteByte(1)
	if cal := c.Cal; cal != nil {
		if cal.Location != nil {
			b.WriteString(cal.Location.String())
		}
		b.WriteByte(0)
		for _, d := range cal.Holidays.Dates() {
			b.WriteString(d)
			b.WriteByte(0)
		}
		b.WriteByte(1)
		names := make([]string, 0, len(cal.Schedules))
		for n := range cal.Schedules {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteString(n)
			b.WriteByte(0)
			if s := cal.Schedules[n]; s != nil {
				b.WriteString(s.String())
			}
			b.WriteByte(0)
		}
	} else {
		b.WriteString("no calendar")
	}
	c.scopeKey = b.String()
}
