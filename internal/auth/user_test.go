package auth

import (
	"context"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	good := NewUser{Email: "Anna.Rossi@Comune.Example.it", Name: " Anna Rossi ", Role: rocca.RoleStaff, Password: "correct horse battery"}
	u, err := e.svc.CreateUser(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Email != "anna.rossi@comune.example.it" || u.Name != "Anna Rossi" || u.Role != rocca.RoleStaff {
		t.Fatalf("created %+v", u)
	}
	for name, tc := range map[string]struct {
		mut  func(*NewUser)
		code rocca.ErrorCode
	}{
		"email exists in another case": {func(n *NewUser) { n.Email = "ANNA.ROSSI@comune.example.it" }, rocca.ECONFLICT},
		"bad email":                    {func(n *NewUser) { n.Email = "anna-at-comune" }, rocca.EINVALID},
		"email with display name":      {func(n *NewUser) { n.Email = "Anna <a@b.it>" }, rocca.EINVALID},
		"email without domain dot":     {func(n *NewUser) { n.Email = "anna@localhost" }, rocca.EINVALID},
		"unknown role":                 {func(n *NewUser) { n.Role = "mayor" }, rocca.EINVALID},
		"weak password":                {func(n *NewUser) { n.Password = "short1234" }, rocca.EINVALID},
		"missing name":                 {func(n *NewUser) { n.Name = "  " }, rocca.EINVALID},
		"bad language":                 {func(n *NewUser) { n.Language = "de" }, rocca.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			n := good
			n.Email = "other@comune.example.it"
			tc.mut(&n)
			_, err := e.svc.CreateUser(ctx, n)
			wantCode(t, err, tc.code)
		})
	}
	// Without a password the account exists but cannot sign in until it gets one.
	nopw, err := e.svc.CreateUser(ctx, NewUser{Email: "bruno@comune.example.it", Name: "Bruno", Role: rocca.RoleCouncillor})
	if err != nil {
		t.Fatal(err)
	}
	users, err := e.svc.Users(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("Users = %d users, %v; want 2", len(users), err)
	}
	got, err := e.svc.UserByEmail(ctx, "BRUNO@comune.example.it")
	if err != nil || got.ID != nopw.ID {
		t.Fatalf("UserByEmail = %+v, %v", got, err)
	}
	if got, err := e.svc.UserByID(ctx, u.ID); err != nil || got.Email != u.Email {
		t.Fatalf("UserByID = %+v, %v", got, err)
	}
	_, err = e.svc.UserByEmail(ctx, "nobody@comune.example.it")
	wantCode(t, err, rocca.ENOTFOUND)
	_, err = e.svc.UserByID(ctx, 999)
	wantCode(t, err, rocca.ENOTFOUND)
	if _, err := e.svc.authenticate(ctx, "bruno@comune.example.it", "", "192.0.2.1"); rocca.ErrorCodeOf(err) != rocca.EUNAUTHORIZED {
		t.Fatalf("password-less account signed in: %v", err)
	}
}

func TestDisableUserEndsAccess(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	admin := e.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	staff := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	sid, err := e.svc.createSession(ctx, staff.ID, "192.0.2.1", "test", false, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.CreateToken(ctx, staff.Email, "script", []string{"vpn"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.DisableUser(ctx, "nobody@comune.example.it"), rocca.ENOTFOUND)
	if err := e.svc.DisableUser(ctx, staff.Email); err != nil {
		t.Fatal(err)
	}
	if se, _, err := e.svc.lookupSession(ctx, sid); se != nil || err != nil {
		t.Fatalf("session of a disabled user still live: %v, %v", se, err)
	}
	if tk, _, err := e.svc.lookupToken(ctx, tok); tk != nil || err != nil {
		t.Fatalf("token of a disabled user still live: %v, %v", tk, err)
	}
	if _, err := e.svc.authenticate(ctx, staff.Email, "staff password 1", "192.0.2.1"); rocca.ErrorCodeOf(err) != rocca.EUNAUTHORIZED {
		t.Fatalf("disabled user signed in: %v", err)
	}
	if u, _ := e.svc.UserByID(ctx, staff.ID); !u.Disabled {
		t.Fatal("user not marked disabled")
	}
	// The last enabled admin can be neither disabled nor demoted.
	wantCode(t, e.svc.DisableUser(ctx, admin.Email), rocca.ECONFLICT)
	wantCode(t, e.svc.SetRole(ctx, admin.Email, rocca.RoleStaff), rocca.ECONFLICT)
	wantCode(t, e.svc.SetRole(ctx, admin.Email, "king"), rocca.EINVALID)
	if err := e.svc.EnableUser(ctx, staff.Email); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetRole(ctx, staff.Email, rocca.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DisableUser(ctx, admin.Email); err != nil {
		t.Fatalf("disable an admin while another exists: %v", err)
	}
}

func TestSetPasswordEndsSessions(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "first password")
	sid, _ := e.svc.createSession(ctx, u.ID, "192.0.2.1", "test", false, "")
	wantCode(t, e.svc.SetPassword(ctx, u.Email, "short"), rocca.EINVALID)
	if err := e.svc.SetPassword(ctx, "STAFF@comune.example.it", "second password"); err != nil {
		t.Fatal(err)
	}
	if se, _, _ := e.svc.lookupSession(ctx, sid); se != nil {
		t.Fatal("session survived a password change")
	}
	if _, err := e.svc.authenticate(ctx, u.Email, "first password", "192.0.2.1"); err == nil {
		t.Fatal("old password still works")
	}
	if _, err := e.svc.authenticate(ctx, u.Email, "second password", "192.0.2.1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestPasswordLink(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, NewUser{Email: "new@comune.example.it", Name: "New", Role: rocca.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.svc.PasswordLink(ctx, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	link, err := e.svc.PasswordLink(ctx, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "http://rocca.test/password/"
	if len(link) < len(prefix)+43 || link[:len(prefix)] != prefix {
		t.Fatalf("link = %q", link)
	}
	_, err = e.svc.usePasswordLink(ctx, first[len(prefix):], "brand new password")
	wantCode(t, err, rocca.EGONE) // replaced by the second link
	_, err = e.svc.usePasswordLink(ctx, link[len(prefix):], "short")
	wantCode(t, err, rocca.EINVALID)
	if _, err := e.svc.usePasswordLink(ctx, link[len(prefix):], "brand new password"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.usePasswordLink(ctx, link[len(prefix):], "another password")
	wantCode(t, err, rocca.EGONE)
	if _, err := e.svc.authenticate(ctx, u.Email, "brand new password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// Links expire after 7 days.
	late, _ := e.svc.PasswordLink(ctx, u.Email)
	e.clock.Add(passwordLinkTTL)
	_, err = e.svc.usePasswordLink(ctx, late[len(prefix):], "brand new password")
	wantCode(t, err, rocca.EGONE)
}

func TestProfile(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	if err := e.svc.SetProfile(ctx, u.ID, "Carla Bianchi", "en"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.UserByID(ctx, u.ID)
	if got.Name != "Carla Bianchi" || got.Language != "en" {
		t.Fatalf("profile = %+v", got)
	}
	wantCode(t, e.svc.SetProfile(ctx, u.ID, "Carla", "fr"), rocca.EINVALID)
	wantCode(t, e.svc.SetProfile(ctx, u.ID, "", "it"), rocca.EINVALID)
}
