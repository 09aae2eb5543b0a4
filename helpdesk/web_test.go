package helpdesk

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestAgentPages(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	staff := e.user("marco.ricci@comune.example.it", rocca.RoleStaff)
	for i, f := range []string{"039-html-xss-alternative.eml", "001-plain-utf8-qp.eml", "004-attachment-pdf.eml"} {
		e.ingest(readCorpus(t, f), uint32(i+1))
	}
	ts := e.webServer(t, agent, staff)

	res, body := get(t, ts, agent, "/helpdesk")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "/helpdesk/tickets/3") {
		t.Fatalf("queue: %d", res.StatusCode)
	}
	if res, _ := get(t, ts, staff, "/helpdesk"); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff on the agent queue: %d, want 403", res.StatusCode)
	}
	_, body = get(t, ts, agent, "/helpdesk?q=perche")
	if !strings.Contains(body, "/helpdesk/tickets/2") || strings.Contains(body, "/helpdesk/tickets/1\"") {
		t.Errorf("search perche: the ticket with perché only\n%s", body)
	}
	_, body = get(t, ts, agent, "/helpdesk?view=mine")
	if strings.Contains(body, "/helpdesk/tickets/") {
		t.Error("mine: lists tickets nobody assigned")
	}

	res, body = get(t, ts, agent, "/helpdesk/tickets/1")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("ticket page: %d", res.StatusCode)
	}
	for _, bad := range []string{"<script>alert", "onerror", "onload=", "javascript:", "<iframe", "evil.example/frame", "<form action=\"http"} {
		if strings.Contains(body, bad) {
			t.Errorf("ticket page holds %q", bad)
		}
	}
	if !strings.Contains(body, "data-remote-src=\"http://tracker.example/pixel.gif\"") || !strings.Contains(body, "data-load-images") {
		t.Error("ticket page: the remote image is not kept blocked with its load button")
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' https: http:") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("ticket page CSP %q: want remote images allowed only for the click, scripts only from self", csp)
	}

	// Reply with a file through the form, then an empty reply shows the form again.
	res, body = postMultipart(t, ts, agent, "/helpdesk/tickets/2/reply", map[string]string{"text": "Ecco il driver.", "status": "waiting"},
		map[string][]byte{"driver.zip": []byte("PK\x03\x04")})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", res.StatusCode, body)
	}
	res, body = postMultipart(t, ts, agent, "/helpdesk/tickets/2/reply", map[string]string{"text": "  "}, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, template.HTMLEscapeString(catalog(t).T("it", "helpdesk.error.text_empty"))) {
		t.Errorf("empty reply: %d", res.StatusCode)
	}
	res, _ = postForm(t, ts, agent, "/helpdesk/tickets/2/note", url.Values{"text": {"Nota riservata"}})
	res2, _ := postForm(t, ts, agent, "/helpdesk/tickets/2/assign", url.Values{"assignee": {"me"}})
	res3, _ := postForm(t, ts, agent, "/helpdesk/tickets/2/update", url.Values{"status": {"in attesa"}, "priority": {"alta"}, "category": {"stampanti"}})
	if res.StatusCode != http.StatusSeeOther || res2.StatusCode != http.StatusSeeOther || res3.StatusCode != http.StatusSeeOther {
		t.Fatalf("note %d, assign %d, update %d", res.StatusCode, res2.StatusCode, res3.StatusCode)
	}
	v, _ := e.svc.Ticket(t.Context(), agent, 2)
	if v.Ticket.AssigneeID != agent.ID || v.Ticket.Priority != PriorityHigh || v.Ticket.Category != "stampanti" || v.Ticket.Status != StatusWaiting {
		t.Errorf("after the forms: %+v", v.Ticket)
	}
	_, body = get(t, ts, agent, "/helpdesk?view=mine")
	if !strings.Contains(body, "/helpdesk/tickets/2") {
		t.Error("mine: the ticket just taken is missing")
	}

	// The PDF of ticket 3 downloads as an attachment, never sniffed.
	id := regexp.MustCompile(`/helpdesk/attachments/(\d+)`).FindStringSubmatch(mustGet(t, ts, agent, "/helpdesk/tickets/3"))
	if id == nil {
		t.Fatal("no attachment link on ticket 3")
	}
	res, body = get(t, ts, agent, "/helpdesk/attachments/"+id[1])
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") || !strings.HasPrefix(body, "%PDF") {
		t.Errorf("download: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get(t, ts, staff, "/helpdesk/attachments/"+id[1]); res.StatusCode != http.StatusNotFound {
		t.Errorf("staff downloading someone else's attachment: %d, want 404", res.StatusCode)
	}
	if res, _ := get(t, ts, agent, "/helpdesk/mails/1/raw"); res.StatusCode != http.StatusOK {
		t.Errorf("original mail for the agent: %d", res.StatusCode)
	}
	if res, _ := get(t, ts, nil, "/helpdesk/tickets/1"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", res.StatusCode)
	}
	for _, path := range []string{"/helpdesk", "/helpdesk/tickets/1", "/helpdesk/tickets/2", "/helpdesk/tickets/3", "/requests", "/requests/new"} {
		if res, body := getLang(t, ts, agent, path, "en"); res.StatusCode != http.StatusOK || !strings.Contains(body, `lang="en"`) {
			t.Errorf("%s in English: %d", path, res.StatusCode)
		}
	}
	if res, body := get(t, ts, nil, "/helpdesk/static/helpdesk.js"); res.StatusCode != http.StatusOK || !strings.Contains(body, "data-remote-src") {
		t.Errorf("script: %d", res.StatusCode)
	}
}

