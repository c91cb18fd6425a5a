package check

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// fictionNumber matches the numbers reserved for fiction and examples,
// which no numbering plan lists: +1 NXX 555 01XX (the NANP's range for
// films and documentation), and +1 555 XXXX, the short "555-0100" form
// that flowc's examples and docs use. They are accepted without the
// "cannot exist" warning so that examples stay clean.
var fictionNumber = regexp.MustCompile(`^\+1(?:[2-9][0-9]{2}55501[0-9]{2}|555[0-9]{4})$`)

// IsFictionNumber reports whether an E.164 number is in a range
// reserved for fiction and examples.
func IsFictionNumber(e164 string) bool { return fictionNumber.MatchString(e164) }

// impossibleNumber explains why an E.164 number cannot exist according
// to libphonenumber's metadata (github.com/nyaruka/phonenumbers), or
// returns "" for a number that can, or a fiction number.
func impossibleNumber(n string) string {
	if IsFictionNumber(n) {
		return ""
	}
	p, err := phonenumbers.Parse(n, "")
	if err != nil {
		return err.Error()
	}
	if phonenumbers.IsValidNumber(p) {
		return ""
	}
	switch phonenumbers.IsPossibleNumberWithReason(p) {
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "too short for its country"
	case phonenumbers.TOO_LONG:
		return "too long for its country"
	case phonenumbers.INVALID_COUNTRY_CODE:
		return fmt.Sprintf("+%d is not a country code", p.GetCountryCode())
	}
	if region := phonenumbers.GetRegionCodeForCountryCode(int(p.GetCountryCode())); region != "" && region != "ZZ" {
		return "no number plan of +" + fmt.Sprint(p.GetCountryCode()) + " has numbers like it"
	}
	return "no numbering plan has numbers like it"
}

// zoneSuggestions are the zones people mean when they write a fixed
// offset, by the offset in hours.
var zoneSuggestions = map[int]string{
	-10: "Pacific/Honolulu", -9: "America/Anchorage", -8: "America/Los_Angeles", -7: "America/Denver",
	-6: "America/Chicago", -5: "America/New_York", -4: "America/Halifax", -3: "America/Sao_Paulo",
	1: "Europe/Paris", 2: "Europe/Athens", 3: "Europe/Moscow", 8: "Asia/Shanghai", 9: "Asia/Tokyo",
	10: "Australia/Sydney",
}

// fixedOffsetZone reports whether a zone named name is a fixed offset
// rather than a place: "EST", "MST", "HST" or "Etc/GMT+5" keep one
// offset all year, so business hours written for New York would be an
// hour off all summer. Geographic zones without daylight saving time
// (America/Phoenix, Asia/Tokyo) are right as they are, and UTC is a
// deliberate choice; neither is reported. It returns a suggestion.
func fixedOffsetZone(name string, loc *time.Location) (suggest string, fixed bool) {
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "Etc/") {
		return "", false
	}
	const year = 2026 // any year: only whether the offset changes matters
	_, jan := time.Date(year, 1, 1, 12, 0, 0, 0, loc).Zone()
	_, jul := time.Date(year, 7, 1, 12, 0, 0, 0, loc).Zone()
	if jan != jul || jan == 0 {
		return "", false
	}
	if jan%3600 == 0 {
		return zoneSuggestions[jan/3600], true
	}
	return "", true
}
