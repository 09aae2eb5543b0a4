package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

// RFC 6238 appendix B, SHA-1 rows, truncated to 6 digits (the last six of the 8-digit values).
func TestTOTPRFCVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for unixTime, want := range map[int64]string{
		59:          "287082",
		1111111109:  "081804",
		1111111111:  "050471",
		1234567890:  "005924",
		2000000000:  "279037",
		20000000000: "353130",
	} {
		if got := totpCode(key, unixTime/totpPeriod); got != want {
			t.Errorf("code at %d = %s, want %s", unixTime, got, want)
		}
	}
	secret := b32().EncodeToString(key)
	now := time.Unix(1111111109, 0)
	for _, tc := range []struct {
		at   time.Time
		ok   bool
		name string
	}{
		{now, true, "same step"},
		{now.Add(30 * time.Second), true, "one step late"},
		{now.Add(-30 * time.Second), true, "one step early"},
		{now.Add(90 * time.Second), false, "three steps late"},
	} {
		if _, ok := matchTOTP(secret, "081804", tc.at, 0); ok != tc.ok {
			t.Errorf("%s: accepted = %v, want %v", tc.name, ok, tc.ok)
		}
	}
	if _, ok := matchTOTP(secret, "081804", now, now.Unix()/totpPeriod); ok {
		t.Error("code of an already used step accepted")
	}
}

// codeFor computes the current code the way an authenticator app would.
func codeFor(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := b32().DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return totpCode(key, at.Unix()/totpPeriod)
}

func TestTOTPEnrolAndReplay(t *testing.T) {
	e := newEnv(t, Options{Municipality: "Comune di Prova"})
	ctx := context.Background()
	u := e.user(t, "admin@comune.example.it", rocca.RoleAdmin, "admin password 1")
	wantCode(t, e.svc.ConfirmTOTP(ctx, u.ID, "123456"), rocca.ECONFLICT)
	secret, uri, err := e.svc.StartTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/Rocca%20Comune%20di%20Prova:admin@comune.example.it?") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("uri = %q", uri)
	}
	if s2, _, _ := e.svc.PendingTOTP(ctx, u.ID); s2 != secret {
		t.Fatal("pending secret not kept")
	}
	if got, _ := e.svc.UserByID(ctx, u.ID); got.TOTP {
		t.Fatal("second factor active before confirmation")
	}
	wantCode(t, e.svc.ConfirmTOTP(ctx, u.ID, "000000"), rocca.EUNAUTHORIZED)
	code := codeFor(t, secret, e.clock.Now())
	if err := e.svc.ConfirmTOTP(ctx, u.ID, code); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.UserByID(ctx, u.ID)
	if !got.TOTP {
		t.Fatal("second factor not active after confirmation")
	}
	a, _ := accountByID(ctx, e.db, u.ID)
	// The code that confirmed enrolment cannot sign in again; next step's code works once.
	wantCode(t, e.svc.secondFactor(ctx, a, code, "192.0.2.1"), rocca.EUNAUTHORIZED)
	e.clock.Add(30 * time.Second)
	code = codeFor(t, secret, e.clock.Now())
	a, _ = accountByID(ctx, e.db, u.ID)
	if err := e.svc.secondFactor(ctx, a, code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	a, _ = accountByID(ctx, e.db, u.ID)
	wantCode(t, e.svc.secondFactor(ctx, a, code, "192.0.2.1"), rocca.EUNAUTHORIZED)
	// Admins keep their second factor; ResetTOTP (CLI, another admin) removes it.
	wantCode(t, e.svc.DisableTOTP(ctx, u.ID, code), rocca.EFORBIDDEN)
	if err := e.svc.ResetTOTP(ctx, u.Email); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.UserByID(ctx, u.ID); got.TOTP {
		t.Fatal("second factor survived ResetTOTP")
	}
}

func TestTOTPWrongCodesThrottle(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	secret, _, _ := e.svc.StartTOTP(ctx, u.ID)
	if err := e.svc.ConfirmTOTP(ctx, u.ID, codeFor(t, secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	a, _ := accountByID(ctx, e.db, u.ID)
	for i := 0; i < 5; i++ {
		wantCode(t, e.svc.secondFactor(ctx, a, "000000", "192.0.2.1"), rocca.EUNAUTHORIZED)
	}
	wantCode(t, e.svc.secondFactor(ctx, a, codeFor(t, secret, e.clock.Now()), "192.0.2.1"), rocca.ERATELIMIT)
	// A staff member may turn the second factor off with a valid code.
	e.clock.Add(16 * time.Minute)
	wantCode(t, e.svc.DisableTOTP(ctx, u.ID, "000000"), rocca.EUNAUTHORIZED)
	if err := e.svc.DisableTOTP(ctx, u.ID, codeFor(t, secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPSecretEncryptedAtRest(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	e := newEnv(t, Options{SecretKey: key})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	secret, _, err := e.svc.StartTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmTOTP(ctx, u.ID, codeFor(t, secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	var stored string
	e.db.QueryRowContext(ctx, `SELECT totp_secret FROM users WHERE id = ?`, u.ID).Scan(&stored)
	if !strings.HasPrefix(stored, "gcm:") || strings.Contains(stored, secret) {
		t.Fatalf("stored secret %q is not encrypted", stored)
	}
	// Another key cannot open it, and says so instead of accepting anything.
	other := append([]byte(nil), key...)
	other[0] ^= 1
	svc := e.service(t, Options{SecretKey: other, PasswordParams: fastParams})
	a, _ := accountByID(ctx, e.db, u.ID)
	e.clock.Add(time.Minute)
	if err := svc.verifyTOTP(ctx, a, codeFor(t, secret, e.clock.Now())); err == nil || rocca.ErrorCodeOf(err) != rocca.EINTERNAL {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := NewService(e.db, e.svc.cat, e.svc.logger, nil, Options{SecretKey: []byte("short")}); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}
