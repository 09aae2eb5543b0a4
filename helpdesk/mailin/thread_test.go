package mailin

import (
	"slices"
	"testing"
)

func TestThreadKeys(t *testing.T) {
	raw := "From: a@b.it\nMessage-ID: <self@b.it>\nIn-Reply-To: <c@b.it> (Mario's message of Tue)\n" +
		"References: <a@b.it> <b@b.it>\n <c@b.it> <self@b.it>\nReferences: <extra@b.it>\n\nbody\n"
	m, err := Parse([]byte(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c@b.it", "extra@b.it", "b@b.it", "a@b.it"}
	if got := ThreadKeys(m); !slices.Equal(got, want) {
		t.Errorf("ThreadKeys = %v, want %v", got, want)
	}
	if got := ThreadKeys(&Message{MessageID: "x"}); len(got) != 0 {
		t.Errorf("no references: %v", got)
	}
	if ThreadKeys(nil) != nil {
		t.Error("nil message")
	}
}

func TestParseMsgIDs(t *testing.T) {
	for in, want := range map[string][]string{
		"<a@b.it>":                    {"a@b.it"},
		" <a@b.it>  <c@d.it> ":        {"a@b.it", "c@d.it"},
		"<a@\n b.it>":                 {"a@b.it"},
		"a@b.it c@d.it":               {"a@b.it", "c@d.it"},
		"not an id":                   nil,
		"<>":                          nil,
		"<a@b.it":                     {"a@b.it"},
		"<a@b.it> (comment <x@y.it>)": {"a@b.it", "x@y.it"},
	} {
		if got := parseMsgIDs(in); !slices.Equal(got, want) {
			t.Errorf("parseMsgIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTrimReferences(t *testing.T) {
	var ids []string
	for i := 0; i < 250; i++ {
		ids = append(ids, string(rune('a'+i%26))+"@x")
	}
	got := trimReferences(ids)
	if len(got) != maxReferences || got[0] != ids[0] || got[len(got)-1] != ids[len(ids)-1] {
		t.Errorf("trimReferences kept %d, first %q last %q", len(got), got[0], got[len(got)-1])
	}
}
