package vm

import (
	"fmt"
	"time"

	"github.com/flowc-dev/flowc/lang/schedule"
	"github.com/flowc-dev/flowc/runtime"
)

// NewCalendar builds the time settings of a flow from its headers.
func NewCalendar(tz string, holidays []string, schedules map[string]string) (*runtime.Calendar, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, err
		}
		loc = l
	}
	h, err := schedule.ParseHolidays(holidays)
	if err != nil {
		return nil, err
	}
	cal := &runtime.Calendar{Location: loc, Holidays: h, Schedules: map[string]*schedule.Schedule{}}
	for name, spec := range schedules {
		s, err := schedule.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %v", name, err)
		}
		cal.Schedules[name] = s
	}
	return cal, nil
}

// Link rebuilds what a decoded program does not carry: its calendar and
// its compiled expressions.
func Link(p *Program) error {
	cal, err := NewCalendar(p.Timezone, p.Holidays, p.Schedules)
	if err != nil {
		return fmt.Errorf("vm: link %s: %v", p.Name, err)
	}
	p.cal = cal
	vars := map[string]bool{}
	for _, v := range p.Vars {
		vars[v] = true
	}
	c := &runtime.Compiler{Cal: cal, Vars: vars}
	for i := range p.Exprs {
		e := &p.Exprs[i]
		ce, err := c.Compile(e.Source, e.Kind)
		if err != nil {
			return fmt.Errorf("vm: link %s: %s:%d:%d: %v", p.Name, p.File, e.Loc.Line, e.Loc.Col, err)
		}
		e.compiled = ce
	}
	return nil
}

// Linked reports whether the program's expressions are compiled.
func (p *Program) Linked() bool {
	for i := range p.Exprs {
		if p.Exprs[i].compiled == nil {
			return false
		}
	}
	return p.cal != nil
}
