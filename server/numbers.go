package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/flowc-dev/flowc/server/store"
)

// The numbers (`flowc numbers`): every number the server knows of, from
// wherever it knows it (the directory's numbers, the Twilio account's
// as `flowc numbers sync` stored them, the numbers routed to an SMS flow
// or a call flow, the numbers texts reached while no flow served them),
// each with its SMS flow and its call flow and what it lacks: smrtPhone
// gives every number exactly one of each, and shows a number without a
// call flow in red.

// NumberInfo is one number of GET /v1/admin/numbers. Empty fields are
// left out (a page is hundreds of these).
type NumberInfo struct {
	Number string `json:"number"`
	// Name is the directory's name of the number, else Twilio's friendly
	// name.
	Name string `json:"name,omitempty"`
	// Owned says where the business is known to hold the number:
	// "directory" (directory.json's numbers), "twilio" (the account's
	// numbers, as the last `flowc numbers sync` read them). None for a
	// number known only by its routes or a text.
	Owned []string `json:"owned,omitempty"`
	// Capabilities is what the number can receive, as Twilio said; nil
	// (both) for a number not synced.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// The flow and version answering its texts and its calls; none when
	// no flow does.
	SMSFlow     string `json:"sms_flow,omitempty"`
	SMSVersion  string `json:"sms_version,omitempty"`
	CallFlow    string `json:"call_flow,omitempty"`
	CallVersion string `json:"call_version,omitempty"`
	// TextedUnrouted: texts reached the number while no flow served them,
	// and still none does.
	TextedUnrouted bool `json:"texted_unrouted,omitempty"`
	// Missing lists what the number can receive but no flow answers:
	// "sms_flow", "call_flow" (smrtPhone's red buttons); none when it
	// lacks nothing.
	Missing []string `json:"missing,omitempty"`
}

// Capabilities is what a number can receive.
type Capabilities struct {
	SMS   bool `json:"sms"`
	Voice bool `json:"voice"`
}

// NumbersResponse is a page of the numbers, in number order (bytewise).
type NumbersResponse struct {
	Numbers []NumberInfo `json:"numbers"`
	// Next is the cursor of the next page, "" when this is the last.
	Next string `json:"next"`
}

// The numbers cursor is "number:" and the last number listed. The
// cursors of servers from before the merged listing ("routed:N",
// "unrouted:N") go on after N as well.
const numberCursor = "number:"

var oldNumberCursors = []string{"routed:", "unrouted:"}

