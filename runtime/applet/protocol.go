package applet

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The worker protocol: frames of a 4-byte big-endian length followed by a
// JSON document, on the worker's stdin (requests) and stdout (responses).
//
//	parent → worker  {"op":"init","limits":{...}}       first frame
//	worker → parent  {"ready":true,"pid":N,"v":1}
//	parent → worker  {"op":"call","id":N,"script":{name,path,hash,source?},"input":{...},"log":bool}
//	worker → parent  {"id":N,"result":<json>} | {"id":N,"error":{...}} | {"id":N,"need_source":true}
//	parent → worker  {"op":"ping","id":N}                     answered by {"id":N,"result":null}
//
// The source of a script is sent the first time a worker sees its hash; the
// worker keeps compiled scripts in a bounded cache and asks again
// (need_source) for one it has evicted. The worker exits when its stdin is
// closed. A worker serves one call at a time and reads its next request only
// after answering; there is no cancel message: a caller that gives up
// returns at once and the pool collects the worker's answer (bounded by
// the time limit) in the background.

const protocolVersion = 1

// maxFrame bounds a frame, so that neither side allocates without limit on
// a corrupt or hostile length prefix. The parent reads answers with the
// much smaller maxAnswerFrame.
const maxFrame = 64 << 20

// errFrameTooLarge is returned for a frame longer than the reader's limit.
var errFrameTooLarge = errors.New("applet: frame too large")

// maxAnswerFrame is the largest answer a worker can legitimately send
// under lim: the result (at most MaxResultBytes as compact JSON, which
// json.Marshal's escaping can make up to 6 times longer), the console
// lines and the error text, each bounded, with room to spare. The parent
// refuses anything longer, so that a worker gone wrong cannot make the
// server read (and store) megabytes.
func maxAnswerFrame(lim Limits) uint32 {
	n := 64<<10 + 8*lim.MaxResultBytes + (lim.MaxLogLines+1)*8*(maxLogLine+len(truncatedMark)+32) +
		8*(MaxErrorMessage+MaxErrorStack+2*len(truncatedMark))
	if n > maxFrame {
		n = maxFrame
	}
	return uint32(n)
}

type wireLimits struct {
	Timeout        time.Duration `json:"timeout,omitempty"`
	MaxCallStack   int           `json:"max_call_stack,omitempty"`
	MaxMemory      uint64        `json:"max_memory,omitempty"`
	MaxResultBytes int           `json:"max_result_bytes,omitempty"`
	RegexTimeout   time.Duration `json:"regex_timeout,omitempty"`
	MaxLogLines    int           `json:"max_log_lines,omitempty"`
}

func toWireLimits(l Limits) *wireLimits {
	w := wireLimits(l)
	return &w
}

type wireScript struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Hash   string `json:"hash"`
	Source string `json:"source,omitempty"`
}

type wireInput struct {
	Message map[string]any `json:"message,omitempty"`
	Contact map[string]any `json:"contact,omitempty"`
	Vars    map[string]any `json:"vars,omitempty"`
	Args    []any          `json:"args,omitempty"`
	Now     time.Time      `json:"now"`
	Seed    int64          `json:"seed,omitempty"`
}

type request struct {
	Op     string      `json:"op"`
	ID     uint64      `json:"id,omitempty"`
	Limits *wireLimits `json:"limits,omitempty"`
	Script *wireScript `json:"script,omitempty"`
	Input  *wireInput  `json:"input,omitempty"`
	Log    bool        `json:"log,omitempty"`
}

type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

type wireLog struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

type response struct {
	ID         uint64     `json:"id,omitempty"`
	Ready      bool       `json:"ready,omitempty"`
	PID        int        `json:"pid,omitempty"`
	Version    int        `json:"v,omitempty"`
	Result     any        `json:"result"`
	Err        *wireError `json:"error,omitempty"`
	NeedSource bool       `json:"need_source,omitempty"`
	Logs       []wireLog  `json:"logs,omitempty"`
	// Retire asks the parent to replace this worker after the answer:
	// its address space is too used up to be sure of the next call.
	Retire bool `json:"retire,omitempty"`
}

func writeFrame(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > maxFrame {
		return fmt.Errorf("applet: frame of %d bytes exceeds %d", len(b), maxFrame)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Flush()
}

// frameReader reads frames. After an error (such as a read deadline) it
// can be called again and resumes where it stopped.
type frameReader struct {
	r    io.Reader
	max  uint32 // longest frame accepted; 0 means maxFrame
	hdr  [4]byte
	hdrN int
	body []byte
	n    int // bytes of body read
}

func (fr *frameReader) next(v any) error {
	for fr.hdrN < len(fr.hdr) {
		n, err := fr.r.Read(fr.hdr[fr.hdrN:])
		fr.hdrN += n
		if err != nil && fr.hdrN < len(fr.hdr) {
			if err == io.EOF && fr.hdrN > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	size := binary.BigEndian.Uint32(fr.hdr[:])
	limit := fr.max
	if limit == 0 {
		limit = maxFrame
	}
	if size > limit {
		return fmt.Errorf("%w: a frame of %d bytes exceeds %d", errFrameTooLarge, size, limit)
	}
	if cap(fr.body) < int(size) {
		fr.body = make([]byte, size)
	}
	fr.body = fr.body[:size]
	for fr.n < int(size) {
		n, err := fr.r.Read(fr.body[fr.n:])
		fr.n += n
		if err != nil && fr.n < int(size) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	fr.hdrN, fr.n = 0, 0
	err := json.Unmarshal(fr.body, v)
	if cap(fr.body) > 1<<20 {
		fr.body = nil // do not keep a large buffer
	}
	return err
}

// checkPlain validates input data with the same rules as toJS, so that the
// worker pool rejects exactly what the in-process runners reject.
func checkPlain(v any, path string, depth int) error {
	if depth > maxDepth {
		return &InputError{Path: path, Msg: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	switch v := v.(type) {
	case nil, bool, string, json.Number,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, []string, map[string]string:
		return nil
	case float64:
		return checkFinite(v, path)
	case float32:
		return checkFinite(float64(v), path)
	case []any:
		for i, e := range v {
			if err := checkPlain(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, e := range v {
			if err := checkPlain(e, path+pathKey(k), depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return &InputError{Path: path, Msg: fmt.Sprintf("unsupported type %T (inputs must be plain data)", v)}
	}
}

func checkFinite(f float64, path string) error {
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return &InputError{Path: path, Msg: "non-finite number"}
	}
	return nil
}

func checkInput(in Input) error {
	for _, p := range []struct {
		name string
		m    map[string]any
	}{{"message", in.Message}, {"contact", in.Contact}, {"vars", in.Vars}} {
		if err := checkPlain(p.m, p.name, 0); err != nil {
			return err
		}
	}
	for i, a := range in.Args {
		if err := checkPlain(a, fmt.Sprintf("args[%d]", i), 1); err != nil {
			return err
		}
	}
	return nil
}
