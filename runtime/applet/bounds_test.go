package applet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// hugeName gives a constructor or function an 8 MB name: error messages
// that quote a name must not carry it whole into the execution record.
const hugeName = "Object.defineProperty(X, 'name', { value: 'x'.repeat(8e6) });\n"

// TestAttackHugeErrorText: whatever an applet throws or returns, the
// error's Message and Stack stay within MaxErrorMessage and MaxErrorStack
// on every runner, and a cut is marked.
func TestAttackHugeErrorText(t *testing.T) {
	cases := map[string]struct {
		src  string
		kind ErrorKind
	}{
		"thrown-function-name":    {"function X() {}\n" + hugeName + "function main(ctx) { throw X; }", Throw},
		"thrown-class-instance":   {"class X {}\n" + hugeName + "function main(ctx) { throw new X(); }", Throw},
		"result-constructor-name": {"class X extends Map {}\n" + hugeName + "function main(ctx) { return new X(); }", Result},
		"error-message-and-name":  {"function main(ctx) {\n  const e = new Error('m'.repeat(8e6));\n  e.name = 'n'.repeat(8e6);\n  throw e;\n}", Throw},
		"error-subclass-name":     {"class X extends Error {}\n" + hugeName + "function main(ctx) { throw new X('m'.repeat(8e6)); }", Throw},
		"thrown-string":           {"function main(ctx) { throw 's'.repeat(8e6); }", Throw},
		"thrown-symbol":           {"function main(ctx) { throw Symbol('s'.repeat(8e6)); }", Throw},
		"result-key":              {"function main(ctx) { return { ['k'.repeat(30000)]: () => 1 }; }", Result},
		"deep-stack":              {"function f(n) { if (n === 0) throw new Error('deep'); return f(n - 1); }\nfunction main(ctx) { return f(400); }", Throw},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, rs := range allRunners {
				t.Run(rs.name, func(t *testing.T) {
					r := rs.new(t, normalLimits)
					defer r.Close()
					s := mustCompile(t, "huge", c.src)
					_, err := r.Call(context.Background(), s, Input{})
					var e *Error
					if !errors.As(err, &e) || e.Kind != c.kind {
						t.Fatalf("err = %.300v, want kind %v", err, c.kind)
					}
					if len(e.Message) > MaxErrorMessage+len(truncatedMark) {
						t.Errorf("message is %d bytes, want at most %d + the mark", len(e.Message), MaxErrorMessage)
					}
					if len(e.Stack) > MaxErrorStack+len(truncatedMark) {
						t.Errorf("stack is %d bytes, want at most %d + the mark", len(e.Stack), MaxErrorStack)
					}
					if n := len(e.Error()); n > 2*MaxErrorMessage {
						t.Errorf("Error() is %d bytes", n)
					}
					t.Logf("%d/%d bytes: %.80s", len(e.Message), len(e.Stack), e.Message)
					checkHealthy(t, r)
				})
			}
		})
	}
	t.Run("mark", func(t *testing.T) {
		s := mustCompile(t, "huge", "function main(ctx) { throw new Error('m'.repeat(8e6)); }")
		_, err := NewFresh(normalLimits).Call(context.Background(), s, Input{})
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "Error: mmm") || !strings.HasSuffix(e.Message, truncatedMark) {
			t.Fatalf("err = %.200v, want a message cut with %q", err, truncatedMark)
		}
	})
}

// TestAttackHugeConsoleOutput: console lines are bounded in number and
// length on every runner, also when each argument is huge.
func TestAttackHugeConsoleOutput(t *testing.T) {
	s := mustCompile(t, "log", `function main(ctx) {
	const big = 'x'.repeat(1e6);
	function F() {}
	Object.defineProperty(F, 'name', { value: big });
	for (let i = 0; i < 300; i++) console.log(big, F, { big }, [big], new Error(big), Symbol(big));
	return 1;
}`)
	for _, rs := range allRunners {
		t.Run(rs.name, func(t *testing.T) {
			var mu sync.Mutex
			var lines []string
			ctx := WithLogger(context.Background(), func(level, msg string) {
				mu.Lock()
				lines = append(lines, msg)
				mu.Unlock()
			})
			r := rs.new(t, normalLimits)
			defer r.Close()
			if _, err := r.Call(ctx, s, Input{}); err != nil {
				t.Fatal(err)
			}
			if len(lines) != DefaultMaxLogLines+1 {
				t.Errorf("%d lines, want %d and a note", len(lines), DefaultMaxLogLines)
			}
			for i, l := range lines {
				if len(l) > maxLogLine+len(truncatedMark) {
					t.Fatalf("line %d is %d bytes", i, len(l))
				}
			}
		})
	}
}

// TestFrameLimit: a reader refuses a frame longer than its limit before
// allocating it.
func TestFrameLimit(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := writeFrame(bw, map[string]string{"x": strings.Repeat("y", 2<<20)}); err != nil {
		t.Fatal(err)
	}
	fr := &frameReader{r: &buf, max: 1 << 20}
	var v any
	err := fr.next(&v)
	if !errors.Is(err, errFrameTooLarge) || !strings.Contains(err.Error(), "exceeds 1048576") {
		t.Fatalf("err = %v, want a frame-too-large error", err)
	}
}

// TestWorkerOversizedAnswer: a worker that answers with more than any
// legitimate answer can hold is killed at once and the call fails with
// Crash, instead of the server reading (and storing) the answer.
func TestWorkerOversizedAnswer(t *testing.T) {
	r, err := NewWorkerPool(normalLimits, 1, []string{testBinary(t), badWorkerCommand})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	_, err = r.Call(context.Background(), mustCompile(t, "ok", okSrc), okInput)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Crash || !strings.Contains(e.Message, "frame of") {
		t.Fatalf("err = %v, want a Crash naming the oversized frame", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("call took %v", d)
	}
}
