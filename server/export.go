package server

// TwilioFieldNames names the fields of an Inbound as Twilio does, for
// errors about missing fields (for callers of Handle).
func TwilioFieldNames() fieldNames { return twilioFields }
