package applet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxDepth bounds the nesting of inputs and results.
const maxDepth = 64

// isoMillis is the format of Date.prototype.toISOString.
const isoMillis = "2006-01-02T15:04:05.000Z"

// buildCtx converts the input to the ctx object passed to main. Inputs are
// deep-copied into native JS values (never goja's wrappers around Go maps,
// which would let the applet write into the caller's data); map keys are
// sorted so that key order, and so the applet, is deterministic.
func (sb *sandbox) buildCtx(in Input) (goja.Value, error) {
	rt := sb.rt
	ctx := rt.NewObject()
	obj := func(name string, m map[string]any) error {
		if m == nil {
			return ctx.Set(name, rt.NewObject())
		}
		jv, err := toJS(rt, m, 0)
		if err != nil {
			return inPath(err, name)
		}
		return ctx.Set(name, jv)
	}
	if err := obj("message", in.Message); err != nil {
		return nil, err
	}
	if err := obj("contact", in.Contact); err != nil {
		return nil, err
	}
	if err := obj("vars", in.Vars); err != nil {
		return nil, err
	}
	args, err := toJS(rt, in.Args, 0)
	if err != nil {
		return nil, inPath(err, "args")
	}
	if err := ctx.Set("args", args); err != nil {
		return nil, err
	}
	if err := ctx.Set("now", sb.now.UTC().Format(isoMillis)); err != nil {
		return nil, err
	}
	return ctx, nil
}

// InputError reports input that is not plain data.
type InputError struct {
	Path string // e.g. "vars.items[2]"
	Msg  string
}

func (e *InputError) Error() string { return "applet input " + e.Path + ": " + e.Msg }

// toJS converts plain Go data to a native JS value. On failure the
// returned *InputError's Path is relative to v; callers prepend their step.
func toJS(rt *goja.Runtime, v any, depth int) (goja.Value, error) {
	if depth > maxDepth {
		return nil, &InputError{Msg: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	switch v := v.(type) {
	case nil:
		return goja.Null(), nil
	case bool:
		return rt.ToValue(v), nil
	case string:
		return rt.ToValue(v), nil
	case float64:
		return numToJS(rt, v)
	case float32:
		return numToJS(rt, float64(v))
	case int:
		return numToJS(rt, float64(v))
	case int8:
		return numToJS(rt, float64(v))
	case int16:
		return numToJS(rt, float64(v))
	case int32:
		return numToJS(rt, float64(v))
	case int64:
		return numToJS(rt, float64(v))
	case uint:
		return numToJS(rt, float64(v))
	case uint8:
		return numToJS(rt, float64(v))
	case uint16:
		return numToJS(rt, float64(v))
	case uint32:
		return numToJS(rt, float64(v))
	case uint64:
		return numToJS(rt, float64(v))
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return nil, &InputError{Msg: "bad number " + strconv.Quote(string(v))}
		}
		return numToJS(rt, f)
	case []any:
		vals := make([]any, len(v))
		for i, e := range v {
			jv, err := toJS(rt, e, depth+1)
			if err != nil {
				return nil, inPath(err, "["+strconv.Itoa(i)+"]")
			}
			vals[i] = jv
		}
		return rt.NewArray(vals...), nil
	case []string:
		vals := make([]any, len(v))
		for i, e := range v {
			vals[i] = e
		}
		return rt.NewArray(vals...), nil
	case map[string]any:
		obj := rt.NewObject()
		for _, k := range sortedKeys(v) {
			jv, err := toJS(rt, v[k], depth+1)
			if err == nil {
				err = setData(obj, k, jv)
			}
			if err != nil {
				return nil, inPath(err, pathKey(k))
			}
		}
		return obj, nil
	case map[string]string:
		obj := rt.NewObject()
		for _, k := range sortedKeys(v) {
			if err := setData(obj, k, rt.ToValue(v[k])); err != nil {
				return nil, inPath(err, pathKey(k))
			}
		}
		return obj, nil
	default:
		return nil, &InputError{Msg: fmt.Sprintf("unsupported type %T (inputs must be plain data)", v)}
	}
}

func numToJS(rt *goja.Runtime, f float64) (goja.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &InputError{Msg: "non-finite number"}
	}
	return rt.ToValue(f), nil
}

