package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseHash: a stored hash is parsed before any argon2 work; whatever it holds, parsing must
// not panic and must refuse costs that would exhaust memory.
func FuzzParseHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			return
		}
		if h.params.Memory > 4*1024*1024 || h.params.Time > 100 || h.params.Threads == 0 || len(h.key) < 16 {
			t.Fatalf("accepted %q with params %+v", s, h.params)
		}
	})
}

// FuzzTOTPCode: codes come from a form; only six digits (spaces allowed) can ever match.
func FuzzTOTPCode(f *testing.F) {
	secret := b32().EncodeToString([]byte("12345678901234567890"))
	now := time.Unix(1111111109, 0)
	f.Add("081804")
	f.Add("081 804")
	f.Add("0818040")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		if _, ok := matchTOTP(secret, code, now, 0); ok {
			digits := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
			if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
				t.Fatalf("code %q accepted", code)
			}
		}
	})
}

// FuzzScopeAllows: whatever the path, a token never counts outside /api/.
func FuzzScopeAllows(f *testing.F) {
	f.Add("/api/vpn/peers")
	f.Add("/admin/users")
	f.Add("/api/../admin")
	f.Fuzz(func(t *testing.T, path string) {
		if scopeAllows([]string{"vpn", "admin"}, path) && !strings.HasPrefix(path, "/api/") {
			t.Fatalf("token allowed on %q", path)
		}
	})
}
