package auth

import (
	"context"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
)

func TestPasswordHashFormatAndRoundTrip(t *testing.T) {
	p := defaultPasswordParams()
	phc, err := hashPassword("una password lunga", p)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Fatalf("hash %q is not a PHC argon2id string with the default parameters", phc)
	}
	if ok, rehash, err := checkPassword(phc, "una password lunga", p); !ok || rehash || err != nil {
		t.Fatalf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, _, err := checkPassword(phc, "una password lungA", p); ok || err != nil {
		t.Fatalf("wrong password: ok=%v err=%v", ok, err)
	}
	if ok, rehash, _ := checkPassword(phc, "una password lunga", fastParams); !ok || !rehash {
		t.Fatalf("changed parameters: ok=%v rehash=%v, want a rehash", ok, rehash)
	}
	again, _ := hashPassword("una password lunga", p)
	if again == phc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		strings.Replace(phc, "$argon2id", "$argon2id$x", 1)} {
		if _, _, err := checkPassword(bad, "x", p); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestLoginUpgradesHashParameters(t *testing.T) {
	e := newEnv(t, Options{PasswordParams: PasswordParams{Memory: 2048, Time: 1, Threads: 1}})
	ctx := context.Background()
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	stored := func() string {
		var h string
		e.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&h)
		return h
	}
	if !strings.Contains(stored(), "$m=2048,t=1,p=1$") {
		t.Fatalf("hash %q", stored())
	}
	e.svc = e.service(t, Options{PasswordParams: PasswordParams{Memory: 4096, Time: 2, Threads: 1}})
	if _, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored(), "$m=4096,t=2,p=1$") {
		t.Fatalf("hash not upgraded at login: %q", stored())
	}
	if _, err := e.svc.authenticate(ctx, u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatalf("login after upgrade: %v", err)
	}
}

// TestSignInReturnsArgon2Memory checks that the memory one password check touched goes back to the
// system at once: without that a small server holds 64 MiB more after each burst of sign-ins.
// Not parallel, so that no other test's garbage is counted.
func TestSignInReturnsArgon2Memory(t *testing.T) {
	const memKiB = 32 * 1024
	e := newEnv(t, Options{PasswordParams: PasswordParams{Memory: memKiB, Time: 1, Threads: 1}})
	u := e.user(t, "staff@comune.example.it", rocca.RoleStaff, "staff password 1")
	if _, err := e.svc.authenticate(context.Background(), u.Email, "staff password 1", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// Collect (without scavenging), then count the free pages the runtime still keeps resident:
	// argon2's block array would sit there.
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(sample)
	if kept := sample[0].Value.Uint64(); kept >= memKiB*1024/2 {
		t.Fatalf("%d MiB of freed heap still resident after a sign-in", kept>>20)
	}
}
