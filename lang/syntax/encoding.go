package syntax

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/lang/diag"
	"github.com/flowc-dev/flowc/lang/file"
)

// notFlowText reports, as one diagnostic, a file that is not .flow text
// at all, before the lexer sees it: bytes that are not UTF-8 (a file
// saved as Latin-1 or UTF-16), or a JSON document (a GUI builder's
// export). Lexing either would give one error per stray character, a
// cascade that hides the one thing to do. nil when the text is neither.
// (A UTF-8 byte order mark is not a problem: file.NewSource drops it.)
func notFlowText(src *file.Source) *diag.Diagnostic {
	text := src.Text
	if !utf8.ValidString(text) {
		at := firstInvalidUTF8(text)
		n := at
		if src.HadBOM {
			n += len(file.BOM)
		}
		hint := `in your editor choose "Save with encoding" or "Reopen with encoding", then UTF-8`
		if strings.HasPrefix(text, "\xff\xfe") || strings.HasPrefix(text, "\xfe\xff") {
			hint = "the file is UTF-16 (its first bytes are a UTF-16 byte order mark); " + hint
		}
		return &diag.Diagnostic{Severity: diag.Error, Code: "flow/encoding", Span: src.Span(at, at+1),
			Message: fmt.Sprintf("this file is not valid UTF-8 at byte %d: save the file as UTF-8", n), Hint: hint}
	}
	lead := len(text) - len(strings.TrimLeft(text, " \t\r\n"))
	if lead < len(text) && (text[lead] == '{' || text[lead] == '[') && json.Valid([]byte(text)) {
		return &diag.Diagnostic{Severity: diag.Error, Code: "flow/encoding", Span: src.Span(lead, lead+1),
			Message: "this looks like a JSON export, not a .flow file",
			Hint:    "flowc reads flows written in its own language (flow NAME, numbers \"+1…\", then statements such as reply \"…\"); rewrite the flow as .flow text, see docs/language.md"}
	}
	return nil
}

// firstInvalidUTF8 is the byte offset of the first byte of text that does
// not start a valid UTF-8 sequence; len(text) if there is none.
func firstInvalidUTF8(text string) int {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(text)
}
