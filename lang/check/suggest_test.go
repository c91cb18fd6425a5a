package check

import "testing"

func TestSuggest(t *testing.T) {
	for _, c := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"nmae", []string{"name", "phone", "email"}, "name"}, // a swap is one edit
		{"bdy", []string{"body", "from", "to"}, "body"},
		{"ofice", []string{"office", "weekend"}, "office"},
		{"slaes", []string{"sales", "support"}, "sales"},
		{"crm", []string{"lookup"}, ""},
		{"ab", []string{"ac"}, ""}, // one edit of two letters is a different word
		{"x", []string{"y"}, ""},
		{"total", []string{"total"}, ""}, // the name itself is no suggestion
		{"zzzzzz", []string{"office"}, ""},
	} {
		if got := Suggest(c.name, c.candidates); got != c.want {
			t.Errorf("Suggest(%q, %q) = %q, want %q", c.name, c.candidates, got, c.want)
		}
	}
}
