// Package syntaxtest generates large .flow files for the parser's and
// the checker's benchmarks and work-bound tests: realistic sections (the
// shape of examples/sales.flow), optionally with mistakes written the way
// users make them, spread evenly through the file.
package syntaxtest

import (
	"fmt"
	"strings"
)

// SectionLines is how many lines each generated section has.
const SectionLines = 18

// Mistakes are the lines a generated file's mistakes replace, each a
// different kind of syntax error: a line of the section (by its index in
// the section, 0 = "section s%d <") and what it becomes (%d is the
// section's number).
var Mistakes = []struct {
	Line int
	Text string
}{
	{6, `      1           => inbox team:sales by round-robin`},
	{9, `      timeout 10 min -> inbox team:sales`},
	{2, `  set visits%d (contact.visits ?? 0) + 1`},
	{7, `      2           -> reply "Thanks {{contact.name ?? 'there'}}!" then`},
	{13, `    tag "regular`},
}

// Flow returns a flow of about n lines with the given number of mistakes
// (each on its own section; at most one per section), cycling through
// Mistakes. Every mistake is one diagnostic.
func Flow(n, mistakes int) string {
	var b strings.Builder
	b.WriteString("# Generated for the parser's benchmarks.\nflow bench\nnumbers \"+15550100\", \"+15550101\"\n")
	b.WriteString("timezone \"America/New_York\"\nschedule office = \"mon-fri 9-17, sat 10-14\"\n")
	b.WriteString("holidays \"2026-12-25\", \"2027-01-01\"\napplet lookup = \"lookup.js\"\n\n")
	sections := max((n-9)/SectionLines, 1)
	mistakes = min(mistakes, sections)
	broken := map[int]int{} // section → mistake
	for j := 0; j < mistakes; j++ {
		broken[(2*j+1)*sections/(2*mistakes)] = j % len(Mistakes)
	}
	for i := 0; i < sections; i++ {
		lines := strings.Split(fmt.Sprintf(section, i, i, i, i, i, i, i), "\n")
		if m, ok := broken[i]; ok {
			text := Mistakes[m].Text
			if strings.Contains(text, "%d") {
				text = fmt.Sprintf(text, i)
			}
			lines[Mistakes[m].Line] = text
		}
		b.WriteString(strings.Join(lines, "\n"))
	}
	b.WriteString("goto s0\n")
	return b.String()
}

const section = `section s%d <
  # The same shape as examples/sales.flow, with a few more forms.
  set visits%d = (contact.visits ?? 0) + 1
  run lookup(from, "%d") as customer%d < on error -> inbox team:support >
  when hours("office") and ("vip" in contact.tags) <
    menu "Reply 1 for sales, 2 for support (section %d)" <
      1           -> inbox team:sales by round-robin
      2           -> reply "Thanks {{contact.name ?? 'there'}}! Support will text you shortly." then inbox team:support
      "agent"     -> ask "What is it about?" as topic%d < timeout 30m -> inbox team:agents > then forward webhook:"https://agents.example.com/in"
      timeout 10m -> inbox team:sales
      else        -> reply "Please reply 1 or 2." then retry 2 then inbox team:sales
    >
  > else when (visits%d > 3) <
    tag "regular"
    forward email:"owner@example.com"
  > else reply "We're closed. We'll text you back at 9am." then inbox team:sales
>

`
