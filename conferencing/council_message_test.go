package conferencing

import (
	"strings"
	"testing"
)

// Council messages are checked field by field, with the reason the client gets back.
func TestDecodeCouncilMessage(t *testing.T) {
	long := strings.Repeat("a", maxCouncilShort+1)
	for _, c := range []struct{ msg, reason string }{
		{`{"v":1,"type":"council","action":"open"}`, ""},
		{`{"v":1,"type":"council","action":"vote_open","item":" 2 ","text":"Bilancio\n2026","secret":true}`, ""},
		{`{"v":1,"type":"council","action":"vote_cast","choice":"contrario"}`, ""},
		{`{"v":1,"type":"council","action":"vote_cast","target":"u7","choice":"astenuto"}`, ""},
		{`{"v":1,"type":"council","action":"vote_cast","target":"` + strings.Repeat("u", maxField+1) + `","choice":"astenuto"}`, "bad_message"},
		{`{"v":1,"type":"council","action":"vote_cast","target":"u7"}`, "council.error.choice"},
		{`{"v":1,"type":"council","action":"override","target":"u7","present":false,"note":"assente giustificato"}`, ""},
		{`{"v":1,"type":"council","action":"floor_grant","seconds":300}`, ""},
		{`{"v":1,"type":"council","action":"set_public","public":false}`, ""},
		{`{"v":1,"type":"council"}`, "council_action"},
		{`{"v":1,"type":"council","action":"dissolve"}`, "council_action"},
		{`{"v":1,"type":"council","action":"vote_cast","choice":"sì"}`, "council.error.choice"},
		{`{"v":1,"type":"council","action":"vote_open","item":"1","text":"  "}`, "council_vote_text"},
		{`{"v":1,"type":"council","action":"vote_open","item":"` + long + `","text":"x"}`, "council_vote_text"},
		{`{"v":1,"type":"council","action":"override","target":"u7","present":true}`, "council_note"},
		{`{"v":1,"type":"council","action":"override","target":"u7","note":"x"}`, "bad_message"},
		{`{"v":1,"type":"council","action":"clear_override"}`, "bad_message"},
		{`{"v":1,"type":"council","action":"floor_grant","seconds":-1}`, "bad_message"},
		{`{"v":1,"type":"council","action":"floor_grant","seconds":3601}`, "bad_message"},
		{`{"v":1,"type":"council","action":"suspend","reason":"` + long + `"}`, "bad_message"},
		{`{"v":1,"type":"council","action":"set_public"}`, "bad_message"},
	} {
		m, err := DecodeMessage([]byte(c.msg))
		if got := strings.TrimPrefix(keyOf(err), "conf.error."); got != c.reason {
			t.Errorf("%s: reason %q, want %q", c.msg, got, c.reason)
		}
		if err == nil && (m.Item != strings.TrimSpace(m.Item) || m.Text != strings.TrimSpace(m.Text)) {
			t.Errorf("%s: texts not trimmed", c.msg)
		}
	}
}
