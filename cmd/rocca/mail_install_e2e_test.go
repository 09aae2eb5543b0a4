package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// The installer's mail step against the test's own OAuth2 provider (oauthtest), a real Dovecot
// whose only passdb is oauth2 (it checks every token at the provider's userinfo endpoint, knows no
// password) and an SMTP relay in the test process that accepts only XOAUTH2/OAUTHBEARER tokens the
// provider issued.

var paneCodeRe = regexp.MustCompile(`(?m)^\s+([B-Z]{4}-[B-Z]{4})\s*$`)

// TestInstallMailOAuth2InTmux: the wizard in an 80×24 pane configures the helpdesk mailbox with a
// generic OAuth2 provider; after the install it shows the device code and the page to open, the
// test approves the code at its provider, and the installer reports the live IMAP and SMTP logins
// with the new token as OK. Then `rocca doctor` logs in the same way (OK), and after the provider
// revokes the sign-in it names the failure in Italian with the command that fixes it.
func TestInstallMailOAuth2InTmux(t *testing.T) {
	p := oauthtest.New(t)
	dovecot := p.Dovecot(t)
	relay := p.Relay(t)
	prefix := t.TempDir()
	bin := roccaBin(t)

	pane := newPane(t, paneEnv, bin, "install", "--prefix", prefix)
	pane.waitFor("Controlli del sistema") // the checks are done: Enter goes on
	pane.waitFor("Invio: continua")
	pane.keys("Enter")
	pane.answer("Nome del Comune", "Comune di Prova")
	pane.answer("Codice IPA", "", "Tab")
	pane.answer("Nome pubblico del server", "localhost")
	pane.waitFor("┃ Certificato HTTPS")
	pane.keys("Home", "Down") // self-signed
	pane.keys("Enter")
	pane.answer("E-mail dell'amministratore", "it@comune.prova.it")
	pane.answer("Nome e cognome", "Anna Rossi")
	pane.answer("Password", "una password lunga")
	pane.answer("Ripeti la password", "una password lunga")
	pane.answer("Attivare la VPN?", "")
	pane.answer("Porta UDP della VPN", strconv.Itoa(freeUDPPort(t)))
	pane.answer("Rete interna della VPN", "")
	pane.answer("Reti del Comune raggiungibili", "192.168.50.0/24", "Tab")
	pane.answer("Attivare le riunioni?", "")
	pane.answer("Indirizzo IP pubblico", "")
	pane.answer("Porta per audio e video", strconv.Itoa(freeUDPPort(t)))
	pane.waitFor("┃ Configurare ora la casella?")
	pane.keys("Up") // "Sì, ora"
	pane.keys("Enter")
	pane.waitFor("┃ Dove si trova la casella?")
	for range 7 { // the last choice: another OAuth2 provider
		pane.keys("Down")
	}
	pane.waitFor("> Altro fornitore OAuth2")
	pane.keys("Enter")
	pane.answer("Indirizzo della casella", p.Email)
	pane.answer("Server IMAP", dovecot.Addr())
	pane.answer("Server SMTP per le risposte", "127.0.0.1:"+strconv.Itoa(relay.Port))
	pane.answer("Indirizzo di autorizzazione", p.AuthURL())
	pane.answer("Indirizzo dei token", p.TokenURL())
	pane.answer("Indirizzo per l'accesso da terminale", p.DeviceURL())
	pane.answer("Permessi (scope)", "mail offline_access")
	pane.answer("ID client dell'applicazione", oauthtest.ClientID)
	pane.answer("Segreto client", "")
	pane.waitFor("Invio: installa")
	pane.keys("Enter")

	// The mail step: the code and the page, exactly as the provider issued them.
	screen := pane.waitFor("In attesa dell'approvazione")
	m := paneCodeRe.FindStringSubmatch(screen)
	if m == nil || len(p.UserCodes()) != 1 || m[1] != p.UserCodes()[0] {
		t.Fatalf("no code of the provider (%v) on the screen:\n%s", p.UserCodes(), screen)
	}
	if !strings.Contains(screen, p.URL+"/device/verify") || !strings.Contains(screen, "apri questa pagina con un browser") {
		t.Errorf("the screen does not say where to enter the code:\n%s", screen)
	}
	if !p.ApproveDevice(m[1]) {
		t.Fatalf("the provider does not know the code %s", m[1])
	}
	screen = pane.waitFor("La casella è collegata e l'accesso ai server di posta funziona.")
	for _, want := range []string{
		"Account «helpdesk» collegato come " + p.Email,
		"Accesso riuscito come " + p.Email + " su 127.0.0.1, cartella INBOX (OAuth2, generic)",
		"accetta l'accesso OAuth2 di " + p.Email,
	} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the mail step lacks %q:\n%s", want, screen)
		}
	}
	pane.keys("Enter")
	if code := pane.exitCode(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, pane.all())
	}
	if out := pane.all(); !strings.Contains(out, "Rocca è installato.") || !strings.Contains(out, "[OK] Casella dell'helpdesk (IMAP)") ||
		strings.Contains(out, "mail login") {
		t.Errorf("the scroll-back lacks the summary, the mail result, or asks to sign in again:\n%s", out)
	}
	if logins := relay.Logins(); len(logins) != 1 || logins[0] != "ok "+p.Email {
		t.Errorf("relay logins %v; want one with the token", logins)
	}

	paths := installer.NewPaths(prefix)
	cfg, err := config.Load(paths.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Helpdesk
	if h.IMAPAuth != config.AuthOAuth2 || h.OAuth2Provider != "generic" || h.OAuth2DeviceURL != p.DeviceURL() || h.IMAPPasswordFile != "" ||
		cfg.Mail.SMTPAuth != config.AuthHelpdesk || cfg.Mail.SMTPPort != relay.Port {
		t.Errorf("config: %+v\n%+v", h, cfg.Mail)
	}
	key := filepath.Join(cfg.Server.DataDir, mail.KeyFileName)
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %s: %v %v", key, err, fi)
	}
	db, _ := os.ReadFile(cfg.DatabasePath())
	for _, rt := range p.RefreshTokens() {
		if bytes.Contains(db, []byte(rt)) {
			t.Error("the refresh token is in the database in plain text")
		}
	}

	// rocca doctor logs in with the stored sign-in.
	out, errOut, _ := runRocca(t, "", "--config", paths.Config, "doctor", "--json")
	if st := doctorStatus(t, out+errOut); st["imap"] != "ok" || st["smtp"] != "ok" {
		t.Fatalf("doctor with a good sign-in: %v\n%s%s", st, out, errOut)
	}

	// The provider revokes the sign-in (consent withdrawn): doctor says so, in Italian, with the fix.
	p.RevokeRefreshTokens()
	out, errOut, code := runRocca(t, "", "--config", paths.Config, "doctor")
	if code != exitBlocked {
		t.Errorf("doctor exit %d, want %d", code, exitBlocked)
	}
	for _, want := range []string{
		"[BLOCCO] Casella dell'helpdesk (IMAP): Il fornitore ha revocato l'accesso dell'account di posta helpdesk (invalid_grant",
		"[BLOCCO] Posta in uscita (SMTP): Il fornitore ha revocato l'accesso dell'account di posta helpdesk",
		"Collega l'account: rocca --config " + paths.Config + " mail login --account helpdesk",
	} {
		if !strings.Contains(flat(out), want) {
			t.Errorf("doctor output lacks %q:\n%s%s", want, out, errOut)
		}
	}
}

// flat is s with every run of white space (line breaks of the wrapping included) as one space.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// doctorStatus maps the ids of `rocca doctor --json` to their status.
func doctorStatus(t *testing.T, out string) map[string]string {
	t.Helper()
	var doc struct {
		Checks []struct{ ID, Status, Message string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	st := map[string]string{}
	for _, c := range doc.Checks {
		st[c.ID] = c.Status
	}
	return st
}