func mustGet(t *testing.T, ts *httptest.Server, u *rocca.User, path string) string {
	t.Helper()
	res, body := get(t, ts, u, path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return body
}

func TestStaffPortal(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	anna := e.user("anna@comune.example.it", rocca.RoleStaff)
	bruno := e.user("bruno@comune.example.it", rocca.RoleCouncillor)
	ts := e.webServer(t, agent, anna, bruno)

	res, body := postMultipart(t, ts, anna, "/requests", map[string]string{"subject": "Scanner <b>bloccato</b>", "text": "Non scansiona più."},
		map[string][]byte{"errore.png": []byte("\x89PNG")})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/requests/1?done=created" {
		t.Fatalf("new request: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if res, body := postForm(t, ts, anna, "/requests", url.Values{"subject": {""}, "text": {"x"}}); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, template.HTMLEscapeString(catalog(t).T("it", "helpdesk.error.subject_empty"))) {
		t.Errorf("request without subject: %d", res.StatusCode)
	}
	if _, err := e.svc.AddNote(t.Context(), agent, 1, "Nota che Anna non deve vedere", nil); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, ts, anna, "/requests")
	if !strings.Contains(body, "/requests/1") || !strings.Contains(body, "Scanner &lt;b&gt;bloccato&lt;/b&gt;") {
		t.Errorf("my requests: missing or unescaped\n%s", body)
	}
	res, body = get(t, ts, anna, "/requests/1")
	if res.StatusCode != http.StatusOK || strings.Contains(body, "Nota che Anna") || !strings.Contains(body, "errore.png") {
		t.Errorf("request page: %d, note shown %v", res.StatusCode, strings.Contains(body, "Nota che Anna"))
	}
	if res, _ := get(t, ts, bruno, "/requests/1"); res.StatusCode != http.StatusNotFound {
		t.Errorf("someone else's request: %d, want 404", res.StatusCode)
	}
	if err := e.svc.Update(t.Context(), agent, 1, Changes{Status: StatusClosed}); err != nil {
		t.Fatal(err)
	}
	res, _ = postForm(t, ts, anna, "/requests/1/reply", url.Values{"text": {"Si è bloccato di nuovo."}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/requests/1?done=reply" {
		t.Errorf("reply to a closed request: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	v, _ := e.svc.MyTicket(t.Context(), anna, 1)
	if v.Ticket.Status != StatusOpen {
		t.Errorf("closed request after the answer: %s, want open (reopen policy)", v.Ticket.Status)
	}
	if res, _ := postForm(t, ts, bruno, "/requests/1/reply", url.Values{"text": {"intruso"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("answer to someone else's request: %d, want 404", res.StatusCode)
	}
}

func TestQuarantinePage(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxMessage = 1 << 20 })
	admin := e.user("admin@comune.example.it", rocca.RoleAdmin)
	agent := e.user("tecnico@comune.example.it", rocca.RoleAgent)
	e.ingest(readCorpus(t, "037-malformed-base64.eml"), 1)
	e.ingest(oversized(2<<20), 2)
	ts := e.webServer(t, admin, agent)
	if res, _ := get(t, ts, agent, "/admin/helpdesk/quarantine"); res.StatusCode != http.StatusForbidden {
		t.Errorf("agent on the quarantine: %d, want 403", res.StatusCode)
	}
	res, body := get(t, ts, admin, "/admin/helpdesk/quarantine")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Scansione enorme") || !strings.Contains(body, "il limite è 1 MiB") {
		t.Fatalf("quarantine page: %d\n%s", res.StatusCode, body)
	}
	ids := regexp.MustCompile(`/admin/helpdesk/quarantine/(\d+)/release`).FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d release buttons, want 2", len(ids))
	}
	res, _ = get(t, ts, admin, "/helpdesk/mails/"+ids[0][1]+"/raw")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("raw download: %d", res.StatusCode)
	}
	res, _ = postForm(t, ts, admin, "/admin/helpdesk/quarantine/"+ids[0][1]+"/discard", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("discard: %d", res.StatusCode)
	}
	res, _ = postForm(t, ts, admin, "/admin/helpdesk/quarantine/"+ids[1][1]+"/release", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/helpdesk/tickets/") {
		t.Errorf("release: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := postForm(t, ts, admin, "/admin/helpdesk/quarantine/"+ids[1][1]+"/release", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("second release: %d, want 409", res.StatusCode)
	}
	_, body = get(t, ts, admin, "/admin/helpdesk/quarantine")
	if strings.Contains(body, "/release") {
		t.Error("the quarantine still lists handled mail")
	}
}

func TestHomeLinksInCatalog(t *testing.T) {
	cat := catalog(t)
	for _, l := range HomeLinks() {
		for _, lang := range []string{"it", "en"} {
			if !cat.Has(lang, l.TitleKey) || !cat.Has(lang, l.DescKey) {
				t.Errorf("home link %s: keys missing in %s", l.Href, lang)
			}
		}
	}
}
