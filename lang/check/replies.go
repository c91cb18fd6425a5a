package check

import (
	"fmt"
	"strings"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
	"github.com/flowc-dev/flowc/lang/registry"
	"github.com/flowc-dev/flowc/lang/sms"
	"github.com/flowc-dev/flowc/lang/syntax"
	"github.com/flowc-dev/flowc/vm"
)

// CodeSMSLength is the warning on a text sent as more SMS segments than
// the threshold.
const CodeSMSLength = "flow/sms-length"

// DefaultMaxSegments is the segment count past which a reply is a
// warning (`flowc check --max-segments N` changes it).
const DefaultMaxSegments = 3

// Reply is one text a flow sends (a reply, or a menu's or ask's prompt)
// measured as an SMS. Its {{ }} parts are unknown until run time and
// counted as empty: with any, the measure is a lower bound (Exact false),
// and a value with a character outside GSM-7 (an emoji in a name) can
// make the text UCS-2 too.
type Reply struct {
	Span  file.Span // the string literal
	Kind  string    // "reply", "menu" or "ask"
	Exact bool      // no {{ }} parts: the measure is the text's
	sms.Length
}

// Replies measures every text files send and warns about those of more
// than maxSegments segments (DefaultMaxSegments if maxSegments < 1).
// Texts over vm.MaxReplyChars are the compiler's error (flow/too-long),
// not repeated here.
func Replies(files []*syntax.File, maxSegments int) ([]Reply, diag.List) {
	if maxSegments < 1 {
		maxSegments = DefaultMaxSegments
	}
	var out []Reply
	var diags diag.List
	for _, f := range files {
		eachCommand(f, func(cmd *syntax.Command) {
			a, ok := registry.Lookup(cmd.Name.Value)
			if !ok || (a.Name != "reply" && a.Name != "menu" && a.Name != "ask") {
				return
			}
			b, _ := Bind(a, cmd.Args)
			v := b.Positional[0]
			if v == nil || v.Type() != syntax.VString {
				return
			}
			parts, err := syntax.ParseTemplate(v.Tok, syntax.Start(v))
			if err != nil {
				return // reported by File
			}
			var lit strings.Builder
			exact := true
			for _, p := range parts {
				if p.IsExpr {
					exact = false
					continue
				}
				lit.WriteString(p.Text)
			}
			r := Reply{Span: f.Span(v), Kind: a.Name, Exact: exact, Length: sms.Measure(lit.String())}
			out = append(out, r)
			if r.Segments <= maxSegments || r.Chars > vm.MaxReplyChars {
				return
			}
			atLeast := ""
			if !exact {
				atLeast = "at least "
			}
			d := diags.Warnf(r.Span, CodeSMSLength, "this %s is sent as %s%d SMS segments (%d characters, %s), more than %d",
				describeKind(a.Name), atLeast, r.Segments, r.Chars, r.Encoding, maxSegments)
			d.Data = map[string]any{"chars": r.Chars, "segments": r.Segments, "encoding": r.Encoding, "exact": exact}
			d.Hint = "each segment is billed as one message; shorten it or split it into several replies"
			if ch, ok := sms.NeedsUCS2(lit.String()); ok {
				d.Hint = fmt.Sprintf("%q (U+%04X) makes the whole text %s, %d characters a segment instead of %d; without such characters it would be GSM-7",
					ch, ch, sms.UCS2, sms.UCS2Part, sms.GSMPart)
			}
		})
	}
	diags.Sort()
	return out, diags
}

func describeKind(k string) string {
	switch k {
	case "menu":
		return "menu prompt"
	case "ask":
		return "ask prompt"
	}
	return k
}
