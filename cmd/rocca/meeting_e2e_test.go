package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// enableMeetings turns the meetings part on in the instance's config, on free ports.
func (in *instance) enableMeetings() {
	in.t.Helper()
	body, err := os.ReadFile(in.config)
	if err != nil {
		in.t.Fatal(err)
	}
	on := fmt.Sprintf("[meetings]\nenabled = true\nudp_port = %d\nturn_port = %d\n", freePort(in.t), freePort(in.t))
	cfg := strings.Replace(string(body), "[meetings]\nenabled = false\n", on, 1)
	if cfg == string(body) {
		in.t.Fatal("config has no [meetings] section to change")
	}
	if err := os.WriteFile(in.config, []byte(cfg), 0o640); err != nil {
		in.t.Fatal(err)
	}
}

// TestMeetingCreateAndJoinPage: with meetings on, `rocca meeting create` prints a join link that
// serves the join page to a guest, and `rocca meeting list` shows the meeting.
func TestMeetingCreateAndJoinPage(t *testing.T) {
	in := newInstance(t, t.TempDir())
	in.enableMeetings()
	in.start()
	out, errOut, code := in.rocca("", "meeting", "create", "--title", "Giunta comunale", "--start", "2030-01-15 18:00")
	if code != 0 {
		t.Fatalf("meeting create: %d\n%s%s", code, out, errOut)
	}
	var link string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, in.baseURL+"/meetings/") {
			link = strings.TrimSpace(l)
		}
	}
	if link == "" {
		t.Fatalf("no join link in:\n%s", out)
	}
	resp, body := get(t, browser(t), link)
	if resp.StatusCode != 200 || !strings.Contains(body, "Giunta comunale") || !strings.Contains(body, `type="module"`) {
		t.Fatalf("join page: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("join page CSP = %q", csp)
	}
	out, _, code = in.rocca("", "meeting", "list", "--json")
	if code != 0 || !strings.Contains(out, "Giunta comunale") {
		t.Fatalf("meeting list --json: %d\n%s", code, out)
	}
	_, errOut, code = in.rocca("", "meeting", "create", "--title", "X", "--start", "domani")
	if code != 1 || !strings.Contains(errOut, "domani") {
		t.Fatalf("bad start: exit %d, %q; want 1 naming the value", code, errOut)
	}
}
