package runtime

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr/file"
)

// CacheCompiled makes Compile keep, process-wide, up to about max
// compiled expressions (max <= 0 turns it off and drops them), and
// return the kept result when it compiles the same source, of the same
// kind, for the same flow variables and calendar again. `flowc lsp` turns
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
	scope string // the Compiler's variables and calendar (Compiler.scope)
	src   string
	kind  ExprKind
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

// scope is what a compiled expression depends on besides its source and
// kind: the declared variables (which bare names become variable reads)
// and the calendar's content (hours, holiday and their native forms).
// Computed once per Compiler.
func (c *Compiler) scope() string {
	c.scopeOnce.Do(func() {
		var b strings.Builder
		vars := make([]string, 0, len(c.Vars))
		for v, ok := range c.Vars {
			if ok {
				vars = append(vars, v)
			}
		}
		sort.Strings(vars)
		for _, v := range vars {
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
	})
	return c.scopeKey
}
