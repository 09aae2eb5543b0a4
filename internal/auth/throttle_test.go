package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
)

func TestThrottlePerAccountSurvivesRestart(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	for i := 0; i < 5; i++ {
		_, err := e.svc.authenticate(ctx, u.Email, "wrong password", "192.0.2.1")
		wantCode(t, err, rocca.EUNAUTHORIZED)
	}
	// The right password is refused too, from any address, and after a restart.
	_, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "198.51.100.7")
	wantCode(t, err, rocca.ERATELIMIT)
	var te *throttleError
	if !errors.As(err, &te) || te.retryAfter <= 0 || te.retryAfter > 15*time.Minute {
		t.Fatalf("retry after = %v", te)
	}
	e.svc = e.service(t, e.opts)
	_, err = e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1")
	wantCode(t, err, rocca.ERATELIMIT)
	// The wait ends when the oldest failure leaves the 15-minute window.
	e.clock.Add(15*time.Minute + time.Second)
	if _, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	acts := e.auditActions(t)
	if n := count(acts, "login.failure"); n != 5 {
		t.Errorf("login.failure entries = %d, want 5 (%v)", n, acts)
	}
	if n := count(acts, "login.throttled"); n != 2 {
		t.Errorf("login.throttled entries = %d, want 2 (%v)", n, acts)
	}
}

func TestThrottlePerIP(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	// 20 failures spread over accounts (none reaching 5) block the address.
	for i := 0; i < 20; i++ {
		_, err := e.svc.authenticate(ctx, fmt.Sprintf("guess%d@comune.example.it", i%5), "x", "203.0.113.9")
		wantCode(t, err, rocca.EUNAUTHORIZED)
		if i%5 == 4 {
			e.clock.Add(time.Second)
		}
	}
	_, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "203.0.113.9")
	wantCode(t, err, rocca.ERATELIMIT)
	if _, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatalf("another address was blocked too: %v", err)
	}
	// Purging keeps failures still inside the window.
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.authenticate(ctx, u.Email, "staff password 1", "203.0.113.9")
	wantCode(t, err, rocca.ERATELIMIT)
}

func TestSuccessClearsAccountButNotAddress(t *testing.T) {
	e := newEnv(t, Options{Throttle: Throttle{PerAccount: 3, PerIP: 4}})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	for i := 0; i < 2; i++ {
		e.svc.authenticate(ctx, u.Email, "wrong", "192.0.2.1")
	}
	if _, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		e.svc.authenticate(ctx, u.Email, "wrong", "192.0.2.1")
	}
	// 2 failures since the success: the account is not throttled, but the address has 4.
	_, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.2")
	if err != nil {
		t.Fatalf("account throttled although a success cleared its failures: %v", err)
	}
	_, err = e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1")
	wantCode(t, err, rocca.ERATELIMIT)
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
