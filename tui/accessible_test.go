package tui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// TestAccessibleLinePrompts answers the same questions as plain lines (what a screen reader reads)
// and installs; a wrong answer is explained and asked again.
func TestAccessibleLinePrompts(t *testing.T) {
	prefix := t.TempDir()
	o := testOptions(t, prefix)
	o.Accessible = true
	input := strings.Join([]string{
		"", "", // municipality: default name, no IPA code
		"", "2", // host name: default; TLS: self-signed
		"non-una-mail", "it@comune.esempio.it", "", "una password lunga", "una password lunga",
		"n", "", "", "", // VPN off
		"", "", "", // meetings
		"", // mailbox: later
		"i",
	}, "\n") + "\n"
	o.In = strings.NewReader(input)
	var out strings.Builder
	o.Out = &out
	res, err := Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Done {
		t.Fatalf("status %v:\n%s", res.Status, out.String())
	}
	for _, want := range []string{"Nome del Comune (Invio per Comune di Esempio):", "1. Let's Encrypt", "Scrivi un numero da 1 a 4 (Invio per 1):",
		"Risposta non valida: non-una-mail non è un indirizzo e-mail valido", "Attivare la VPN? (s/n, Invio per Sì):", "Rocca è installato."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("accessible output has escape sequences")
	}
	cfg, err := config.Load(installer.NewPaths(prefix).Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.VPN.Enabled || cfg.Server.TLS != config.TLSSelfSigned {
		t.Errorf("answers not applied: vpn %v, tls %s", cfg.VPN.Enabled, cfg.Server.TLS)
	}
}

func TestAccessibleEndOfInputCancels(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Accessible = true
	o.In = strings.NewReader("Comune di Prova\n")
	var out strings.Builder
	o.Out = &out
	res, err := Run(t.Context(), o)
	if err != nil || res.Status != Cancelled {
		t.Errorf("status %v, err %v", res.Status, err)
	}
}

// TestAccessibleMailSignIn: the accessible wizard signs an OAuth2 mailbox in with plain lines: the
// page, the code, the outcome and the live login.
func TestAccessibleMailSignIn(t *testing.T) {
	p := oauthtest.New(t)
	relay := p.Relay(t)
	prefix := t.TempDir()
	o := testOptions(t, prefix)
	o.Installer.Sys = &fakeSys{loopback: true}
	o.Accessible = true
	input := strings.Join([]string{
		"", "", "", "2", "it@comune.esempio.it", "", "una password lunga", "una password lunga",
		"n", "", "", "", "", "", "",
		"1", "8", // mailbox now, another OAuth2 provider
		p.Email, "127.0.0.1:" + strconv.Itoa(startIMAP(t)), "127.0.0.1:" + strconv.Itoa(relay.Port),
		p.AuthURL(), p.TokenURL(), p.DeviceURL(), "mail offline_access", oauthtest.ClientID, "",
		"i",
	}, "\n") + "\n"
	o.In = strings.NewReader(input)
	var out strings.Builder
	o.Out = &out
	approved := make(chan string, 1)
	go func() { // approve the code as soon as the provider issued it, as the admin would
		for t.Context().Err() == nil {
			if codes := p.UserCodes(); len(codes) > 0 {
				p.ApproveDevice(codes[0])
				approved <- codes[0]
				return
			}
			time.Sleep(20 * time.Millisecond) // poll interval
		}
	}()
	res, err := Run(t.Context(), o)
	if err != nil || res.Status != Done {
		t.Fatalf("status %v, err %v:\n%s", res.Status, err, out.String())
	}
	code := <-approved
	for _, want := range []string{"e inserisci il codice:\n    " + code, p.URL + "/device/verify",
		"Account «helpdesk» collegato come " + p.Email, "[OK] Posta in uscita (SMTP)", "[BLOCCO] Casella dell'helpdesk (IMAP)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
