package store

import (
	"context"
	"time"
)

// OwnedNumber is a number the business holds at its provider, as
// `flowc numbers sync` imported it from Twilio's IncomingPhoneNumbers
// (migration 00018), so that `flowc numbers` lists it, and what it
// lacks, before any text or call reaches it. The numbers the directory
// lists are the directory's, not kept here.
type OwnedNumber struct {
	Number string    `json:"number"`         // E.164
	Name   string    `json:"name,omitempty"` // the provider's friendly name
	Source string    `json:"source"`         // where it was imported from: "twilio"
	SMS    bool      `json:"sms"`            // it can receive texts
	Voice  bool      `json:"voice"`          // it can receive calls
	Synced time.Time `json:"synced"`         // the sync that last saw it
}

// OwnedNumbersTx keeps the owned numbers. A store's Tx implements it as
// well as Tx.
type OwnedNumbersTx interface {
	// ReplaceOwnedNumbers makes nums the numbers source holds, seen at
	// at: each is added or updated (Source and Synced set), and the
	// numbers of source that nums does not list are removed, the number
	// no longer the business's. It returns the removed ones, sorted
	// bytewise. nums must not repeat a number. Two replacements at once
	// take turns.
	ReplaceOwnedNumbers(ctx context.Context, source string, nums []OwnedNumber, at time.Time) (removed []string, err error)
	// OwnedNumbersPage lists at most limit (0: all) owned numbers after
	// the number after ("" for the first page), sorted bytewise.
	OwnedNumbersPage(ctx context.Context, after string, limit int) ([]OwnedNumber, error)
}
