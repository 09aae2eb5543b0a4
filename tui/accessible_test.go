package tui

import (
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
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
