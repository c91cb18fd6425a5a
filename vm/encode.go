package vm

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
)

// Magic starts every serialised program; FormatVersion is bumped whenever
// the encoding or the instruction set changes, and old files are refused
// rather than misread.
const (
	Magic         = "FLOWC\x00"
	FormatVersion = uint16(1)
)

// ErrFormat is returned for data that is not a serialised program.
var ErrFormat = errors.New("vm: not a compiled flowc program")

// Encode writes p in the versioned binary form: magic, format version,
// then the program (gob). Compiled expressions are not written: Decode
// recompiles them from their source.
func (p *Program) Encode(w io.Writer) error {
	var buf bytes.Buffer
	buf.WriteString(Magic)
	if err := binary.Write(&buf, binary.BigEndian, FormatVersion); err != nil {
		return err
	}
	if err := gob.NewEncoder(&buf).Encode(p); err != nil {
		return fmt.Errorf("vm: encode: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Decode reads a program written by Encode. The caller must then link it
// (compiler.Link) to rebuild its expressions before running it.
func Decode(r io.Reader) (*Program, error) {
	head := make([]byte, len(Magic)+2)
	if _, err := io.ReadFull(r, head); err != nil || string(head[:len(Magic)]) != Magic {
		return nil, ErrFormat
	}
	if v := binary.BigEndian.Uint16(head[len(Magic):]); v != FormatVersion {
		return nil, fmt.Errorf("vm: compiled with format version %d; this flowc reads version %d: recompile the flow", v, FormatVersion)
	}
	var p Program
	if err := gob.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("vm: decode: %w", err)
	}
	if len(p.Code) != len(p.Args) || len(p.Code) != len(p.Locs) {
		return nil, fmt.Errorf("vm: decode: corrupt program (code, args and locations differ in length)")
	}
	return &p, nil
}
