package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestSetupPageCreatesAdminOnce(t *testing.T) {
	s := newSite(t, Options{})
	link, err := s.svc.SetupLink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(link, "http://rocca.test")
	c := s.client(t)
	res := c.get(path)
	wantStatus(t, res, http.StatusOK)
	wantBody(t, res, "Primo avvio", `action="`+path+`"`)

	form := url.Values{"name": {"Ufficio IT"}, "email": {"it@comune.example.it"}, "password": {"prima password admin"}, "password2": {"altra password"}}
	res = c.post(path, form)
	wantStatus(t, res, http.StatusBadRequest)
	wantBody(t, res, "Le due password non coincidono.", `value="it@comune.example.it"`)
	form.Set("password2", "prima password admin")
	wantRedirect(t, c.post(path, form), "/")
	u, err := s.svc.UserByEmail(context.Background(), "it@comune.example.it")
	if err != nil || u.Role != rocca.RoleAdmin {
		t.Fatalf("setup user = %+v, %v", u, err)
	}
	wantStatus(t, c.get("/probe/admin"), http.StatusOK) // signed in as the new admin

	const gone = "Link già usato o scaduto: riavvia il server per averne uno nuovo."
	for _, other := range []*client{c, s.client(t)} {
		res = other.get(path)
		wantStatus(t, res, http.StatusGone)
		wantBody(t, res, gone)
		form.Set("email", "second@comune.example.it")
		res = other.post(path, form)
		wantStatus(t, res, http.StatusGone)
		wantBody(t, res, gone)
	}
	wantStatus(t, s.client(t).get("/setup/unknown-token"), http.StatusGone)
	if _, err := s.svc.UserByEmail(context.Background(), "second@comune.example.it"); rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		t.Fatal("a used setup link created a second admin")
	}
	token := strings.TrimPrefix(path, "/setup/")
	if strings.Contains(s.logs.String(), token) {
		t.Fatal("the setup token appears in the log")
	}
	if !strings.Contains(s.logs.String(), "/setup/…") {
		t.Fatal("the access log does not show the redacted setup path")
	}
}

func TestPasswordLinkPage(t *testing.T) {
	s := newSite(t, Options{})
	ctx := context.Background()
	if _, err := s.svc.CreateUser(ctx, NewUser{Email: "new@comune.example.it", Name: "Nuova", Role: rocca.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	link, err := s.svc.PasswordLink(ctx, "new@comune.example.it")
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(link, "http://rocca.test")
	c := s.client(t)
	wantStatus(t, c.get(path), http.StatusOK)
	res := c.post(path, url.Values{"password": {"corta"}, "password2": {"corta"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantBody(t, res, "La password deve avere almeno 10 caratteri.")
	wantRedirect(t, c.post(path, url.Values{"password": {"la mia password"}, "password2": {"la mia password"}}), "/login?done=password")
	wantBody(t, c.get("/login?done=password"), "Password impostata.")
	res = c.get(path)
	wantStatus(t, res, http.StatusGone)
	wantBody(t, res, "chiedi all")
	c.login("new@comune.example.it", "la mia password")
	if strings.Contains(s.logs.String(), strings.TrimPrefix(path, "/password/")) {
		t.Fatal("the password link token appears in the log")
	}
}
