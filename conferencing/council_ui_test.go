package conferencing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rocca-pa/rocca/internal/browsertest"
)

// The council view of the meeting page (client/static/council.js), driven through the real page
// served by a test Service, with the page's WebSocket replaced by a fake one: the test plays the
// server, feeding "joined", council_state and council_alert messages, and reads what the page
// sends. So the test covers the client alone (catalog texts, CSP, meeting.js hooks, rendering,
// the messages each button sends) whatever the server's council code does.

// fakeSocket stands in for WebSocket: it opens at once, keeps every message the page sends in
// window.__sent and lets the test deliver messages with window.__push(msg).
const fakeSocket = `(() => {
  window.__sent = [];
  window.__socket = null;
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      window.__socket = this;
      setTimeout(() => { this.readyState = 1; if (this.onopen) this.onopen({}); }, 0);
    }
    send(data) { window.__sent.push(JSON.parse(data)); }
    close() { this.readyState = 3; }
  }
  FakeSocket.CONNECTING = 0; FakeSocket.OPEN = 1; FakeSocket.CLOSING = 2; FakeSocket.CLOSED = 3;
  window.WebSocket = FakeSocket;
  window.__push = (msg) => window.__socket.onmessage({ data: JSON.stringify({ v: 1, ...msg }) });
  window.__visible = (sel) => { const e = document.querySelector(sel); return !!e && e.getClientRects().length > 0; };
  window.__text = (sel) => { const e = document.querySelector(sel); return e ? e.innerText : ""; };
})();`

// councilState is a council_state as the server sends it to one recipient.
type councilState map[string]any

func baseCouncilState() councilState {
	var members []map[string]any
	for i := 1; i <= 17; i++ {
		members = append(members, map[string]any{"id": fmt.Sprintf("u%d", i), "name": fmt.Sprintf("Consigliere %d", i),
			"seat": i, "counts_for_quorum": true, "connected": i <= 9, "confirmed": i <= 8, "present": i <= 8})
	}
	members[0]["name"] = "Anna Rossi"
	members[1]["name"] = "Bruno Bianchi"
	return councilState{
		"members": members, "quorum": false, "present": 8, "assigned": 17, "required": 9,
		"suspended": false, "roll_call": false, "queue": []string{}, "closed": false, "public": true,
		"recording": false, "recording_closed": false, "configured": true, "me": "u1", "role": "member", "can_vote": false, "voted": false,
		"agenda": []map[string]any{{"n": 1, "title": "Bilancio di previsione"}, {"n": 2, "title": "Mozioni"}},
		"opened": true, "last_result": nil, "last_roll_call": nil, "floor_deadline": "",
	}
}

