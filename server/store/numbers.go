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

// NumbersListing is what a page of the numbers listing (GET
// /v1/admin/numbers) merges, read in one statement by
// NumbersListingReader: at most limit of each source after the cursor,
// each sorted bytewise.
type NumbersListing struct {
	Texts    []NumberRoute // NumbersPage's
	Calls    []NumberRoute // CallNumbersPage's
	Owned    []OwnedNumber // OwnedNumbersPage's (Synced not read)
	Unrouted []string      // UnroutedNumbersPage's
	// DirectoryVersion is StepState's: the stored directory's version,
	// whose numbers the listing merges as well.
	DirectoryVersion int64
}

// NumbersListingReader is a Tx that reads a page of every source of the
// numbers listing in one statement (one round trip instead of five).
type NumbersListingReader interface {
	NumbersListingPage(ctx context.Context, after string, limit int) (*NumbersListing, error)
}