// listNumbers answers a page of the numbers. Each source is read a page
// at a time, limit+1 after the cursor, from its own index (the loose
// index scan of the no-flow messages for the texted ones), and the pages
// are merged: a number among the first limit of the union is in the
// page read of every source holding it (else that source would hold
// limit+1 numbers below it, all in the union), so the merge is exact
// and no source is read past a page.
func (s *Server) listNumbers(w http.ResponseWriter, r *http.Request) {
	limit, err := pageSize(r)
	if err != nil {
		s.storeError(w, err)
		return
	}
	after, ok := "", true
	switch cursor := r.URL.Query().Get("cursor"); {
	case cursor == "":
	case strings.ContainsRune(cursor, ' '):
		// A number's "+" sent unescaped arrives as a space: without this
		// the listing would silently start again from the top.
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("cursor %q has a space: a \"+\" in a query string must be escaped as %%2B (pass the last page's \"next\" URL-escaped)", cursor)})
		return
	default:
		ok = false
		for _, p := range append([]string{numberCursor}, oldNumberCursors...) {
			if n, found := strings.CutPrefix(cursor, p); found {
				after, ok = n, true
				break
			}
		}
		if !ok {
			writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("cursor %q: not a cursor this server gave (pass the last page's \"next\")", cursor)})
			return
		}
	}
	out, err := s.numbersPage(r.Context(), after, limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// numbersPage is a page of the numbers after the number after (the
// listing of GET /v1/admin/numbers and of the console's numbers page).
func (s *Server) numbersPage(ctx context.Context, after string, limit int) (NumbersResponse, error) {
	var l *store.NumbersListing
	err := s.readTx(ctx, func(tx store.Tx, a store.AdminTx) error {
		var err error
		l, err = numbersListingPage(ctx, tx, a, after, limit+1)
		return err
	})
	if err == nil {
		// The directory's numbers as stored: another replica may have
		// changed it (read again only then).
		err = s.syncDirectory(ctx, l.DirectoryVersion)
	}
	if err != nil {
		return NumbersResponse{}, err
	}
	dir := s.directory().sortedNumbers()
	from, _ := slices.BinarySearchFunc(dir, after, func(n Number, after string) int { return strings.Compare(n.Number, after) })
	for from < len(dir) && dir[from].Number <= after {
		from++
	}
	dir = dir[from:min(len(dir), from+limit+1)]

	byNumber := map[string]*NumberInfo{}
	info := func(n string) *NumberInfo {
		i := byNumber[n]
		if i == nil {
			i = &NumberInfo{Number: n}
			byNumber[n] = i
		}
		return i
	}
	for _, d := range dir {
		i := info(d.Number)
		i.Name, i.Owned = d.Name, append(i.Owned, "directory")
	}
	for _, o := range l.Owned {
		i := info(o.Number)
		if i.Name == "" {
			i.Name = o.Name
		}
		i.Owned, i.Capabilities = append(i.Owned, o.Source), &Capabilities{SMS: o.SMS, Voice: o.Voice}
	}
	for _, t := range l.Texts {
		i := info(t.Number)
		i.SMSFlow, i.SMSVersion = t.Flow, t.Version
	}
	for _, c := range l.Calls {
		i := info(c.Number)
		i.CallFlow, i.CallVersion = c.Flow, c.Version
	}
	for _, n := range l.Unrouted {
		info(n).TextedUnrouted = true
	}
	numbers := make([]string, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	out := NumbersResponse{Numbers: make([]NumberInfo, 0, len(numbers))}
	if len(numbers) > limit {
		numbers = numbers[:limit]
		out.Next = numberCursor + numbers[limit-1]
	}
	for _, n := range numbers {
		i := byNumber[n]
		c := i.Capabilities
		if i.SMSFlow == "" && (c == nil || c.SMS) {
			i.Missing = append(i.Missing, "sms_flow")
		}
		if i.CallFlow == "" && (c == nil || c.Voice) {
			i.Missing = append(i.Missing, "call_flow")
		}
		out.Numbers = append(out.Numbers, *i)
	}
	return out, nil
}

// AssignResponse is what PUT /v1/admin/numbers/{number} answers.
type AssignResponse struct {
	Number string `json:"number"`
	Flow   string `json:"flow"`
	// Channel is the flow's: "sms" (the number's texts go to it) or
	// "voice" (its calls do).
	Channel string `json:"channel"`
}

// assignNumber routes a number's texts to an SMS flow, or its calls to
// a call flow: the flow's channel says which.
func (s *Server) assignNumber(w http.ResponseWriter, r *http.Request) {
	number := pathParam(r, "number")
	var req struct {
		Flow string `json:"flow"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	channel, err := s.assign(r.Context(), number, req.Flow)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, AssignResponse{Number: number, Flow: req.Flow, Channel: channel})
}

// assign routes number to flow (the flow's channel says for what) and
// returns the channel.
func (s *Server) assign(ctx context.Context, number, flow string) (string, error) {
	if !e164(number) {
		return "", &badRequest{http.StatusBadRequest, fmt.Sprintf("%q is not an E.164 number (+ then digits)", number)}
	}
	var channel string
	err := s.adminTx(ctx, func(tx store.Tx, a store.AdminTx) error {
		var err error
		channel, err = a.AssignNumber(ctx, number, flow)
		return err
	})
	return channel, err
}

// UnassignResponse is what DELETE /v1/admin/numbers/{number} answers.
type UnassignResponse struct {
	Number string `json:"number"`
	// Unassigned lists the channels no longer routed: "sms", "voice".
	Unassigned []string `json:"unassigned"`
}

// unassignNumber stops routing a number's texts (?channel=sms), its
// calls (?channel=voice) or, without ?channel, both: 404 when none of
// them was routed.
func (s *Server) unassignNumber(w http.ResponseWriter, r *http.Request) {
	number := pathParam(r, "number")
	out, err := s.unassign(r.Context(), number, r.URL.Query().Get("channel"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// unassign stops routing number for channel ("sms", "voice", "" both).
func (s *Server) unassign(ctx context.Context, number, channel string) (UnassignResponse, error) {
	var channels []string
	switch c := channel; c {
	case "":
		channels = []string{"sms", "voice"}
	case "sms", "voice":
		channels = []string{c}
	default:
		return UnassignResponse{}, &badRequest{http.StatusBadRequest, fmt.Sprintf("channel %q: want sms (the number's texts) or voice (its calls), or no channel for both", c)}
	}
	out := UnassignResponse{Number: number, Unassigned: []string{}}
	err := s.adminTx(ctx, func(tx store.Tx, a store.AdminTx) error {
		out.Unassigned = out.Unassigned[:0]
		var notFound error
		for _, c := range channels {
			err := a.UnassignNumber(ctx, number, c)
			switch {
			case err == nil:
				out.Unassigned = append(out.Unassigned, c)
			case errors.Is(err, store.ErrNotFound):
				notFound = err
			default:
				return err
			}
		}
		if len(out.Unassigned) == 0 {
			if len(channels) > 1 {
				return fmt.Errorf("number %s is routed for neither texts nor calls: %w", number, store.ErrNotFound)
			}
			return notFound
		}
		return nil
	})
	return out, err
}

// numbersListingPage reads a page of each source of the listing: in one
// statement when the store can (store.NumbersListingReader).
func numbersListingPage(ctx context.Context, tx store.Tx, a store.AdminTx, after string, limit int) (*store.NumbersListing, error) {
	if lr, ok := tx.(store.NumbersListingReader); ok {
		return lr.NumbersListingPage(ctx, after, limit)
	}
	l := &store.NumbersListing{}
	var err error
	if l.Texts, err = a.NumbersPage(ctx, after, limit); err != nil {
		return nil, err
	}
	if l.Calls, err = a.CallNumbersPage(ctx, after, limit); err != nil {
		return nil, err
	}
	if ot, ok := tx.(store.OwnedNumbersTx); ok {
		if l.Owned, err = ot.OwnedNumbersPage(ctx, after, limit); err != nil {
			return nil, err
		}
	}
	l.Unrouted, err = a.UnroutedNumbersPage(ctx, after, limit)
	return l, err
}

// sortedNumbers is the directory's numbers in number order.
func (d *Directory) sortedNumbers() []Number {
	if d == nil {
		return nil
	}
	return d.numbersSorted
}
