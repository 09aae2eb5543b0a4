package mail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// deviceLogin runs DeviceLogin; onCode gets the user code as soon as it is shown.
func deviceLogin(t *testing.T, e *accountsEnv, onCode func(code string)) (AccountStatus, []DeviceProgress, error) {
	t.Helper()
	var mu sync.Mutex
	var seen []DeviceProgress
	st, err := e.s.DeviceLogin(context.Background(), "helpdesk", func(dc DeviceCode) {
		if dc.UserCode == "" || !strings.HasPrefix(dc.VerificationURI, e.p.URL) || dc.Interval != 1 || dc.ExpiresAt.IsZero() {
			t.Errorf("device code = %+v", dc)
		}
		onCode(dc.UserCode)
	}, func(p DeviceProgress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	return st, seen, err
}

func TestDeviceLoginWaitsPendingAndSlowsDown(t *testing.T) {
	e := newAccountsEnv(t)
	var code string
	st, progress, err := deviceLogin(t, e, func(c string) {
		code = c
		e.p.ScriptDevice(c, "authorization_pending", "slow_down")
		e.p.ApproveDevice(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StatusReady || st.SignedInAs != e.p.Email {
		t.Errorf("status = %+v", st)
	}
	polls := e.p.DevicePolls(code)
	answers := []string{}
	for _, p := range polls {
		answers = append(answers, p.Answer)
	}
	if strings.Join(answers, " ") != "authorization_pending slow_down token" {
		t.Fatalf("polls = %v", answers)
	}
	// Politeness: never faster than the interval; after slow_down, 5 s more for this and every
	// later poll. (Lower bounds only: a slow machine makes the gaps longer, never shorter.)
	for i, min := range []time.Duration{time.Second, 6 * time.Second} {
		if gap := polls[i+1].At.Sub(polls[i].At); gap < min-100*time.Millisecond {
			t.Errorf("poll %d came %v after the previous one, want at least %v", i+2, gap, min)
		}
	}
	last := progress[len(progress)-1]
	if last.State != DeviceConnected || last.SlowDowns != 1 || last.Interval != 6 || last.Polls != 3 || last.Account == nil {
		t.Errorf("last progress = %+v", last)
	}
	var used []string
	if err := e.acct.Authenticate(context.Background(), []string{"XOAUTH2"}, fakeServer(t, e.p, &used)); err != nil {
		t.Errorf("login with the device sign-in: %v", err)
	}
}

func TestDeviceLoginEndings(t *testing.T) {
	for _, c := range []struct {
		name   string
		script func(p *oauthtest.Provider, code string)
		code   rocca.ErrorCode
		key    string
	}{
		{"denied", func(p *oauthtest.Provider, code string) { p.DenyDevice(code) }, rocca.EFORBIDDEN, "mail.device.denied"},
		{"expired at the provider", func(p *oauthtest.Provider, code string) { p.ScriptDevice(code, "expired_token") }, rocca.EGONE, "mail.device.expired"},
		{"other refusal", func(p *oauthtest.Provider, code string) { p.ScriptDevice(code, "invalid_client") }, rocca.EUNAVAILABLE, "mail.device.failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newAccountsEnv(t)
			_, progress, err := deviceLogin(t, e, func(code string) { c.script(e.p, code) })
			var re *rocca.Error
			if !errors.As(err, &re) || re.Code != c.code || re.Key != c.key {
				t.Fatalf("err = %#v, want %s %s", err, c.code, c.key)
			}
			if last := progress[len(progress)-1]; last.State != DeviceFailed || last.ErrorKey != c.key {
				t.Errorf("last progress = %+v", last)
			}
			if st, _ := e.s.AccountStatus(context.Background(), "helpdesk"); st.State != StatusNotConnected {
				t.Errorf("status after a failed sign-in = %+v", st)
			}
		})
	}
}

func TestDeviceCodeLifetimeEndsTheWait(t *testing.T) {
	e := newAccountsEnv(t)
	e.p.Set(func(p *oauthtest.Provider) { p.DeviceTTL = 2 * time.Second })
	_, _, err := deviceLogin(t, e, func(string) {}) // nobody approves
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "mail.device.expired" {
		t.Fatalf("err = %v", err)
	}
}

func TestDeviceGrantRefusedForGoogle(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("s"), 0o600)
	s := NewAccounts(openDB(t, ""), AccountsOptions{DataDir: dir, PublicURL: "https://rocca.comune.example.it"})
	if _, err := s.Add(context.Background(), AccountConfig{Name: "helpdesk", Method: MethodOAuth2,
		OAuth2: OAuth2Config{Provider: ProviderGoogle, ClientID: "c", ClientSecretFile: secret}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.DeviceLogin(context.Background(), "helpdesk", func(DeviceCode) { t.Error("a code was shown") }, nil)
	var re *rocca.Error
	if !errors.As(err, &re) || re.Key != "mail.device.not_supported" || !strings.Contains(re.Message, "https://rocca.comune.example.it/admin/mail") {
		t.Fatalf("err = %v", err)
	}
}

// TestDeviceSignInThroughAdminSocket drives what `rocca mail login` does: the server polls, the
// CLI long-polls the server through the admin socket.
func TestDeviceSignInThroughAdminSocket(t *testing.T) {
	e := newAccountsEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	sock := filepath.Join(t.TempDir(), "admin.sock")
	srv := adminapi.NewServer(sock, discardLogger())
	e.s.AdminRoutes(srv, discardLogger())
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-served
	})
	cl := adminapi.NewClient(sock)
	waitFor(t, "Run", func() bool {
		var dc DeviceCode
		err := cl.Do(ctx, "POST", "/v1/mail/device", DeviceStartRequest{Account: "helpdesk"}, &dc)
		if err == nil {
			e.p.ScriptDevice(dc.UserCode, "slow_down")
			e.p.ApproveDevice(dc.UserCode)
			var p DeviceProgress
			for seen := 0; p.State == "" || p.State == DevicePending; seen = p.Updates {
				if err := cl.Do(ctx, "GET", "/v1/mail/device/"+dc.ID+"?seen="+strconv.Itoa(seen)+"&wait=20", nil, &p); err != nil {
					t.Fatal(err)
				}
			}
			if p.State != DeviceConnected || p.SlowDowns != 1 || p.Account == nil || p.Account.SignedInAs != e.p.Email {
				t.Fatalf("progress = %+v", p)
			}
			return true
		}
		var re *rocca.Error
		if errors.As(err, &re) && re.Key == "mail.device.not_running" {
			return false
		}
		t.Fatal(err)
		return false
	})
	var sts []AccountStatus
	if err := cl.Do(ctx, "GET", "/v1/mail/accounts", nil, &sts); err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].State != StatusReady || sts[0].Name != "helpdesk" {
		t.Errorf("accounts = %+v", sts)
	}
	err := cl.Do(ctx, "POST", "/v1/mail/device", DeviceStartRequest{Account: "nessuno"}, nil)
	var re *rocca.Error
	if !errors.As(err, &re) || re.Code != rocca.ENOTFOUND {
		t.Errorf("unknown account: %v", err)
	}
	if err := cl.Do(ctx, "POST", "/v1/mail/accounts/helpdesk/disconnect", nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.s.AccountStatus(ctx, "helpdesk"); st.State != StatusNotConnected {
		t.Errorf("after disconnect: %+v", st)
	}
}
