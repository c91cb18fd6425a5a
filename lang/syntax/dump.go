package syntax

import (
	"fmt"
	"reflect"
	"strings"
)

// Dump renders the AST's structure without positions or comments. Two
// files with the same Dump mean the same thing; the formatter uses it to
// prove that formatting changed only layout.
func Dump(f *File) string {
	var b strings.Builder
	dump(&b, reflect.ValueOf(f.Stmts), 0)
	return b.String()
}

func dump(b *strings.Builder, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		dump(b, v.Elem(), depth)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			dump(b, v.Index(i), depth)
		}
	case reflect.Struct:
		t := v.Type()
		fmt.Fprintf(b, "%s%s\n", strings.Repeat(" ", depth), t.Name())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "Source" || f.Name == "Comments" {
				continue
			}
			fv := v.Field(i)
			switch fv.Kind() {
			case reflect.String:
				if fv.String() != "" {
					fmt.Fprintf(b, "%s %s=%q\n", strings.Repeat(" ", depth), f.Name, fv.String())
				}
			case reflect.Bool:
				if fv.Bool() {
					fmt.Fprintf(b, "%s %s\n", strings.Repeat(" ", depth), f.Name)
				}
			default:
				dump(b, fv, depth+1)
			}
		}
	}
}
