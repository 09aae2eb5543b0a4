package conferencing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rocca-pa/rocca/conferencing/council"
	"github.com/rocca-pa/rocca/internal/browsertest"
)

// Acceptance 7 (issue 5), end to end in headless Chromium: the President's console opens a public
// session, starts the recording, drives a roll call and a vote that two members answer from their
// own pages; a citizen watches the public page without signing in and decodes video and audio;
// the President switches to a closed session and the public page is cut within 2 s. At close the
// record is sealed, lists the recording's files with their SHA-256, and the minutes say the same.
func TestBrowserCouncilSession(t *testing.T) {
	if !inLoopbackNamespace(t) {
		return
	}
	e, m, _ := newCouncilEnv(t, 2, true)
	stream := e.streamOf(m)
	browser := browsertest.New(t)
	url := e.base + "/meetings/" + m.PublicID
	chair := e.openTab(browser, "first", councilChair, "it")
	chair.name = "presidente"
	a := e.openTab(browser, "m1", councilMember(1), "it")
	b := e.openTab(browser, "m2", councilMember(2), "it")
	citizen := e.openTab(browser, "citizen", 0, "it")
	defer func() {
		if t.Failed() {
			for _, tb := range []*tab{chair, a, b, citizen} {
				t.Logf("%s console:\n%s", tb.name, tb.dump())
			}
		}
	}()
	for _, tb := range []*tab{chair, a, b} {
		tb.join(url, "")
		tb.do("enter", chromedp.WaitVisible(chromedp.ID("room")))
	}
	chairID := chair.selfID() // the President may speak: opening the session mutes the members

	chair.click("open the session", `[data-action="open"]`)
	chair.click("start the recording", `[data-action="recording_start"]`)
	a.waitJS("REC shown to members", `document.getElementById("council-rec").getClientRects().length > 0`)

	citizen.do("open the public page", chromedp.Navigate(e.base+"/pubblico/"+stream))
	citizen.watchAndListen()
	citizen.decodes("the President's video and audio", chairID+"/camera", chairID+"/audio")

	chair.click("start the roll call", `[data-action="roll_call_start"]`)
	for _, tb := range []*tab{a, b} {
		tb.click("presente", `#council-rollcall [data-action="confirm"]`)
	}
	chair.waitJS("quorum present", `document.getElementById("council-quorum").dataset.quorum === "true"`)
	chair.click("close the roll call", `[data-action="roll_call_close"]`)

	chair.do("open a vote", chromedp.SendKeys(chromedp.ID("council-text"), "Approvazione del verbale"),
		chromedp.Click(chromedp.CSS(`#council-vote-form button[type="submit"]`)))
	a.click("favorevole", `#council-vote [data-choice="favorevole"]`)
	b.click("contrario", `#council-vote [data-choice="contrario"]`)
	chair.waitJS("both voted", `document.querySelector("#council-vote .vote-progress").textContent.includes("2 su 2")`)
	chair.click("close the vote", `[data-action="vote_close"]`)
	for _, tb := range []*tab{chair, a, b} {
		tb.waitJS("the result", `document.querySelector("#council-result .result-summary").textContent.includes("favorevoli 1, contrari 1")`)
	}

	start := time.Now()
	chair.do("switch to a closed session", chromedp.Click(chromedp.ID("council-public-switch")))
	citizen.waitJS("the closed message", `(() => {
	  const st = document.getElementById("public-status");
	  return st.dataset.state === "closed" && document.querySelectorAll("#grid .tile").length === 0;
	})()`)
	if cut := time.Since(start); cut > 2*time.Second {
		t.Errorf("the public page was cut %v after the switch, more than 2 s", cut)
	} else {
		t.Logf("the public page was cut %v after the switch", cut)
	}

	evalJS[bool](chair, `(window.confirm = () => true, true)`)
	chair.click("close the session", `[data-action="close"]`)
	chair.waitJS("the minutes links", `document.getElementById("council-minutes-html").getClientRects().length > 0`)
	checkSealedSession(t, e, m)
}

// click waits for a visible element and clicks it.
func (tb *tab) click(what, css string) {
	tb.t.Helper()
	tb.waitJS(what, `(() => { const b = document.querySelector(`+jsString(css)+`); return !!b && !b.disabled && b.getClientRects().length > 0; })()`)
	tb.do(what, chromedp.Click(chromedp.CSS(css)))
}

// checkSealedSession verifies the record of the session that just closed: sealed with the server's
// key, the public switch in it, every recording file listed with the SHA-256 of the bytes on disk,
// and minutes that give the vote's totals and names.
func checkSealedSession(t *testing.T, e *env, m *Meeting) {
	t.Helper()
	path, err := e.svc.CouncilRecordPath(t.Context(), m.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := council.Verify(bytes.NewReader(raw), nil)
	if err != nil || !res.Valid {
		t.Fatalf("record not valid: %+v %v", res, err)
	}
	if !bytes.Contains(raw, []byte(`"type":"public_changed"`)) {
		t.Error("the switch to a closed session is not in the record")
	}
	min, err := council.ReadMinutes(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(min.Files) < 3 { // two members' audio and video, the chair's, and the manifest
		t.Fatalf("recording files in the record: %+v", min.Files)
	}
	for _, f := range min.Files {
		b, err := os.ReadFile(filepath.Join(e.svc.cfg.CouncilDir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: SHA-256 in the record does not match the file", f.File)
		}
	}
	if len(min.Votes) != 1 || min.Votes[0].Totals != (council.Totals{Favorevole: 1, Contrario: 1}) {
		t.Fatalf("minutes votes: %+v", min.Votes)
	}
	var doc strings.Builder
	if err := min.Document(e.svc.cat, "it").WriteHTMLBody(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.String(), "Approvazione del verbale") {
		t.Error("the minutes do not show the vote's text")
	}
}
