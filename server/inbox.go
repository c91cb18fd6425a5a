package server

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/flowc-dev/flowc/server/store"
)

// This file is what an inbox item shows of the conversation: the
// messages the contact wrote in it, so that a person reading the inbox
// after a menu sees the question and not only the key pressed ("2"), and
// after a timeout sees what was asked rather than nothing.
//
// "The conversation's messages" are the stored messages from the contact
// to the business number received since the conversation's first message
// (store.Conversation.Started), timers' runs left out, plus the message
// being handled. They include what the opt-out stage answered in between
// (HELP): that too is what the contact wrote. They are copied onto the
// item when it is delivered (one indexed read per delivering step), so
// listing an inbox reads no other table and an item keeps showing what
// was written even when the conversation goes on.

const (
	// MaxInboxMessages bounds the messages an inbox item keeps: the
	// newest are kept, and InboxItem.MessagesOmitted counts the others.
	MaxInboxMessages = 20
	// MaxInboxMessageBytes bounds the bytes of those messages' bodies and
	// media URLs together. The newest message is always kept: when it
	// alone is longer, its media and then its body are cut to fit (it is
	// marked Clipped; the item's Body keeps the whole text).
	MaxInboxMessageBytes = 16 << 10
)

// conversationStart is when the conversation in is part of started: its
// first message's time, or the step's for a message that starts one. A
// conversation saved without a start (by a server from before starts
// were kept) counts from its last step.
func conversationStart(in *stepInput) time.Time {
	switch {
	case in.Conv == nil:
		return in.Now
	case in.Conv.Started.IsZero():
		return in.Conv.Updated
	}
	return in.Conv.Started
}

// conversationMessages is what the contact wrote in in's conversation up
// to and including in.Msg (a timer adds nothing), within the bounds, and
// how many earlier ones the bounds left out.
func conversationMessages(ctx context.Context, tx store.Tx, in *stepInput) ([]store.InboxMessage, int, error) {
	var (
		msgs  []store.InboxMessage
		total int
	)
	if k, ok := inboxMessagesRead(in); ok {
		var err error
		if msgs, total, err = tx.ContactMessages(ctx, k.Contact, k.Number, k.Since, k.Limit); err != nil {
			return nil, 0, err
		}
	}
	if in.isMessage() {
		media := in.Msg.Media
		if media == nil {
			media = []string{}
		}
		msgs = append(msgs, store.InboxMessage{SID: in.Msg.SID, Body: in.Msg.Body, Media: media, Received: in.Now})
		total++
	}
	msgs = boundInboxMessages(msgs, MaxInboxMessageBytes)
	return msgs, total - len(msgs), nil
}

// inboxMessagesRead is the stored messages conversationMessages reads
// for in (Tx.ContactMessages' arguments), false when it reads none (the
// conversation starts with in.Msg). A group commit reads them for its
// whole batch at once (groupcommit.go).
func inboxMessagesRead(in *stepInput) (store.ContactMessagesKey, bool) {
	if in.Conv == nil {
		return store.ContactMessagesKey{}, false
	}
	limit := MaxInboxMessages
	if in.isMessage() {
		limit-- // room for the message handled now, not stored yet
	}
	return store.ContactMessagesKey{Contact: in.Msg.From, Number: in.Msg.To, Since: conversationStart(in), Limit: limit}, true
}

// boundInboxMessages keeps the newest of msgs (oldest first) whose sizes
// add up to at most maxBytes; at least the newest, clipped to fit.
func boundInboxMessages(msgs []store.InboxMessage, maxBytes int) []store.InboxMessage {
	size, i := 0, len(msgs)
	for i > 0 && size+inboxMessageBytes(msgs[i-1]) <= maxBytes {
		size += inboxMessageBytes(msgs[i-1])
		i--
	}
	if i == len(msgs) && i > 0 {
		return []store.InboxMessage{clipInboxMessage(msgs[i-1], maxBytes)}
	}
	return msgs[i:]
}

func inboxMessageBytes(m store.InboxMessage) int {
	n := len(m.Body)
	for _, u := range m.Media {
		n += len(u)
	}
	return n
}

// clipInboxMessage cuts m's media URLs (whole ones), then its body (at a
// character boundary), to maxBytes.
func clipInboxMessage(m store.InboxMessage, maxBytes int) store.InboxMessage {
	m.Clipped = true
	var media []string
	left := maxBytes
	for _, u := range m.Media {
		if len(u) > left {
			break
		}
		media = append(media, u)
		left -= len(u)
	}
	if media == nil {
		media = []string{}
	}
	m.Media = media
	if len(m.Body) > left {
		cut := left
		for cut > 0 && !utf8.RuneStart(m.Body[cut]) {
			cut--
		}
		m.Body = m.Body[:cut]
	}
	return m
}
