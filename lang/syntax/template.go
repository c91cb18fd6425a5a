package syntax

import (
	"fmt"
	"strconv"
	"strings"
)

// TemplatePart is literal text or an interpolated expression.
type TemplatePart struct {
	Text   string // decoded literal text, or the expression source
	IsExpr bool
	Offset int // byte offset of Text in the .flow file (for expressions: of the expression text)
}

// TemplateError is a malformed template, at a byte offset in the file.
type TemplateError struct {
	Offset, End int
	Msg         string
}

func (e *TemplateError) Error() string { return e.Msg }

// ParseTemplate splits a string literal (raw, with its quotes, starting
// at byte offset off in the file) into literal and `{{ expr }}` parts.
// Escapes are decoded in literal parts only: the expression between
// `{{` and `}}` is taken as written, so strings inside it use single
// quotes: "Hi {{contact.name ?? 'there'}}".
func ParseTemplate(raw string, off int) ([]TemplatePart, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, &TemplateError{Offset: off, End: off + len(raw), Msg: "expected a string"}
	}
	body := raw[1 : len(raw)-1]
	base := off + 1
	var parts []TemplatePart
	lit := func(seg string, at int) error {
		if seg == "" {
			return nil
		}
		s, err := strconv.Unquote(`"` + seg + `"`)
		if err != nil {
			return &TemplateError{Offset: at, End: at + len(seg), Msg: fmt.Sprintf("invalid escape in string: %s", err)}
		}
		parts = append(parts, TemplatePart{Text: s, Offset: at})
		return nil
	}
	i := 0
	for {
		j := strings.Index(body[i:], "{{")
		if j < 0 {
			if k := strings.Index(body[i:], "}}"); k >= 0 {
				return nil, &TemplateError{Offset: base + i + k, End: base + i + k + 2, Msg: "unmatched }} in template"}
			}
			if err := lit(body[i:], base+i); err != nil {
				return nil, err
			}
			return parts, nil
		}
		if err := lit(body[i:i+j], base+i); err != nil {
			return nil, err
		}
		start := i + j + 2
		k := strings.Index(body[start:], "}}")
		if k < 0 {
			return nil, &TemplateError{Offset: base + i + j, End: base + len(body), Msg: "unclosed {{ in template (missing }})"}
		}
		exprText := body[start : start+k]
		trimmed := strings.TrimLeft(exprText, " \t")
		lead := len(exprText) - len(trimmed)
		trimmed = strings.TrimRight(trimmed, " \t")
		if trimmed == "" {
			return nil, &TemplateError{Offset: base + i + j, End: base + start + k + 2, Msg: "empty {{ }} in template"}
		}
		parts = append(parts, TemplatePart{Text: trimmed, IsExpr: true, Offset: base + start + lead})
		i = start + k + 2
	}
}
