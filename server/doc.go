// Package server is `flowc serve`: the webhook server providers call for
// every inbound SMS.
//
// The inbound path, for one message:
//
//  1. parse and validate the request (Twilio's form parameters, or JSON),
//     verifying X-Twilio-Signature when an auth token is configured
//     (verifyTwilio, twilio.go: the one check of every Twilio endpoint).
//     Every field that is stored is checked for what a store cannot hold
//     (NUL, invalid UTF-8) and for size, media URLs for being absolute
//     http(s) URLs: a value PostgreSQL refuses would otherwise be
//     answered 503, and retried by the provider, forever;
//  2. wait for earlier messages of the same conversation (contact +
//     business number) to finish: a FIFO lock per conversation keeps
//     arrival order within the process, while different conversations
//     run in parallel;
//  3. run the message as a step (below);
//  4. only after the commit, answer (TwiML with the replies).
//
// A conversation's timer (its deadline passed) is a step too, through the
// same code, started by the background scheduler instead of a webhook.
//
// # A step: read, run, commit
//
// The flow, and the JavaScript applets it calls, may take their whole
// time budget, so they run with no transaction open: on SQLite a write
// transaction holds the database's one write lock, on PostgreSQL a pool
// connection and the conversation's advisory lock, and one slow applet
// must not stall every other conversation. A step is three phases:
//
//	(a) readStep (commit.go): one statement (store.StepState; on a
//	    store.StepReader outside any transaction: one round trip, and on
//	    SQLite a read-only WAL connection, so reads never queue for the
//	    writers' one connection) reads what the step depends on into a
//	    stepInput: whether the MessageSid was answered before (then that
//	    answer is returned, and nothing else happens; the same SID from
//	    another contact or number is a 409), the opt-out, the
//	    conversation and its revision, the contact's tags, and the route
//	    table's and the operator lists' versions; a second statement reads
//	    the contact's history (history.go: the newest interactions, and
//	    the newest with a user, one indexed read), which the flow sees as
//	    contact.last_texted_by and the like, and the lists come from a
//	    cache keyed by their version (lists.go), as the route table does.
//	    The route table itself (numbers and drafts) and
//	    the programs come from memory (routes.go): the table is read
//	    again only when that version moved past the one held, so a
//	    deploy or rollback on any replica is seen by the next message;
//	(b) step (step.go, on vm/inbound): the opt-out stage (STOP/START/HELP) and the VM,
//	    pure given the stepInput and the applet runner it is handed. It
//	    returns a plan: the answer, and every write as data (opt-out,
//	    conversation state or its end, inbox deliveries, outbox items,
//	    tags, the message record with its capped trace);
//	(c) the commit (commit.go's applyStep, in a group commit:
//	    groupcommit.go, below): the transaction takes the conversation's
//	    lock, advances the conversation's revision from the one read
//	    (optimistic concurrency: it fails if any step of the conversation
//	    committed since (a); the revision outlives the conversation's
//	    row, so an end and a restart in between are seen), for a
//	    conversation's first message in the same statement checks that
//	    the route table's version is the one routed by (when it moved,
//	    the number's own route is read and compared, so a deploy of
//	    another flow costs no rerun), and applies the plan, inserting the
//	    message last: the MessageSid is unique, so a delivery another
//	    replica committed first makes the insert fail, the transaction
//	    roll back and the step's next read return the stored answer
//	    (another delivery of the same message is of the same
//	    conversation, and usually fails earlier, at the revision). A
//	    conversation that ended is deleted only if the step read one. A
//	    team member (round-robin, least-busy) is chosen here, from the
//	    counters in the store, and an inbox item gets the conversation's
//	    messages from the contact (inbox.go: one indexed read of the
//	    messages since the conversation's Started, bounded, copied onto
//	    the item).
//
// Steps of different conversations that are ready at the same time
// commit together (groupcommit.go): a step that finds a committer free
// commits at once, and the steps that arrive meanwhile are the next
// batch, one transaction for all of them (on SQLite one WAL write instead
// of one per message; on PostgreSQL one BEGIN/COMMIT, the batch's locks
// in one statement, and the steps' writes queued and sent together in
// one pipeline, store.PipelineTx: one round trip where each statement
// was one; a write's failure is still its own step's). On PostgreSQL the
// steps' reads are grouped the same way (groupread.go: the reads that
// wait at once are one statement, store.StepBatchReader, that starts
// after each of them was asked). Each step of a batch is applied as alone, with
// its lock, its revision check and its message's INSERT; one that fails
// fails alone (the transaction rolls back and the others commit again
// without it), and on PostgreSQL a conversation whose lock another
// transaction holds commits apart. A webhook is answered after its
// batch's commit, as after its own.
//
// A failed check is store.ErrConflict: the step starts again from (a), at
// most MaxStepAttempts times in all, then the webhook answers 503 (the
// provider retries if configured to: Twilio does not retry a 5xx by
// default, see docs/server.md). Within one process steps of a conversation never
// overlap (the FIFO lock of 2.), so conflicts come only from other
// replicas (across which there is no arrival order to keep: the first to
// commit goes first) or from a deployment racing a first message. A step
// that runs again calls its applets again, as a store's own retry of a
// transaction always could.
//
// The seam: the pure step is vm/inbound's (step.go adapts it: store
// types in, store writes out), the one `flowc run` and `flowc test` run
// through vm/sim, so the opt-out stage, HELP, the VM call, the contact a
// flow sees (inbound.Contact: the directory entry plus the added tags)
// and where a conversation resumes cannot differ between them and the
// server. The server adds persistence and delivery only: the store,
// the team member chosen at commit, the outbox. TestSimulatorIsTheServer
// runs one script through both and compares everything.
//
// # History, outbound sends, pacing
//
// Every text received or sent, and every call reported (POST
// /v1/interactions), is an interaction (history.go), recorded in the
// transaction of its message by one call in apply. POST /v1/outbound
// (send.go) checks a person's or a campaign's send (the idempotency key,
// the number, the opt-out, the outbound blacklist) and enqueues it with
// its interaction in one transaction; the delivery workers pace SMS per
// sending number (pacing.go).
//
// # Exactly once, and nothing lost
//
// Everything with an effect happens in (c)'s transaction, so a crash at
// any point either loses nothing (before the commit: the provider
// retries) or repeats nothing (after it: the retry gets the stored
// answer). A timer's message id names its deadline, so it fires once.
//
// # Outbound: nothing slow stalls the rest
//
// Timers and outbox deliveries are separate workers (background.go), each
// woken by its own tick. A timer round reads due conversations again and
// again until none is left, firing them on timerWorkers goroutines (a
// conversation once: the step re-reads it, in one statement with the
// message its deadline names, and that message id is unique), whose
// commits the group commit batches. Deliveries are claimed (leased) from the store no more at
// once than senders.room allows, never for a destination
// (store.OutboxDestination: the SMS provider, the SMTP server, a webhook
// host) already holding its limit of deliveries (perDestination, grown up
// to maxPerDestination while it answers fast) or paused by a Retry-After;
// each runs in its own goroutine, at most outboxWorkers at once, within
// deliveryTimeout for all its network calls together (the SMTP
// connection is closed when it passes, whatever go-mail does). The
// deadline is shorter than the lease, so a slow send is not claimed
// again while it can still succeed. decideDelivery maps the answer to
// sent / retry (backoff or Retry-After) / dropped / opted out (21610).
// Delivery reports (status.go) are kept by the provider's sid, ranked
// along a message's life so repeats and late arrivals change nothing.
//
// # Bounds
//
// A stored execution record (trace) is at most MaxTraceBytes of JSON,
// every error text, step note and action in it at most MaxErrorBytes,
// cut where marked ("trace truncated: N more steps", "… (N more
// bytes)"); error texts logged or stored with outbox items are clipped
// the same way. Text a flow computes (an applet's tag, forward target or
// a timer's reply) has NUL and invalid UTF-8 replaced by U+FFFD before it
// is stored, as TwiML's encoding renders them.
//
// # Deploys (deploy.go, diff.go)
//
// A version is a hash of behaviour (compiler, flow name, source,
// applets), not of the file's path, so a deploy of the active version is
// "unchanged" and a version saved before is re-activated, never saved
// twice; a stored conflict (a number of another flow, a version of other
// content) is a 409. `flowc serve DIR` deploys its files at start with
// DeployDirectory: the directory wins only when its file changed since
// serve last deployed it (store.DeployTx's directory versions), so a
// restart keeps an admin API deploy or rollback, and a conflicting file is
// refused with a warning rather than stopping the start. A draft is
// served to its test contacts by draftRoute, which the in-memory route
// table (readStep) and the commit's re-check (checkRoute's routeFor) share. Each
// committed first message of a conversation is recorded with it
// (InsertStartingMessage) for the diff, which replays them through the
// pure step with both versions and persists nothing.
//
// # Answering in time
//
// Twilio gives up on a webhook after 15 s and, by default, does not
// retry a 5xx. A webhook request carries a deadline (Config.
// WebhookDeadline, 10 s) that ends every wait it can meet: its turn in
// the conversation's FIFO (keyedFIFO.LockContext), a pool connection, a
// lock, a statement. The stores bound their waits on their own as well
// (PostgreSQL: lock_timeout and statement_timeout per transaction;
// SQLite: busy_timeout), for the background loop, which has no deadline.
// A request past its deadline is answered 503 and nothing is committed.
//
// # Carrier keywords
//
// The opt-out stage classifies a message with runtime.CarrierKeyword,
// the function flowc check's warning about shadowed menu keys calls, on
// runtime.NormaliseReply, the normalisation of menu keys and replies: one
// behaviour, so "Stop." cannot opt out in one place and reach the flow in
// another.
//
// # The perimeter
//
// The webhook signature is checked by twilio-go's RequestValidator over
// the configured public URL, never one built from the Host header (Config.Validate
// refuses a signed server without FLOWC_PUBLIC_URL); the admin API and
// POST /v1/messages share one bearer check (auth.go); a deploy compiles
// an in-memory bundle and reads nothing of the server's disk (admin.go
// deployBundle, lang.LoadFS); e-mail headers are built by go-mail from
// values checked for line breaks (connectors.go).
//
// # Operations
//
// Serve (listen.go) runs one listener, or two with Listen.AdminAddr (the
// admin API and /metrics then leave the public one). On SIGTERM readiness
// goes false first and the listeners keep serving for the drain delay,
// so a load balancer sees the replica leave before connections are
// refused; then net/http's graceful Shutdown. Every request is logged
// as one JSON line by logRequests (httplog.go); a handler that learns
// which message it handled says so with noteMessage, so the line carries
// message_sid, flow, version and outcome. The admin token is kept as its
// SHA-256 (admin.go EnsureAdminToken), and compared as one (auth.go).
package server
