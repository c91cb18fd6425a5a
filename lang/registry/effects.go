package registry

// The steps of the History issue that reach outside the message: an
// HTTP request with a response, and the edits a flow makes to what it
// knows of a contact. Each is one entry, as every applet is.

// HTTPMethods are the methods an http step may use.
var HTTPMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

const onceNotes = "With `once per DUR` the reply is sent at most once per period to a contact on this business number " +
	"(Sieve's vacation `:days`): an out-of-hours answer does not answer each of five texts. The step is skipped, and the flow " +
	"goes on, while the period since it was last sent to this contact runs; the trace says when it was sent. The mark is kept " +
	"per contact and business number, across conversations (as the tags a flow adds are), and names the reply by its text as " +
	"written, so a new deploy with the same text keeps it. A skipped reply still counts as handling the message."

func init() {
	register(&Applet{
		Name: "http", Summary: "Send an HTTP request (a CRM look-up) and store its JSON response in a variable.",
		Params: []Param{
			{Name: "method", Kinds: Ident, Enum: HTTPMethods, Optional: true, Doc: "GET unless given (POST when a body is given)"},
			{Name: "url", Kinds: Template, Doc: "`\"https://HOST/path?q={{ expr }}\"`: the host written out and declared in a `hosts` header; each `{{ }}` value is URL-escaped"},
		},
		Tags: []Tag{
			{Name: "json", Value: Param{Name: "value", Kinds: Ident}, Doc: "send this variable (or `contact`, `message`…) as a JSON body"},
			{Name: "form", Value: Param{Name: "value", Kinds: Ident}, Doc: "send this variable, an object, as a form (application/x-www-form-urlencoded)"},
			{Name: "header", Value: Param{Name: "header", Kinds: String}, Doc: "`\"Name: value\"` lines; `${NAME}` in a value is the secret FLOWC_SECRET_NAME of the server's environment"},
			{Name: "within", Value: Param{Name: "duration", Kinds: Duration}, Doc: "the request's time limit (at most what is left of the message's budget)"},
			{Name: "as", Value: Param{Name: "variable", Kinds: Ident}, Doc: "store the parsed JSON response in this variable"},
		},
		Block:   Branches{On: []string{"error"}},
		Syntax:  `http [GET|POST|PUT|PATCH|DELETE] "URL" [json NAME | form NAME] [header "NAME: VALUE"] [within DUR] [as NAME] [< on error -> … >]`,
		Example: "hosts \"crm.example.com\"\n" + `http "https://crm.example.com/contacts?phone={{ from }}" header "Authorization: Bearer ${CRM_TOKEN}" as crm < on error -> inbox team:support >`,
		Notes: "Studio's \"Make HTTP Request\" and RapidPro's `call_webhook`: the response's JSON lands in the `as` variable " +
			"(`crm.owner`), an empty response as null. The request goes only to a host the flow declares with " +
			"`hosts \"crm.example.com\"` (`flowc check` reports any other, at the URL), and the server refuses private and loopback " +
			"addresses (see docs/security.md). Secrets are never written in the file: `${CRM_TOKEN}` in a header is read from " +
			"the server's environment variable FLOWC_SECRET_CRM_TOKEN when the request is sent; an unset secret is an error.\n\n" +
			"A timeout, a status other than 2xx, a response over 64 KiB (vm.MaxHTTPResponseBytes) or one that is not JSON takes " +
			"the `on error` branch (without one the conversation ends), and the trace says which. The request runs before the " +
			"message's transaction, as applets do, and shares their budget: 2s in all for one message by default, counted " +
			"as one applet call. It is sent **at least once**: the step runs again when the provider retries a webhook that " +
			"ran out of time, or when another replica changed the conversation first, so each request carries " +
			"`Idempotency-Key: flowc-MESSAGESID-STEP`, the same on every run of that step for that message (a " +
			"`header \"Idempotency-Key: …\"` of the flow's own wins); make a request that changes something honour it, or " +
			"make it safe to repeat. In `.flowtest` files a `http \"URL\" returns …` line mocks it (see docs/testing.md); " +
			"`flowc run` uses the network only with `--net`.",
	})
	register(&Applet{
		Name: "untag", Summary: "Remove a tag from the contact (one from the directory or one a flow added).",
		Params:  []Param{{Name: "tag", Kinds: String}},
		Syntax:  `untag "NAME"`,
		Example: `untag "new-customer"`,
		Notes: "Kept across conversations, as an added tag is: the contact's next message sees `contact.tags` without it. " +
			"Tagging it again adds it back.",
	})
	register(&Applet{
		Name: "field", Summary: "Set one of the contact's fields (contact.fields.NAME) for later messages.",
		Params: []Param{
			{Name: "name", Kinds: String, Doc: "the field's name"},
			{Name: "value", Kinds: Template, Doc: "its new value; `\"\"` removes the field"},
		},
		Syntax:  `field "NAME" TEMPLATE`,
		Example: `field "plan" "{{ crm.plan ?? 'free' }}"`,
		Notes: "Kept across conversations per contact, over what the directory says: the next message reads " +
			"`contact.fields.NAME` with the new value (this message's expressions still see the old one). The admin API " +
			"changes the same fields (`PATCH /v1/admin/contacts/{phone}`, `flowc contacts set`).",
	})
}
