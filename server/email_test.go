package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowc-dev/flowc/server/store"
)

// smtpSession is what a fake SMTP server saw in one session.
type smtpSession struct {
	mailFrom string
	rcptTo   []string
	data     string // the raw DATA, dot-unstuffed, CRLFs kept
}

// rawSMTP is a fake SMTP server on 127.0.0.1 that records every session.
type rawSMTP struct {
	addr     string
	mu       sync.Mutex
	sessions []smtpSession
	stall    bool          // answer nothing after the greeting
	hungUp   chan struct{} // a stalled session's client closed the connection
}

func newRawSMTP(t *testing.T) *rawSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawSMTP{addr: ln.Addr().String(), hungUp: make(chan struct{}, 16)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *rawSMTP) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(l string) { fmt.Fprintf(c, "%s\r\n", l) }
	say("220 fake ESMTP")
	if s.stall {
		if _, err := io.Copy(io.Discard, r); err == nil { // EOF: the client closed
			s.hungUp <- struct{}{}
		}
		return
	}
	var cur smtpSession
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		up := strings.ToUpper(cmd)
		switch {
		case strings.HasPrefix(up, "EHLO"):
			say("250-fake")
			say("250 8BITMIME")
		case strings.HasPrefix(up, "HELO"):
			say("250 fake")
		case strings.HasPrefix(up, "MAIL FROM:"):
			cur = smtpSession{mailFrom: cmd[len("MAIL FROM:"):]}
			say("250 ok")
		case strings.HasPrefix(up, "RCPT TO:"):
			cur.rcptTo = append(cur.rcptTo, cmd[len("RCPT TO:"):])
			say("250 ok")
		case up == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.data = b.String()
			s.mu.Lock()
			s.sessions = append(s.sessions, cur)
			s.mu.Unlock()
			say("250 queued")
		case up == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *rawSMTP) got() []smtpSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpSession(nil), s.sessions...)
}

func emailItem(to, smsFrom, smsTo, body string) store.OutboxItem {
	b := fmt.Sprintf(`{"flow":"shop","message_sid":"SM1","from":%q,"to":%q,"body":%q}`, smsFrom, smsTo, body)
	return store.OutboxItem{ID: 42, Kind: "email", To: to, From: smsTo, Body: b}
}

var emailNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// TestEmailIsWellFormed: the message on the wire parses as RFC 5322,
// has exactly the headers flowc writes, and the SMS text in its body,
// lines with a leading dot and non-ASCII included.
func TestEmailIsWellFormed(t *testing.T) {
	fake := newRawSMTP(t)
	o := &Outbound{SMTPAddr: fake.addr, SMTPFrom: "Flowc <flowc@example.com>"}
	body := "Is the store open on Sunday?\n.\n.leading dot, café ☕"
	if _, err := o.deliver(context.Background(), emailItem("owner@example.com", "+15550008888", "+15550300", body), emailNow); err != nil {
		t.Fatal(err)
	}
	ss := fake.got()
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	s := ss[0]
	if !strings.Contains(s.mailFrom, "<flowc@example.com>") || len(s.rcptTo) != 1 || !strings.Contains(s.rcptTo[0], "<owner@example.com>") {
		t.Fatalf("envelope: MAIL FROM %q RCPT TO %q", s.mailFrom, s.rcptTo)
	}
	m, err := mail.ReadMessage(strings.NewReader(s.data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, s.data)
	}
	for _, h := range []string{"Bcc", "Cc", "Reply-To"} {
		if v, ok := m.Header[h]; ok {
			t.Errorf("unexpected header %s: %q", h, v)
		}
	}
	if got := m.Header.Get("To"); !strings.Contains(got, "owner@example.com") {
		t.Errorf("To: %q", got)
	}
	if got := m.Header.Get("Subject"); got != "SMS from +15550008888 to +15550300" {
		t.Errorf("Subject: %q", got)
	}
	if got := m.Header.Get("Message-Id"); got != "<flowc-outbox-42@flowc>" {
		t.Errorf("Message-ID: %q", got)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(emailNow) {
		t.Errorf("Date: %v %v", d, err)
	}
	text, _ := io.ReadAll(m.Body)
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		text, _ = io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(text))))
	}
	if !strings.Contains(string(text), ".leading dot, café ☕") || !strings.Contains(string(text), "Is the store open on Sunday?") {
		t.Errorf("body:\n%s", text)
	}
	for _, l := range strings.SplitAfter(s.data, "\n") {
		if l != "" && !strings.HasSuffix(l, "\r\n") {
			t.Errorf("bare LF in %q", l)
		}
	}
}

// TestEmailHeaderInjection: a line break in anything that goes into a
// header (the contact's number, the flow's address, the configured
// sender) is refused, permanently, and nothing reaches the SMTP server;
// an address that is not one is refused too.
func TestEmailHeaderInjection(t *testing.T) {
	fake := newRawSMTP(t)
	const inject = "\r\nBcc: victim@evil.example"
	for _, c := range []struct {
		name string
		from string
		it   store.OutboxItem
	}{
		{"sms from", "flowc@example.com", emailItem("owner@example.com", "+15550008888"+inject, "+15550300", "hi")},
		{"sms to", "flowc@example.com", emailItem("owner@example.com", "+15550008888", "+15550300"+inject, "hi")},
		{"sms from LF", "flowc@example.com", emailItem("owner@example.com", "+1555\nBcc: victim@evil.example", "+15550300", "hi")},
		{"to", "flowc@example.com", emailItem("owner@example.com"+inject, "+15550008888", "+15550300", "hi")},
		{"to, two addresses", "flowc@example.com", emailItem("owner@example.com, victim@evil.example", "+15550008888", "+15550300", "hi")},
		{"to, not an address", "flowc@example.com", emailItem("owner", "+15550008888", "+15550300", "hi")},
		{"from", "flowc@example.com" + inject, emailItem("owner@example.com", "+15550008888", "+15550300", "hi")},
	} {
		o := &Outbound{SMTPAddr: fake.addr, SMTPFrom: c.from}
		_, err := o.deliver(context.Background(), c.it, emailNow)
		var perm permanentError
		if !errors.As(err, &perm) {
			t.Errorf("%s: %v, want a permanent error", c.name, err)
		}
	}
	if ss := fake.got(); len(ss) != 0 {
		t.Fatalf("refused e-mails reached the server: %+v", ss)
	}
}

// TestEmailTimesOut: an SMTP server that stops answering costs one
// timeout, not a stuck delivery loop, and the connection is closed (not
// left open for every retry).
func TestEmailTimesOut(t *testing.T) {
	fake := newRawSMTP(t)
	fake.stall = true
	o := &Outbound{SMTPAddr: fake.addr, SMTPTimeout: 200 * time.Millisecond}
	start := time.Now()
	_, err := o.deliver(context.Background(), emailItem("owner@example.com", "+15550008888", "+15550300", "hi"), emailNow)
	if err == nil {
		t.Fatal("a silent server took the e-mail")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	select {
	case <-fake.hungUp:
	case <-time.After(20 * time.Second):
		t.Fatal("the connection to the stalled server was left open")
	}
}
