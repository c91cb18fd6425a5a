package registry

// The applets of call flows (a file with `channel voice`): what a caller
// hears and presses, who is rung, voicemail. Each suspends where the
// provider calls back (gather: the digits; ring: the dial's status;
// voicemail: the recording), as a menu waits for the next text.

// The channels a flow and an applet belong to (Applet.Channel).
const (
	SMS   = "sms"
	Voice = "voice"
)

// RingModes are how `ring team:X` rings the team's members.
var RingModes = []string{"all"}

func init() {
	voiceTags := []Tag{
		{Name: "voice", Value: Param{Name: "voice", Kinds: String}, Doc: `the text-to-speech voice, e.g. "Polly.Joanna" (default: the provider's)`},
		{Name: "language", Value: Param{Name: "language", Kinds: String}, Doc: `the language spoken, e.g. "en-US" or "es-MX"`},
	}
	register(&Applet{
		Name: "say", Summary: "Speak a text to the caller (text to speech).",
		Params:  []Param{{Name: "text", Kinds: Template, Doc: "what is said; `{{ expr }}` inserts a value"}},
		Tags:    voiceTags,
		Channel: Voice,
		Syntax:  `say TEMPLATE [voice "VOICE"] [language "LANG"]`,
		Example: `say "Thanks for calling Example Co." voice "Polly.Joanna" language "en-US"`,
	})
	register(&Applet{
		Name: "play", Summary: "Play an audio file to the caller.",
		Params:  []Param{{Name: "url", Kinds: String, Doc: "the audio file's URL (mp3 or wav)"}},
		Channel: Voice,
		Syntax:  `play "URL"`,
		Example: `play "https://example.com/greeting.mp3"`,
	})
	register(&Applet{
		Name: "gather", Summary: "A voice menu: say a prompt and branch on the digits the caller presses.",
		Params:   []Param{{Name: "prompt", Kinds: Template, Optional: true, Doc: "what is said while the caller may press"}},
		Tags:     voiceTags,
		Block:    Branches{Keys: true, KeysDoc: "the digits pressed: 1, 2, 0, or \"*\" and \"#\" quoted", Timeout: true, Else: true, Required: true},
		Suspends: true, Handles: true, Channel: Voice,
		Syntax:  `gather [TEMPLATE] [voice "VOICE"] [language "LANG"] < DIGITS -> … ; timeout DUR -> … ; else -> … >`,
		Example: `gather "Press 1 for sales, 2 for support." < 1 -> ring team:sales ; 2 -> ring team:support ; timeout 5s -> retry 2 then voicemail then inbox team:sales ; else -> say "Sorry." then retry 2 >`,
		Notes: "As a menu's: `timeout DUR` runs when the caller pressed nothing for that long (the provider's `timeout`), " +
			"`else` when the digits match no key, and `retry [N]` in a branch says the prompt again.",
	})
	register(&Applet{
		Name: "ring", Summary: "Ring a user or a team's members, all at once or one after another, and branch on who answered.",
		Params: []Param{
			{Name: "who", Kinds: Target, Targets: []string{"user", "team"}, Doc: "user:NAME or team:NAME; each member is rung at the `phone` or `client` the directory gives"},
			{Name: "mode", Kinds: Ident, Enum: RingModes, Optional: true, Doc: "`all`: every member at once, the first to answer takes the call (the default for a team)"},
		},
		Tags: []Tag{
			{Name: "in", Value: Param{Name: "order", Kinds: Ident, Enum: []string{"order"}}, Doc: "`in order`: one member after another, in the team's order, each for the `for` time"},
			{Name: "for", Value: Param{Name: "time", Kinds: Duration}, Doc: "how long each ring lasts before it counts as no answer (default 20s)"},
		},
		Block:    Branches{On: []string{"answered", "no-answer", "busy"}},
		Suspends: true, Handles: true, Channel: Voice,
		Syntax:  `ring user:NAME | team:NAME [all | in order] [for DUR] [< on answered -> … ; on no-answer -> … ; on busy -> … >]`,
		Example: `ring team:sales in order for 15s < on no-answer -> ring team:sales all for 20s ; on busy -> voicemail then inbox team:sales >`,
		Notes: "`on answered` runs once the call with whoever answered is over (without it, the call simply ends then); " +
			"`on no-answer` when nobody answered (a failed call counts as no answer; without it, the steps after the ring run, " +
			"so `ring team:sales then voicemail` reads \"ring sales, else voicemail\"), `on busy` when the last one rung was busy " +
			"(without `on busy`, a busy line takes the no-answer way). Ringing in order goes on to the next member on no answer, " +
			"busy or failed and stops at the first who answers. A path after an unanswered ring must still do something for " +
			"the caller: `flowc check` reports it as a dead end otherwise.",
	})
	register(&Applet{
		Name: "voicemail", Summary: "Record a voicemail; the steps after it (inbox, forward email:) deliver the recording.",
		Params: []Param{{Name: "transcribe", Kinds: Ident, Enum: []string{"transcribe"}, Optional: true, Doc: "`transcribe`: also ask the provider for a transcription"}},
		Tags: []Tag{
			{Name: "max", Value: Param{Name: "length", Kinds: Duration}, Doc: "the longest recording (default 2m)"},
		},
		Suspends: true, Handles: true, Channel: Voice,
		Syntax:  `voicemail [transcribe] [max DUR] then inbox team:NAME | forward email:"ADDRESS"`,
		Example: `voicemail transcribe max 2m then inbox team:sales`,
		Notes:   "The caller hears a beep and speaks; the flow goes on when the recording is done (the caller pressed # or hung up, or `max` passed).",
	})
	register(&Applet{
		Name: "hangup", Summary: "End the call.",
		Handles: true, Terminal: true, Channel: Voice,
		Syntax:  `hangup`,
		Example: `hangup`,
	})
	register(&Applet{
		Name: "text", Summary: "Send a text message to the caller (e.g. a missed-call text back), from the number they called.",
		Params:  []Param{{Name: "text", Kinds: Template, Doc: "the message; `{{ expr }}` inserts a value"}},
		Channel: Voice,
		Syntax:  `text TEMPLATE`,
		Example: `text "Sorry we missed your call. We'll call you back soon."`,
	})
}
