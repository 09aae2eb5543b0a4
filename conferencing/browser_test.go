package conferencing

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/vishvananda/netlink"

	"github.com/rocca-pa/rocca/internal/browsertest"
)

// Browser tests run headless Chromium (internal/browsertest: fake camera and microphone, fake
// screen capture through --use-fake-ui-for-media-stream, loopback WebRTC) against the real join
// page, in a network namespace of their own whose only interface is lo, so that no packet of the
// browser or of the SFU can leave the machine.

const netnsEnv = "ROCCA_CONF_NETNS"

// inLoopbackNamespace runs the calling test again in a child process inside a new network
// namespace with only lo up. In the child it brings lo up and returns true: the test goes on
// there. In the parent it reports the child's outcome and returns false.
func inLoopbackNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == "1" {
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			t.Fatalf("bring lo up in the test's network namespace: %v", err)
		}
		return true
	}
	browsertest.Require(t)
	if os.Geteuid() != 0 {
		msg := "browser meeting test needs root, to run Chromium in a network namespace of its own (only loopback)"
		if os.Getenv("ROCCA_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	t.Logf("in its own network namespace:\n%s", out)
	switch {
	case err != nil:
		t.Fatalf("%s failed in its network namespace: %v", t.Name(), err)
	case strings.Contains(string(out), "--- SKIP"):
		t.Skip("skipped in its network namespace (see the log)")
	case !strings.Contains(string(out), "--- PASS: "+t.Name()):
		t.Fatalf("%s did not run in its network namespace", t.Name())
	}
	return false
}

// tab is one participant's browser tab.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu   sync.Mutex
	logs []string
}

// captureRTC keeps every RTCPeerConnection the page makes, so the test can read getStats.
const captureRTC = `window.__pcs = [];
window.i18n = () => JSON.parse(document.getElementById("meeting-i18n").textContent);
(() => { const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Orig { constructor(...a) { super(...a); window.__pcs.push(this); } };
})();`

// openTab opens a tab in its own browser context (own cookies), signed in as user (0: a guest),
// with the page language lang ("": the browser's, English).
func (e *env) openTab(browser context.Context, name string, user int64, lang string) *tab {
	t := e.t
	ctx := browser
	if name != "first" {
		ctx, _ = chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	}
	if err := chromedp.Do(ctx); err != nil { // allocate the tab: no timeout on this one
		t.Fatalf("%s: open tab: %v", name, err)
	}
	tb := &tab{t: t, name: name, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			tb.log(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.log(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.do("install hooks", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: captureRTC})
		return err
	}))
	tb.do("open the site", chromedp.Navigate(e.base+"/healthz"))
	if user != 0 {
		tb.eval(fmt.Sprintf(`document.cookie = "test_user=%d; path=/"`, user))
	}
	if lang != "" {
		tb.eval(fmt.Sprintf(`document.cookie = "lang=%s; path=/"`, lang))
	}
	return tb
}

func (tb *tab) log(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.logs = append(tb.logs, s)
}

func (tb *tab) dump() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return strings.Join(tb.logs, "\n")
}

// do runs chromedp steps with a deadline.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %s: %v\nconsole:\n%s", tb.name, what, err, tb.dump())
	}
}

func (tb *tab) eval(js string) {
	tb.t.Helper()
	evalJS[any](tb, js)
}

func evalJS[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: evaluate %.80q: %v\nconsole:\n%s", tb.name, js, err, tb.dump())
	}
	return v
}

