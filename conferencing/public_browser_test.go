package conferencing

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rocca-pa/rocca/internal/browsertest"
)

// Acceptance 7 (issue 5), the citizen's part: headless Chromium opens the public page without
// signing in and decodes the councillor's video and audio; switching to a closed session shows
// the closed message and stops the media within 2 s; switching back, the page resumes by itself.
func TestBrowserPublicStream(t *testing.T) {
	if !inLoopbackNamespace(t) {
		return
	}
	e := newEnv(t)
	m := e.meeting(NewMeeting{Title: "Consiglio comunale", Council: true})
	stream := e.streamOf(m)
	browser := browsertest.New(t)
	anna := e.openTab(browser, "first", 1, "it")
	anna.name = "anna"
	citizen := e.openTab(browser, "citizen", 0, "it")
	defer func() {
		if t.Failed() {
			for _, tb := range []*tab{anna, citizen} {
				t.Logf("%s console:\n%s", tb.name, tb.dump())
			}
		}
	}()
	anna.join(e.base+"/meetings/"+m.PublicID, "")
	anna.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))
	annaID := anna.selfID()
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err != nil {
		t.Fatal(err)
	}

	citizen.do("open the public page", chromedp.Navigate(e.base+"/pubblico/"+stream))
	if html := evalJS[string](citizen, `document.documentElement.outerHTML`); strings.Contains(html, m.PublicID) {
		t.Error("the public page holds the meeting id")
	}
	citizen.watchAndListen()
	citizen.decodes("anna's video and audio", annaID+"/camera", annaID+"/audio")
	if got := evalJS[string](citizen, `document.querySelector('#grid .tile.main figcaption').textContent`); got != "Anna Rossi" {
		t.Errorf("the main tile is labelled %q", got)
	}

	start := time.Now()
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, false); err != nil {
		t.Fatal(err)
	}
	const cut = `(() => {
	  const st = document.getElementById("public-status");
	  const pc = window.__pcs[window.__pcs.length - 1];
	  return st.dataset.state === "closed" && st.textContent.includes("La seduta è ora riservata")
	    && document.querySelectorAll("#grid .tile, #audio-sink audio").length === 0
	    && (!pc || pc.connectionState === "closed");
	})()`
	deadline := time.Now().Add(30 * time.Second)
	for !evalJS[bool](citizen, cut) {
		if time.Now().After(deadline) {
			t.Fatalf("the public page never showed the closed session; says %q\nconsole:\n%s",
				evalJS[string](citizen, `document.getElementById("public-status").textContent`), citizen.dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	t.Logf("the public page showed the closed session and dropped the media %v after the switch", elapsed)
	if elapsed > 2*time.Second {
		t.Errorf("the public page was cut after %v, more than 2 s", elapsed)
	}

	// Public again: the page comes back by itself.
	if err := e.svc.SetPublicStream(context.Background(), m.PublicID, true); err != nil {
		t.Fatal(err)
	}
	citizen.watchAndListen()
	citizen.decodes("anna again after the session became public again", annaID+"/camera", annaID+"/audio")
}

// watchAndListen waits for the stream's first tile and sound, and presses "Turn on sound" if the
// browser blocked playing it before the visitor touched the page.
func (tb *tab) watchAndListen() {
	tb.t.Helper()
	tb.waitJS("the stream's video and sound", `(() => {
	  const a = document.querySelector("#audio-sink audio");
	  return !!document.querySelector("#grid .tile video") && !!a
	    && (!a.paused || !document.getElementById("public-unmute").hidden);
	})()`)
	if evalJS[bool](tb, `!document.getElementById("public-unmute").hidden`) {
		tb.t.Logf("%s: the browser blocked autoplay; pressing %q", tb.name,
			evalJS[string](tb, `document.getElementById("public-unmute").textContent`))
		tb.do("turn on sound", chromedp.Click(chromedp.ID("public-unmute")))
		tb.waitJS("sound playing and the button gone", `!document.querySelector("#audio-sink audio").paused
		  && getComputedStyle(document.getElementById("public-unmute")).display === "none"`)
	}
}
