// Package server is `flowc serve`: the webhook server providers call for
// every inbound SMS.
//
// The inbound path, for one message:
//
//  1. parse and validate the request (Twilio's form parameters, or JSON),
//     verifying X-Twilio-Signature when an auth token is configured;
//  2. wait for earlier messages of the same conversation (contact +
//     business number) to finish: a FIFO lock per conversation keeps
//     arrival order, while different conversations run in parallel;
//  3. in ONE store transaction: if the MessageSid was seen, answer what was
//     answered then and change nothing (provider retries are exactly
//     once); otherwise handle STOP/START/HELP, load the conversation (on
//     the program version it started with), run the VM, and write the
//     message, the conversation's new state, inbox items, outbox items and
//     tags;
//  4. only after the commit, answer (TwiML with the replies).
//
// The VM is pure; everything with an effect happens in step 3's
// transaction, so a crash at any point either loses nothing (before the
// commit: the provider retries) or repeats nothing (after it: the retry
// gets the stored answer).
//
// The perimeter (issue #10): the webhook signature is over the configured
// public URL, never one built from the Host header (Config.Validate
// refuses a signed server without FLOWC_PUBLIC_URL); the admin API and
// POST /v1/messages share one bearer check (auth.go); a deploy compiles
// an in-memory bundle and reads nothing of the server's disk (admin.go
// deployBundle, lang.LoadFS); e-mail headers are built by go-mail from
// values checked for line breaks (connectors.go).
package server