// inPath prepends a path step to an *InputError.
func inPath(err error, step string) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return &InputError{Path: step + ie.Path, Msg: ie.Msg}
	}
	return &InputError{Path: step, Msg: err.Error()}
}

// setData creates an own data property. Set is faster but would run the
// __proto__ setter (or a tamed built-in setter) for such keys.
func setData(obj *goja.Object, k string, v goja.Value) error {
	if k == "__proto__" || k == "constructor" || k == "toString" || k == "valueOf" || k == "toLocaleString" ||
		k == "hasOwnProperty" || k == "isPrototypeOf" || k == "propertyIsEnumerable" {
		return obj.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	return obj.Set(k, v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var (
	proxyType   = reflect.TypeOf(goja.Proxy{})
	promiseType = reflect.TypeOf((*goja.Promise)(nil))
	mapType     = reflect.TypeOf(map[string]any(nil))
	errTooLarge = errors.New("too large")
)

// exporter converts a JS value to plain Go data, rejecting functions,
// symbols, cycles and other non-data values, and stopping as soon as the
// JSON encoding of what it has seen exceeds its budget. Getters and proxy
// traps run JS, so it must run under the call's interrupt timer and inside
// Runtime.Try.
type exporter struct {
	rt     *goja.Runtime
	budget int // bytes of JSON left
	limit  int // the initial budget, for messages

	path  []pathSeg      // for messages
	stack []*goja.Object // ancestors, for cycle detection
	buf   []byte
}

// pathSeg is a step into the result: an object key or an array index.
type pathSeg struct {
	key string
	idx int // -1 for a key
}

func (x *exporter) export(v goja.Value) (any, error) {
	x.limit = x.budget
	out, err := x.value(v)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("result is larger than %d bytes when JSON-encoded", x.limit)
	}
	return out, err
}

func (x *exporter) spend(n int) error {
	x.budget -= n
	if x.budget < 0 {
		return errTooLarge
	}
	return nil
}

func (x *exporter) fail(format string, args ...any) error {
	var b strings.Builder
	b.WriteString("result")
	for _, p := range x.path {
		if p.idx >= 0 {
			b.WriteString("[" + strconv.Itoa(p.idx) + "]")
		} else {
			b.WriteString(pathKey(truncate(p.key, maxNameInMessage)))
		}
	}
	return fmt.Errorf("%s: %s", b.String(), fmt.Sprintf(format, args...))
}

func (x *exporter) value(v goja.Value) (any, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, x.spend(4)
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		if _, ok := v.(*goja.Symbol); ok {
			return nil, x.fail("a symbol cannot be returned")
		}
		switch p := v.Export().(type) {
		case string:
			return p, x.spend(jsonStringLen(p))
		case bool:
			if p {
				return true, x.spend(4)
			}
			return false, x.spend(5)
		case int64:
			return x.number(float64(p))
		case float64:
			return x.number(p)
		case *big.Int:
			return nil, x.fail("a BigInt cannot be returned (convert it with Number() or String())")
		default:
			return nil, x.fail("unsupported value %s", v.String())
		}
	}
	if len(x.stack) >= maxDepth {
		return nil, x.fail("nested more than %d levels deep", maxDepth)
	}
	for _, a := range x.stack {
		if a == obj {
			return nil, x.fail("cyclic value (an object contains itself)")
		}
	}
	et := obj.ExportType()
	if et == proxyType {
		return nil, x.fail("a Proxy cannot be returned")
	}
	switch class := obj.ClassName(); class {
	case "Array":
		return x.array(obj)
	case "Object":
		// Plain objects and class instances export as maps; Map, Set,
		// typed arrays, ArrayBuffer and Promise also have class Object.
		if et != mapType {
			return nil, x.fail("%s objects cannot be returned (only strings, numbers, booleans, null, arrays and plain objects)", constructorName(obj))
		}
		return x.object(obj)
	case "Function", "AsyncFunction", "GeneratorFunction":
		return nil, x.fail("a function cannot be returned")
	case "Date":
		t, ok := obj.Export().(time.Time)
		if !ok {
			return nil, x.spend(4) // an invalid date, like JSON.stringify
		}
		s := t.UTC().Format(isoMillis)
		return s, x.spend(len(s) + 2)
	default:
		return nil, x.fail("%s objects cannot be returned (only strings, numbers, booleans, null, arrays and plain objects)", constructorName(obj))
	}
}

// maxNameInMessage bounds a name an applet chose (a constructor's, a
// result key) quoted in an error message.
const maxNameInMessage = 200

// constructorName names an object's kind for messages: its constructor's
// name, else its class.
func constructorName(obj *goja.Object) string {
	if c, ok := obj.Get("constructor").(*goja.Object); ok {
		if n := c.Get("name"); n != nil && goja.IsString(n) && n.String() != "" {
			return truncate(n.String(), maxNameInMessage)
		}
	}
	return obj.ClassName()
}

func (x *exporter) number(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, x.fail("%s cannot be returned (numbers must be finite)", jsFloat(f))
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	x.buf = strconv.AppendFloat(x.buf[:0], f, 'g', -1, 64)
	return f, x.spend(len(x.buf))
}

func (x *exporter) array(obj *goja.Object) (any, error) {
	n := obj.Get("length").ToInteger()
	if n < 0 || n > int64(x.budget) {
		return nil, errTooLarge
	}
	if err := x.spend(int(n) + 1); err != nil { // brackets and commas
		return nil, err
	}
	x.stack = append(x.stack, obj)
	out := make([]any, n)
	for i := range out {
		x.path = append(x.path, pathSeg{idx: i})
		v, err := x.value(obj.Get(indexKey(i)))
		x.path = x.path[:len(x.path)-1]
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	x.stack = x.stack[:len(x.stack)-1]
	return out, nil
}

func (x *exporter) object(obj *goja.Object) (any, error) {
	keys := obj.Keys()
	if err := x.spend(len(keys) + 2); err != nil { // braces, colons and commas
		return nil, err
	}
	x.stack = append(x.stack, obj)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if err := x.spend(jsonStringLen(k)); err != nil {
			return nil, err
		}
		x.path = append(x.path, pathSeg{key: k, idx: -1})
		v, err := x.value(obj.Get(k))
		x.path = x.path[:len(x.path)-1]
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	x.stack = x.stack[:len(x.stack)-1]
	return out, nil
}

var indexKeys = func() (keys [256]string) {
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	return
}()

func indexKey(i int) string {
	if i < len(indexKeys) {
		return indexKeys[i]
	}
	return strconv.Itoa(i)
}

func pathKey(k string) string {
	ident := k != ""
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ident = false
			break
		}
	}
	if ident {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// jsonStringLen is the length of s encoded as a JSON string without HTML
// escaping.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// formatValue renders a value for console output and error messages:
// strings as they are, other primitives as JS's String() does, plain data
// as JSON, anything else as [object Class] or [Function name].
func formatValue(rt *goja.Runtime, v goja.Value, max int) string {
	if v == nil {
		return "undefined"
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		if _, ok := v.(*goja.Symbol); ok {
			return truncate("Symbol("+v.String()+")", max)
		}
		return truncate(v.String(), max)
	}
	switch obj.ClassName() {
	case "Function", "AsyncFunction", "GeneratorFunction":
		name := valueString(obj.Get("name"))
		if name == "" {
			name = "(anonymous)"
		}
		return truncate("[Function "+name+"]", max)
	case "Error":
		return describeThrown(rt, obj)
	}
	x := exporter{rt: rt, budget: max}
	data, err := x.export(obj)
	if err == nil {
		if b, err := marshalJSON(data); err == nil {
			return truncate(string(b), max)
		}
	}
	return "[object " + obj.ClassName() + "]"
}

// marshalJSON encodes v compactly without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func jsFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