// waitJS polls a boolean expression until it holds.
func (tb *tab) waitJS(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !evalJS[bool](tb, js) {
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").outerHTML`))
			cancel()
			tb.t.Fatalf("%s: timed out waiting for %s\nconsole:\n%s\npage:\n%s", tb.name, what, tb.dump(), html)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// selfID is the participant id the page joined as.
func (tb *tab) selfID() string {
	tb.t.Helper()
	tb.waitJS("own tile", `!!document.querySelector('.tile[data-self="true"]')`)
	return evalJS[string](tb, `document.querySelector('.tile[data-self="true"]').dataset.participant`)
}

// mediaStats reads, for each remote tile and audio element, the frames decoded and the audio
// samples received so far, keyed "participant/camera", "participant/screen", "participant/audio".
const mediaStatsJS = `(async () => {
  const pc = window.__pcs[window.__pcs.length - 1];
  const out = {};
  if (!pc || pc.connectionState === "closed") return out;
  const inbound = async (track) => {
    let found = null;
    (await pc.getStats(track)).forEach((s) => { if (s.type === "inbound-rtp") found = s; });
    return found;
  };
  for (const tile of document.querySelectorAll("#grid .tile:not([data-self])")) {
    const v = tile.querySelector("video");
    const tr = v.srcObject && v.srcObject.getVideoTracks()[0];
    if (!tr || tr.readyState !== "live") continue;
    const s = await inbound(tr);
    if (s) out[tile.dataset.participant + "/" + tile.dataset.source] = s.framesDecoded || 0;
  }
  for (const a of document.querySelectorAll(".audio-sink audio")) {
    const tr = a.srcObject && a.srcObject.getAudioTracks()[0];
    if (!tr) continue;
    const s = await inbound(tr);
    if (s) out[a.dataset.participant + "/audio"] = s.totalSamplesReceived || 0;
  }
  return out;
})()`

func (tb *tab) mediaStats() map[string]float64 {
	tb.t.Helper()
	return evalJS[map[string]float64](tb, mediaStatsJS)
}

// decodes waits until every key's counter grows over its first reading.
func (tb *tab) decodes(what string, keys ...string) {
	tb.t.Helper()
	first := map[string]float64{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		now := tb.mediaStats()
		done := true
		for _, k := range keys {
			v, ok := now[k]
			if base, seen := first[k]; ok && (!seen || v < base) {
				first[k] = v // first reading, or a new connection whose counters start again
			}
			if base, seen := first[k]; !seen || v <= base {
				done = false
			}
		}
		if done {
			tb.t.Logf("%s decodes %s: %v", tb.name, what, now)
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: timed out waiting to decode %s (%v); stats %v\nconsole:\n%s", tb.name, what, keys, now, tb.dump())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// join opens the meeting page and presses Join (typing a name for a guest).
func (tb *tab) join(url, guestName string) {
	tb.t.Helper()
	tb.do("open the join page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("join-button")))
	tb.waitJS("camera preview", `(() => { const v = document.getElementById("preview"); return !!v.srcObject && v.readyState >= 2; })()`)
	if guestName != "" {
		tb.do("type the name", chromedp.SendKeys(chromedp.ID("join-name"), guestName))
	}
	tb.do("press Join", chromedp.Click(chromedp.ID("join-button")))
}

// Acceptance 1 (issue 4): three participants join through the real join page (one guest, let in
// from the lobby by the host); each decodes the other two's video and audio; one shares the
// screen and the others decode it; a mute shows in the others' UI.
func TestBrowserThreeParticipants(t *testing.T) {
	if !inLoopbackNamespace(t) {
		return
	}
	e := newEnv(t)
	m := e.meeting(NewMeeting{Title: "Riunione del personale"})
	browser := browsertest.New(t)
	url := e.base + "/meetings/" + m.PublicID
	anna := e.openTab(browser, "first", 1, "it")
	anna.name = "anna"
	bruno := e.openTab(browser, "bruno", 2, "")
	giulia := e.openTab(browser, "giulia", 0, "")
	defer func() {
		if t.Failed() {
			for _, tb := range []*tab{anna, bruno, giulia} {
				t.Logf("%s console:\n%s", tb.name, tb.dump())
			}
		}
	}()

	anna.join(url, "")
	anna.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))
	bruno.join(url, "")
	bruno.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))
	giulia.join(url, "Giulia Neri")
	giulia.do("wait in the lobby", chromedp.WaitVisible(chromedp.ID("lobby")))
	anna.do("admit the guest", chromedp.WaitVisible(chromedp.CSS("#lobby-list button.btn-primary")),
		chromedp.Click(chromedp.CSS("#lobby-list button.btn-primary")))
	giulia.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))

	ids := map[*tab]string{anna: anna.selfID(), bruno: bruno.selfID(), giulia: giulia.selfID()}
	for tb := range ids {
		var keys []string
		for other, id := range ids {
			if other != tb {
				keys = append(keys, id+"/camera", id+"/audio")
			}
		}
		tb.decodes("the other two's video and audio", keys...)
	}

	// The camera is sent as simulcast: the SFU receives more than one layer of it.
	var layers []string
	waitFor(t, "simulcast layers of anna's camera at the SFU", func() bool {
		for _, p := range e.svc.memberStats(m.ID, ids[anna]).Published {
			if p.Kind == "video" {
				layers = p.Layers
			}
		}
		return len(layers) >= 2
	})
	t.Logf("anna's camera arrives in layers %v", layers)

	anna.do("share the screen", chromedp.Click(chromedp.ID("btn-screen")))
	anna.waitJS("own screen tile", `!!document.querySelector('.tile[data-self="true"][data-source="screen"]')`)
	for _, tb := range []*tab{bruno, giulia} {
		tb.decodes("anna's screen", ids[anna]+"/screen")
		tb.waitJS("screen tile labelled", fmt.Sprintf(`document.querySelector('.tile[data-participant=%q][data-source="screen"] .tile-name').textContent.includes("Anna Rossi")`, ids[anna]))
	}

	bruno.do("mute", chromedp.Click(chromedp.ID("btn-mic")))
	for _, tb := range []*tab{anna, giulia} {
		tb.waitJS("bruno shown muted", fmt.Sprintf(`(() => { const t = document.querySelector('.tile[data-participant=%q][data-source="camera"]');
			return !!t && t.dataset.muted === "true" && t.textContent.includes(i18n().mic_off); })()`, ids[bruno]))
	}
	if pressed := evalJS[string](bruno, `document.getElementById("btn-mic").getAttribute("aria-pressed")`); pressed != "true" {
		t.Errorf("bruno's mute button aria-pressed=%s", pressed)
	}

	anna.do("stop sharing", chromedp.Click(chromedp.ID("btn-screen")))
	bruno.waitJS("screen tile gone", fmt.Sprintf(`!document.querySelector('.tile[data-participant=%q][data-source="screen"]')`, ids[anna]))
	bruno.decodes("anna's camera after the share", ids[anna]+"/camera")

	// Anna's page is in Italian (her language choice), the others' in the browser's English.
	if got := evalJS[string](anna, `document.getElementById("btn-mic").textContent`); got != "Spegni microfono" {
		t.Errorf("anna's mute button says %q", got)
	}
	if got := evalJS[string](bruno, `document.getElementById("btn-leave").textContent`); got != "Leave" {
		t.Errorf("bruno's leave button says %q", got)
	}
	giulia.do("chat", chromedp.Click(chromedp.ID("btn-chat")), chromedp.SendKeys(chromedp.ID("chat-input"), "Buongiorno!"+kb.Enter))
	anna.waitJS("giulia's chat message", `document.getElementById("chat-log").textContent.includes("Buongiorno!")`)

	// The host turns giulia's camera off from the participant list: her page turns it off and
	// says who did it; the others see it off.
	stop := fmt.Sprintf(`#people-list li[data-participant=%q] button[aria-label^=%q]`, ids[giulia], "Spegni videocamera")
	anna.do("open the participant list", chromedp.Click(chromedp.ID("btn-people")))
	anna.waitJS("the camera button for giulia", fmt.Sprintf(`!!document.querySelector(%q)`, stop))
	evalJS[bool](anna, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, stop))
	giulia.waitJS("camera off on giulia's page", `document.getElementById("btn-camera").getAttribute("aria-pressed") === "true"`)
	giulia.waitJS("giulia told who", `document.body.textContent.includes("Anna Rossi turned your camera off")`)
	bruno.waitJS("giulia's camera shown off", fmt.Sprintf(`document.querySelector('#people-list li[data-participant=%q]').textContent.includes(i18n().cam_off)`, ids[giulia]))
}