func (s councilState) with(kv ...any) councilState {
	out := maps.Clone(s)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestCouncilUI(t *testing.T) {
	browsertest.Require(t)
	e := newEnv(t)
	m := e.meeting(NewMeeting{Title: "Consiglio comunale"})
	browser := browsertest.New(t)
	tb := e.openTab(browser, "first", 1, "it")
	tb.name = "anna"
	tb.do("fake the signalling socket", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeSocket})
		return err
	}))
	tb.join(e.base+"/meetings/"+m.PublicID, "")
	tb.waitJS("the join message", `window.__sent.some((m) => m.type === "join")`)

	// The server lets Anna into a council meeting.
	joined := map[string]any{"type": "joined",
		"self": map[string]any{"id": "p-anna", "name": "Anna Rossi", "role": "member"},
		"room": map[string]any{"id": m.PublicID, "title": m.Title, "locked": false, "unmute_allowed": true, "council": true},
		"participants": []map[string]any{{"id": "p-anna", "name": "Anna Rossi", "role": "member", "muted": false,
			"camera": true, "screen": false, "hand": false, "forced_mute": false, "tracks": map[string]string{}}},
		"chat": []any{}, "ice_servers": []any{}, "token": "test-token"}
	push(tb, joined)
	tb.waitJS("the room in council mode", `!document.getElementById("room").hidden && __visible("#btn-council") && __visible("#council")`)
	it := func(key string, args ...any) string { return e.cat.T("it", key, args...) }

	// A council meeting without a setup works as a plain one: no banner, the hand to raise.
	pushState(tb, councilState{"configured": false, "opened": false, "closed": false, "members": []any{}, "queue": []any{},
		"agenda": []any{}, "me": "", "role": "other", "present": 0, "assigned": 0, "required": 0})
	tb.waitJS("the note on the missing setup", `__visible("#council-not-configured")`)
	if evalJS[bool](tb, `__visible("#council-banner") || !__visible("#btn-hand")`) {
		t.Error("a council meeting without a setup shows the banner or hides the hand")
	}

	// The quorum banner: 8 of the 9 needed, then 9.
	st := baseCouncilState()
	pushState(tb, st)
	tb.waitJS("the banner with 8/9", `__visible("#council-banner") && __text("#council-quorum .quorum-count") === "8/9"`)
	if got := evalJS[string](tb, `__text("#council-quorum .quorum-label")`); got != it("council.ui.quorum_absent") || !strings.Contains(got, "assente") {
		t.Errorf("banner with 8 of 9 says %q", got)
	}
	if evalJS[bool](tb, `__visible("#btn-hand")`) {
		t.Error("members of a council session can raise a hand instead of asking for the floor")
	}
	if got := evalJS[string](tb, `document.getElementById("council-quorum").dataset.quorum`); got != "false" {
		t.Errorf("banner data-quorum=%s without quorum", got)
	}
	nine := st.with("present", 9, "quorum", true)
	pushState(tb, nine)
	tb.waitJS("the banner with 9/9", `__text("#council-quorum .quorum-count") === "9/9"`)
	if got := evalJS[string](tb, `__text("#council-quorum")`); !strings.Contains(got, "presente") || strings.Contains(got, "assente") {
		t.Errorf("banner with 9 of 9 says %q", got)
	}
	if evalJS[bool](tb, `__visible("#council-rec span")`) {
		t.Error("REC shown while not recording")
	}
	pushState(tb, nine.with("recording", true, "suspended", true))
	tb.waitJS("REC and suspended in the banner", `__visible("#council-rec span") && __visible("#council-suspended span")`)

	// A member: no console, no secretary panel.
	for _, sel := range []string{"#council-chair", `[data-action="roll_call_start"]`, `[data-action="vote_close"]`,
		"#council-vote-form", "#council-secretary", `[data-action="pick"]`} {
		if evalJS[bool](tb, fmt.Sprintf(`__visible(%q)`, sel)) {
			t.Errorf("a member sees %s", sel)
		}
	}

	// Roll call: the member confirms "presente", with the keyboard.
	unconfirmed := slices.Clone(nine["members"].([]map[string]any))
	unconfirmed[0] = maps.Clone(unconfirmed[0])
	unconfirmed[0]["confirmed"] = false
	pushState(tb, nine.with("members", unconfirmed))
	tb.waitJS("the Presente button for an unconfirmed member", `__visible('#council-rollcall [data-action="confirm"]')`)
	if got := evalJS[string](tb, `__text("#council-rollcall-title")`); got != it("council.ui.presence_title") {
		t.Errorf("an unconfirmed member outside the roll call reads %q", got)
	}
	pushState(tb, nine.with("roll_call", true, "members", unconfirmed))
	tb.waitJS("the roll call", `__text("#council-rollcall-title") === `+jsString(it("council.ui.roll_call_title"))+
		` && __visible('#council-rollcall [data-action="confirm"]')`)
	tb.do("confirm with the keyboard", chromedp.Focus(chromedp.CSS(`#council-rollcall [data-action="confirm"]`)), chromedp.KeyEvent(kb.Enter))
	waitSent(tb, map[string]any{"type": "council", "action": "confirm"})

	// An open vote: the text, three buttons; Favorevole sends the ballot.
	vote := map[string]any{"n": 1, "item": "1", "text": "Approvazione del bilancio di previsione 2026",
		"secret": false, "eligible": 9, "cast": 3}
	voting := nine.with("vote", vote, "can_vote", true)
	pushState(tb, voting)
	tb.waitJS("the vote panel", `__visible("#council-vote") && __text("#council-vote .vote-text").includes("Approvazione del bilancio")`)
	if got := evalJS[string](tb, `__text("#council-vote .vote-item")`); got != "1. Bilancio di previsione" {
		t.Errorf("the vote's agenda item shows as %q", got)
	}
	for _, choice := range []string{"favorevole", "contrario", "astenuto"} {
		if !evalJS[bool](tb, fmt.Sprintf(`__visible('#council-vote button[data-choice=%q]')`, choice)) {
			t.Errorf("no %s button", choice)
		}
	}
	if evalJS[bool](tb, `__visible("#council-vote .vote-secret")`) {
		t.Error("an open vote is shown as secret")
	}
	tb.do("vote favorevole", chromedp.Click(chromedp.CSS(`#council-vote button[data-choice="favorevole"]`)))
	waitSent(tb, map[string]any{"type": "council", "action": "vote_cast", "choice": "favorevole"})
	pushState(tb, voting.with("voted", true))
	tb.waitJS("you voted", `__visible("#council-vote .vote-done") && !__visible("#council-vote .vote-choices")`)
	if got := evalJS[string](tb, `__text("#council-vote .vote-done")`); got != it("council.ui.voted") {
		t.Errorf("after voting the page says %q", got)
	}

	// A member who was not present when the vote opened.
	pushState(tb, voting.with("can_vote", false))
	tb.waitJS("not eligible", `__visible("#council-vote .vote-ineligible") && !__visible("#council-vote .vote-choices")`)
	if got := evalJS[string](tb, `__text("#council-vote .vote-ineligible")`); !strings.Contains(got, "Non puoi votare") {
		t.Errorf("an ineligible member reads %q", got)
	}

	// A secret vote says so.
	secret := maps.Clone(vote)
	secret["n"], secret["secret"] = 2, true
	pushState(tb, nine.with("vote", secret, "can_vote", true))
	tb.waitJS("secret vote", `__visible("#council-vote .vote-secret")`)
	if got := evalJS[string](tb, `__text("#council-vote .vote-secret")`); !strings.Contains(strings.ToLower(got), "votazione segreta") {
		t.Errorf("a secret vote is labelled %q", got)
	}

	// The result, for everybody.
	byName := map[string]any{"favorevole": []map[string]any{{"id": "u1", "name": "Anna Rossi", "seat": 1}},
		"contrario": []any{}, "astenuto": []map[string]any{{"id": "u2", "name": "Bruno Bianchi", "seat": 2}}}
	result := map[string]any{"n": 1, "item": "1", "secret": false, "eligible": 9,
		"totals": map[string]int{"favorevole": 7, "contrario": 1, "astenuto": 1},
		"voters": make([]map[string]any, 9), "by_name": byName}
	pushState(tb, nine.with("last_result", result))
	want := it("council.ui.result", 1, "1. Bilancio di previsione", 7, 1, 1, 9, 9)
	tb.waitJS("the result", fmt.Sprintf(`__text("#council-result .result-summary") === %q`, want))
	tb.waitJS("the result announced", fmt.Sprintf(`document.getElementById("announcer").textContent === %q`, want))

	// The President: the console appears, and its buttons send the actions.
	chair := nine.with("role", "chair", "queue", []string{"u2"}, "speaker", "u3",
		"floor_deadline", time.Now().Add(90*time.Second).UTC().Format(time.RFC3339))
	pushState(tb, chair)
	tb.waitJS("the console", `__visible("#council-chair") && __visible('[data-action="roll_call_start"]')`)
	if evalJS[bool](tb, `__visible('[data-action="open"]')`) || evalJS[bool](tb, `__visible("#council-secretary")`) {
		t.Error("the President of an open session sees Apri la seduta or the secretary's panel")
	}
	tb.waitJS("the countdown", `/\d:\d\d/.test(__text("#council-chair .countdown"))`)
	tb.do("start the roll call", chromedp.Click(chromedp.CSS(`#council-chair [data-action="roll_call_start"]`)))
	waitSent(tb, map[string]any{"type": "council", "action": "roll_call_start"})
	tb.do("give Bruno the floor for 120 s", chromedp.SendKeys(chromedp.ID("council-seconds"), "120"),
		chromedp.Click(chromedp.CSS(`#council-queue button[data-target="u2"]`)))
	waitSent(tb, map[string]any{"type": "council", "action": "floor_grant", "target": "u2", "seconds": 120.0})
	tb.do("open a secret vote", chromedp.SendKeys(chromedp.ID("council-text"), "Nomina del revisore dei conti"),
		chromedp.Click(chromedp.ID("council-secret")), chromedp.Click(chromedp.CSS(`#council-vote-form button[type="submit"]`)))
	waitSent(tb, map[string]any{"type": "council", "action": "vote_open", "item": "1",
		"text": "Nomina del revisore dei conti", "secret": true})
	tb.do("make the session closed", chromedp.Click(chromedp.ID("council-public-switch")))
	waitSent(tb, map[string]any{"type": "council", "action": "set_public", "public": false})

	// Losing the quorum alerts the President.
	push(tb, map[string]any{"type": "council_alert", "key": "conf.council.quorum_lost", "text": "Numero legale venuto meno"})
	tb.waitJS("the alert", `__visible("#council-alerts .alert") && __text("#council-alerts").includes("Numero legale venuto meno")`)

	// The Secretary: the members and the overrides, no console.
	pushState(tb, nine.with("role", "secretary", "me", ""))
	tb.waitJS("the secretary's panel", `__visible("#council-secretary") && !__visible("#council-chair")`)
	tb.do("mark member 10 present", chromedp.Click(chromedp.CSS(`#council-member-rows [data-action="pick"][data-target="u10"][data-present="true"]`)),
		chromedp.SendKeys(chromedp.ID("council-override-note"), "presente in aula"),
		chromedp.Click(chromedp.CSS(`#council-override-form button[type="submit"]`)))
	waitSent(tb, map[string]any{"type": "council", "action": "override", "target": "u10", "present": true, "note": "presente in aula"})

	// In the chamber: the Secretary marked members 10, 11 and 12 present. Outside a vote they are
	// listed; during one, each who may vote gets the three buttons until the ballot is in, then
	// "votato" (never what).
	inAula := slices.Clone(nine["members"].([]map[string]any))
	for _, i := range []int{9, 10, 11} {
		inAula[i] = maps.Clone(inAula[i])
		inAula[i]["override"], inAula[i]["present"] = "in aula", true
	}
	sec := nine.with("role", "secretary", "me", "", "members", inAula)
	pushState(tb, sec)
	tb.waitJS("the chamber list", `document.querySelectorAll("#council-chamber li").length === 3 && __visible("#council-chamber")`)
	if evalJS[bool](tb, `__visible("#council-chamber button") || __visible("#council-secretary .chamber-empty")`) {
		t.Error("outside a vote the chamber list has vote buttons, or says nobody is in the chamber")
	}
	if got := evalJS[string](tb, `__text('#council-chamber li[data-member="u10"]')`); !strings.Contains(got, "Consigliere 10") || !strings.Contains(got, "in aula") {
		t.Errorf("member 10 in the chamber reads %q", got)
	}
	chamber := []map[string]any{{"id": "u10", "can_vote": true, "voted": false}, {"id": "u11", "can_vote": false, "voted": true},
		{"id": "u12", "can_vote": false, "voted": false}}
	secVote := sec.with("vote", vote, "chamber", chamber)
	pushState(tb, secVote)
	tb.waitJS("the chamber's vote buttons", `__visible('#council-chamber button[data-target="u10"][data-choice="contrario"]')`)
	for _, c := range []struct {
		sel  string
		want bool
	}{
		{`#council-chamber li[data-member="u10"] button[data-choice="favorevole"]`, true},
		{`#council-chamber li[data-member="u10"] button[data-choice="astenuto"]`, true},
		{`#council-chamber li[data-member="u11"] button`, false},
		{`#council-chamber li[data-member="u12"] button`, false},
		{`#council-secretary .chamber-hint`, true},
		{`#council-secretary .chamber-secret`, false},
		{`#council-vote .vote-choices`, false}, // the Secretary has no seat: no ballot of their own
	} {
		if got := evalJS[bool](tb, fmt.Sprintf(`__visible(%q)`, c.sel)); got != c.want {
			t.Errorf("%s visible: %v, want %v", c.sel, got, c.want)
		}
	}
	if got := evalJS[string](tb, `__text('#council-chamber li[data-member="u11"]')`); !strings.Contains(got, it("council.ui.chamber_voted")) ||
		strings.Contains(strings.ToLower(got), "favorevole") {
		t.Errorf("member 11, who voted, reads %q", got)
	}
	if got := evalJS[string](tb, `__text('#council-chamber li[data-member="u12"]')`); !strings.Contains(got, it("council.ui.chamber_ineligible")) {
		t.Errorf("member 12, not eligible, reads %q", got)
	}
	if got := evalJS[string](tb, `document.querySelector('#council-chamber button[data-target="u10"][data-choice="contrario"]').getAttribute("aria-label")`); got != "Contrario: Consigliere 10" {
		t.Errorf("the button's label is %q", got)
	}
	tb.do("enter member 10's ballot with the keyboard",
		chromedp.Focus(chromedp.CSS(`#council-chamber button[data-target="u10"][data-choice="contrario"]`)), chromedp.KeyEvent(kb.Enter))
	waitSent(tb, map[string]any{"type": "council", "action": "vote_cast", "target": "u10", "choice": "contrario"})
	tb.waitJS("the buttons wait for the server", `document.querySelector('#council-chamber button[data-target="u10"]').getAttribute("aria-disabled") === "true"`)
	chamber[0] = map[string]any{"id": "u10", "can_vote": false, "voted": true}
	pushState(tb, secVote.with("chamber", chamber))
	tb.waitJS("member 10 voted", `!__visible('#council-chamber li[data-member="u10"] button') && `+
		`__text('#council-chamber li[data-member="u10"]').includes(`+jsString(it("council.ui.chamber_voted"))+`)`)
	tb.waitJS("the ballot announced", `document.getElementById("announcer").textContent.includes("Consigliere 10")`)
	secretVote := maps.Clone(vote)
	secretVote["n"], secretVote["secret"] = 3, true
	pushState(tb, sec.with("vote", secretVote, "chamber", []map[string]any{{"id": "u10", "can_vote": true, "voted": false}}))
	tb.waitJS("a secret vote in the chamber", `__visible("#council-secretary .chamber-secret") && __visible('#council-chamber button[data-target="u10"]')`)
	// Nobody marked present in the chamber: the hint on how to mark them.
	pushState(tb, nine.with("role", "secretary", "me", ""))
	tb.waitJS("nobody in the chamber", `__visible("#council-secretary .chamber-empty") && !document.querySelector("#council-chamber li")`)

	// On a phone the council panel and the banner fit the screen.
	pushState(tb, voting)
	tb.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	tb.waitJS("the vote on a phone", `__visible('#council-vote button[data-choice="favorevole"]')`)
	if fits := evalJS[bool](tb, `(() => {
	  if (document.documentElement.scrollWidth > window.innerWidth) return false;
	  return [...document.querySelectorAll("#council-vote button, #council-banner p")].filter((b) => b.getClientRects().length)
	    .every((b) => { const r = b.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth; });
	})()`); !fits {
		t.Error("the council panel does not fit a phone screen")
	}
}

func push(tb *tab, msg any) {
	tb.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.eval(fmt.Sprintf(`window.__push(%s)`, b))
}

func pushState(tb *tab, s councilState) {
	tb.t.Helper()
	push(tb, map[string]any{"type": "council_state", "state": s})
}

// waitSent waits until the page has sent a message with (at least) the fields of want, and the
// protocol version.
func waitSent(tb *tab, want map[string]any) {
	tb.t.Helper()
	b, _ := json.Marshal(want)
	tb.waitJS(fmt.Sprintf("the page to send %s", b), fmt.Sprintf(`(() => {
	  const want = %s;
	  return window.__sent.some((m) => m.v === 1 && Object.entries(want).every(([k, v]) => JSON.stringify(m[k]) === JSON.stringify(v)));
	})()`, b))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
