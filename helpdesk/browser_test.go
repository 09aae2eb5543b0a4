package helpdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/browsertest"
)

// trapScript runs before any script of the page: it records every alert, confirm or prompt, so
// the test sees any payload that executes.
const trapScript = `window.__xss = [];
for (const f of ["alert", "confirm", "prompt", "print"]) window[f] = (m) => { window.__xss.push(f + ":" + String(m)); };`

// TestTicketPagesRunNoMailScript is acceptance 4: the ticket pages of the corpus's XSS mail,
// rendered in headless Chromium for the agent and for the requester, execute none of the
// payloads; remote images load only after the click, and cid: images show.
func TestTicketPagesRunNoMailScript(t *testing.T) {
	ctx := browsertest.New(t)
	var pixelHits atomic.Int32
	pixel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pixelHits.Add(1)
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	}))
	defer pixel.Close()

	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	marco := e.user("marco.ricci@comune.example.it", rocca.RoleStaff)
	files := []string{"039-html-xss-alternative.eml", "040-html-xss-only.eml", "005-related-cid-image.eml"}
	for i, f := range files {
		e.ingest(readCorpus(t, f), uint32(i+1))
	}
	remote := fmt.Sprintf("From: marco.ricci@comune.example.it\r\nTo: %s\r\nSubject: <script>alert('xss-subject')</script>\r\n"+
		"Message-ID: <remote@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Logo: <img src=\"%s/pixel.gif\" alt=\"logo\"></p>\r\n", testAddress, pixel.URL)
	e.ingest([]byte(remote), 10)
	ts := e.webServer(t, agent, marco)

	login := func(u *rocca.User) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(step, chromedp.Navigate(ts.URL+"/test-login/"+u.Email)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: trapScript})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	check := func(path string) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(step, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS("ol.thread"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		time.Sleep(200 * time.Millisecond) // let any timer-based payload fire (not a timing assertion)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__xss) + " " + location.pathname + " " +
			document.querySelectorAll(".mail-html script, .mail-html iframe, .mail-html object, .mail-html embed, .mail-html form, .mail-html svg, .mail-html [onerror], .mail-html [onload], .mail-html [onclick]").length`))
		if err != nil {
			t.Fatal(err)
		}
		if want := "[] " + path + " 0"; got != want {
			t.Errorf("%s: %q, want %q (no payload run, no navigation, no active element)", path, got, want)
		}
	}
	login(agent)
	for n := 1; n <= 3; n++ {
		check(fmt.Sprintf("/helpdesk/tickets/%d", n))
	}
	// The cid: image of ticket 3 shows from its attachment.
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector(".mail-html img[src^='/helpdesk/attachments/']"); return !!i && i.complete && i.naturalWidth > 0; })()`))
	if err != nil || !ok {
		t.Errorf("cid image of ticket 3 not shown (%v)", err)
	}
	// Ticket 4's remote image loads only after the click.
	check("/helpdesk/tickets/4")
	if n := pixelHits.Load(); n != 0 {
		t.Fatalf("remote image loaded %d times before the click", n)
	}
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(step, chromedp.Click(chromedp.CSS("button[data-load-images]"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pixelHits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pixelHits.Load() == 0 {
		t.Error("remote image did not load after the click")
	}
	login(marco) // the requester of tickets 1 and 4
	for _, n := range []int{1, 4} {
		check(fmt.Sprintf("/requests/%d", n))
	}
}

// mountTestLogin adds GET /test-login/{email}, which signs the browser in as that user with a
// cookie the fake require middleware reads.
func mountTestLogin(h interface{ Handle(string, http.Handler) }) {
	h.Handle("GET /test-login/{email}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "test_user", Value: r.PathValue("email"), Path: "/", HttpOnly: true})
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok " + strings.TrimSpace(r.PathValue("email"))))
	}))
}
