package runtime

import "time"

// What a flow knows of a contact's past with the business: the
// interactions (texts and calls, in and out) the server recorded, as
// contact.last_texted_by, contact.last_called_by, contact.last_interaction,
// contact.interactions and contact.campaign. The server reads them from
// its interactions table; `flowc run` and `flowc test` (vm/sim) from the
// scenario's history and what the scenario itself did. Either way they
// arrive as data on Contact, read before the flow runs, so the VM stays
// pure and the three paths cannot disagree.

// MaxInteractions is how many of the contact's most recent interactions
// a flow sees in contact.interactions (newest first).
const MaxInteractions = 50

// Interaction kinds and directions.
const (
	InteractionSMS    = "sms"
	InteractionCall   = "call"
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// Interaction is one text or call between the contact and a business
// number.
type Interaction struct {
	Kind      string    `expr:"kind"`      // "sms" or "call"
	Direction string    `expr:"direction"` // "inbound" (from the contact) or "outbound"
	Number    string    `expr:"number"`    // the business number (E.164)
	User      *string   `expr:"user"`      // who sent, placed or answered it; nil for a flow, a campaign or the contact
	Campaign  *string   `expr:"campaign"`  // the campaign that sent it, nil if none
	At        time.Time `expr:"at"`
}

// Campaign is the most recent campaign message sent to the contact,
// with its reply address (turboDial's `reply` field): where the
// contact's answer should go. The flow decides what to do with it.
type Campaign struct {
	Name       string    `expr:"name"`
	ReplyUser  *string   `expr:"reply_user"`  // a directory user, nil if none
	ReplyEmail *string   `expr:"reply_email"` // an e-mail address, nil if none
	At         time.Time `expr:"at"`
}

// History is what the store knows of the contact's interactions, newest
// first (at most MaxInteractions), with the last campaign message.
// LastTexted and LastCalled are the newest outbound text and the newest
// call that have a user, however far behind the MaxInteractions newest
// they are (within the history's retention): a contact who texted fifty
// times since alice last answered is still alice's.
type History struct {
	Interactions []Interaction
	Campaign     *Campaign
	LastTexted   *Interaction
	LastCalled   *Interaction
}

// TextedBy reports whether in is an outbound text someone sent
// (contact.last_texted_by), and CalledBy whether it is a call someone
// placed or answered (contact.last_called_by).
func (in *Interaction) TextedBy() bool {
	return in.User != nil && in.Kind == InteractionSMS && in.Direction == DirectionOutbound
}

func (in *Interaction) CalledBy() bool { return in.User != nil && in.Kind == InteractionCall }

// WithHistory returns c with the history fields filled from h:
// last_texted_by is the user of the newest outbound SMS that has one,
// last_called_by the user of the newest call that has one (either
// direction: who placed it or who answered it), looked for in the
// interactions and then in h.LastTexted and h.LastCalled.
func (c Contact) WithHistory(h History) Contact {
	c.Interactions = h.Interactions
	c.Campaign = h.Campaign
	c.LastInteraction, c.LastTextedBy, c.LastCalledBy = nil, nil, nil
	for i := range h.Interactions {
		in := &h.Interactions[i]
		if c.LastInteraction == nil {
			c.LastInteraction = in
		}
		if c.LastTextedBy == nil && in.TextedBy() {
			c.LastTextedBy = in.User
		}
		if c.LastCalledBy == nil && in.CalledBy() {
			c.LastCalledBy = in.User
		}
	}
	if c.LastTextedBy == nil && h.LastTexted != nil {
		c.LastTextedBy = h.LastTexted.User
	}
	if c.LastCalledBy == nil && h.LastCalled != nil {
		c.LastCalledBy = h.LastCalled.User
	}
	return c
}
