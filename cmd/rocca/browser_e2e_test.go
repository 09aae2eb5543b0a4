package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rocca-pa/rocca/internal/browsertest"
)

// TestFirstRunInBrowser walks the first run in headless Chromium: setup link → admin created and
// signed in → users page → logout → the link is spent.
func TestFirstRunInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	in := newInstance(t, t.TempDir())
	in.start()
	link := in.logs.field("setup_url")
	if link == "" {
		t.Fatalf("no setup_url in the log:\n%s", in.logs)
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", name, err, in.logs)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	step("open setup link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("password2")))
	step("fill setup form",
		chromedp.SendKeys(chromedp.ID("name"), "Ufficio Informatico"),
		chromedp.SendKeys(chromedp.ID("email"), adminEmail),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.SendKeys(chromedp.ID("password2"), adminPassword),
		chromedp.Submit(chromedp.ID("password2")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	)
	step("open users page", chromedp.Navigate(in.baseURL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("main table")))
	if body := text("main"); !strings.Contains(body, adminEmail) {
		t.Fatalf("users page does not list the admin:\n%s", body)
	}
	step("log out", chromedp.Submit(chromedp.CSS(`form[action="/logout"]`)), chromedp.WaitVisible(chromedp.ID("password")))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/login") {
		t.Fatalf("after logout the browser is at %s; want the login page", loc)
	}
	step("reopen the spent link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main")))
	if body := strings.ToLower(text("main")); !strings.Contains(body, "scadut") && !strings.Contains(body, "expired") {
		t.Fatalf("spent setup link page does not say it is used or expired:\n%s", body)
	}
}