// Acceptance 2 (issue 4): a participant whose browser may use only relay candidates connects
// through the built-in TURN server and decodes video.
func TestBrowserRelayOnly(t *testing.T) {
	if !inLoopbackNamespace(t) {
		return
	}
	e := newEnvWith(t, true)
	m := e.meeting(NewMeeting{})
	browser := browsertest.New(t)
	url := e.base + "/meetings/" + m.PublicID
	anna := e.openTab(browser, "first", 1, "it")
	anna.name = "anna"
	bruno := e.openTab(browser, "bruno", 2, "")
	anna.join(url, "")
	anna.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))
	// Bruno is on a phone.
	bruno.do("phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)))
	bruno.join(url+"?relay=1", "")
	bruno.do("enter the room", chromedp.WaitVisible(chromedp.ID("room")))
	annaID := anna.selfID()
	bruno.decodes("anna's video through TURN", annaID+"/camera", annaID+"/audio")
	anna.decodes("bruno's video through TURN", bruno.selfID()+"/camera")
	kind := evalJS[string](bruno, `(async () => {
	  const pc = window.__pcs[window.__pcs.length - 1];
	  const stats = await pc.getStats();
	  let pair = null;
	  stats.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
	  return pair ? stats.get(pair.localCandidateId).candidateType : "none";
	})()`)
	if kind != "relay" {
		t.Errorf("bruno's selected local candidate is %q, want relay", kind)
	}
	if p := evalJS[string](bruno, `window.__pcs[window.__pcs.length - 1].getConfiguration().iceTransportPolicy`); p != "relay" {
		t.Errorf("ice transport policy %q", p)
	}
	// On the phone nothing sticks out sideways and every control is on screen.
	if fits := evalJS[bool](bruno, `(() => {
	  if (document.documentElement.scrollWidth > window.innerWidth) return false;
	  const buttons = [...document.querySelectorAll(".toolbar button")];
	  return buttons.length >= 7 && buttons.every((b) => {
	    const r = b.getBoundingClientRect();
	    return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight && r.height >= 40;
	  });
	})()`); !fits {
		t.Error("the room does not fit a phone screen")
	}
}

