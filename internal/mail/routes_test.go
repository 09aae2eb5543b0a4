package mail

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

// asAdmin stands in for auth.Require(rocca.RoleAdmin): it signs in an admin.
func asAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := &rocca.User{ID: 1, Email: "it@comune.example.it", Name: "Ufficio IT", Role: rocca.RoleAdmin}
		next.ServeHTTP(w, r.WithContext(rocca.NewContextWithUser(r.Context(), u)))
	})
}

func denyAll(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "forbidden", http.StatusForbidden) })
}

func get(t *testing.T, srv *httptest.Server, path, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestAdminOutboxPage(t *testing.T) {
	ctx := context.Background()
	o := NewOutbox(openDB(t, ""), nil, discardLogger(), newClock().Now) // no worker: states stay put
	mux := http.NewServeMux()
	o.Routes(mux, asAdmin)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	failed, err := o.Enqueue(ctx, annaEnv, testRaw(t, "Verbale <script>alert(1)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := o.Enqueue(ctx, Envelope{To: []string{"bruno@comune.example.it"}}, testRaw(t, "Risposta automatica"))
	o.markFailed(ctx, failed, "RCPT TO:<anna@comune.example.it>: SMTP error 550: no such user")
	o.markSent(ctx, sent, newClock().Now(), "")

	status, body := get(t, srv, "/admin/outbox", "")
	if status != http.StatusOK {
		t.Fatalf("GET /admin/outbox = %d\n%s", status, body)
	}
	for _, want := range []string{
		"Posta in uscita", "Non recapitato", "Inviato", "anna@comune.example.it", "bruno@comune.example.it",
		"no such user", "Riprova ora", "Tutti (2)", "mittente vuoto", `action="/admin/outbox/` + strconv.FormatInt(failed, 10) + `/retry"`,
		"Verbale &lt;script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("the subject is not escaped")
	}
	if strings.Contains(body, `/outbox/`+strconv.FormatInt(sent, 10)+`/retry`) {
		t.Error("a sent message offers a retry")
	}

	status, body = get(t, srv, "/admin/outbox?state=failed", "en")
	if status != http.StatusOK || !strings.Contains(body, "Outbox") || !strings.Contains(body, "Not delivered") ||
		strings.Contains(body, "bruno@comune.example.it") {
		t.Errorf("GET ?state=failed in English = %d, want only the failed message:\n%s", status, body)
	}

	// Retry: back to the same list with a confirmation, the message queued again.
	resp, err := noRedirect.PostForm(srv.URL+"/admin/outbox/"+strconv.FormatInt(failed, 10)+"/retry", url.Values{"state": {"failed"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "state=failed") || !strings.Contains(loc, "retried="+strconv.FormatInt(failed, 10)) {
		t.Fatalf("POST retry = %d Location %q", resp.StatusCode, loc)
	}
	if it := item(t, o, failed); it.State != StateQueued {
		t.Errorf("after retry the message is %s, want queued", it.State)
	}
	if _, body = get(t, srv, loc, ""); !strings.Contains(body, "di nuovo in coda") {
		t.Error("no confirmation after the retry")
	}

	// A sent message cannot be retried; an unknown one is not found.
	resp, _ = noRedirect.PostForm(srv.URL+"/admin/outbox/"+strconv.FormatInt(sent, 10)+"/retry", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("retry of a sent message = %d, want 409", resp.StatusCode)
	}
	for _, id := range []string{"999", "abc"} {
		resp, _ = noRedirect.PostForm(srv.URL+"/admin/outbox/"+id+"/retry", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("retry of %s = %d, want 404", id, resp.StatusCode)
		}
	}
}

func TestAdminOutboxRequiresAdmin(t *testing.T) {
	o := NewOutbox(openDB(t, ""), nil, discardLogger(), newClock().Now)
	mux := http.NewServeMux()
	o.Routes(mux, denyAll)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if status, _ := get(t, srv, "/admin/outbox", ""); status != http.StatusForbidden {
		t.Errorf("GET without the admin role = %d, want 403", status)
	}
	resp, err := srv.Client().PostForm(srv.URL+"/admin/outbox/1/retry", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST retry without the admin role = %d, want 403", resp.StatusCode)
	}
}