// The server restarts during a meeting: both pages say what is happening, reconnect by
// themselves, and decode each other again.
func TestBrowserReconnectsAfterRestart(t *testing.T) {
	if !inLoopbackNamespace(t) {
		return
	}
	e := newEnv(t)
	m := e.meeting(NewMeeting{})
	browser := browsertest.New(t)
	url := e.base + "/meetings/" + m.PublicID
	anna := e.openTab(browser, "first", 1, "it")
	anna.name = "anna"
	bruno := e.openTab(browser, "bruno", 2, "")
	anna.join(url, "")
	bruno.join(url, "")
	annaID, brunoID := anna.selfID(), bruno.selfID()
	bruno.decodes("anna", annaID+"/camera", annaID+"/audio")

	e.restart()
	for _, tb := range []*tab{anna, bruno} {
		tb.waitJS("the restart announced", `document.getElementById("status").textContent.length > 0`)
		t.Logf("%s says: %s", tb.name, evalJS[string](tb, `document.getElementById("status").textContent`))
	}
	bruno.decodes("anna after the restart", annaID+"/camera", annaID+"/audio")
	anna.decodes("bruno after the restart", brunoID+"/camera", brunoID+"/audio")
	for _, tb := range []*tab{anna, bruno} {
		tb.waitJS("status back to normal", `(() => { const s = document.getElementById("status").textContent;
			return s === "" || s === i18n().status_back; })()`)
	}
}
