package tui

import (
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/emersion/go-imap/backend/memory"
	imapserver "github.com/emersion/go-imap/server"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/mail/oauthtest"
)

// toMailProvider answers the pages before the mailbox with their defaults, chooses to set the
// mailbox up now and stops at the provider question.
func (d *driver) toMailProvider() {
	d.t.Helper()
	d.toQuestions()
	for _, a := range [][2]string{
		{"Nome del Comune", ""}, {"Codice IPA (facoltativo)", ""}, {"Nome pubblico del server", ""}, {"Certificato HTTPS", ""},
		{"E-mail dell'amministratore", "it@comune.esempio.it"}, {"Nome e cognome", ""}, {"Password", ""}, {"Ripeti la password", ""},
		{"Attivare la VPN?", ""}, {"Porta UDP della VPN", ""}, {"Rete interna della VPN", ""}, {"Reti del Comune raggiungibili dalla VPN", ""},
		{"Attivare le riunioni?", ""}, {"Indirizzo IP pubblico", ""}, {"Porta per audio e video (UDP e TCP)", ""},
	} {
		d.answer(a[0], a[1])
	}
	d.at("Configurare ora la casella?")
	d.key(tea.KeyUp, "")
	d.enter()
	d.at("Dove si trova la casella?")
}

// choose moves down n options and confirms.
func (d *driver) choose(n int) {
	for range n {
		d.key(tea.KeyDown, "")
	}
	d.enter()
}

// startIMAP runs go-imap's in-memory server on loopback: it offers PLAIN only, no OAuth2.
func startIMAP(t *testing.T) int {
	t.Helper()
	s := imapserver.New(memory.New())
	s.AllowInsecureAuth = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// TestWizardSignsInTheMailbox: with a generic OAuth2 provider the wizard installs, shows the
// provider's device code, and once the test approves it says the account is signed in and tries
// the servers: the relay takes the token (OK), the IMAP server offers no OAuth2 (BLOCCO, with the
// reason and what to check). Enter ends a successful install; the scroll-back keeps it all.
func TestWizardSignsInTheMailbox(t *testing.T) {
	p := oauthtest.New(t)
	relay := p.Relay(t)
	imapPort := startIMAP(t)
	prefix := t.TempDir()
	o := testOptions(t, prefix)
	o.Installer.Sys = &fakeSys{loopback: true}
	d := start(t, o, 80, 24)
	d.toMailProvider()
	d.choose(7) // another OAuth2 provider
	for _, a := range [][2]string{
		{"Indirizzo della casella", p.Email}, {"Server IMAP", "127.0.0.1:" + strconv.Itoa(imapPort)},
		{"Server SMTP per le risposte", "127.0.0.1:" + strconv.Itoa(relay.Port)},
		{"Indirizzo di autorizzazione", p.AuthURL()}, {"Indirizzo dei token", p.TokenURL()},
		{"Indirizzo per l'accesso da terminale", p.DeviceURL()}, {"Permessi (scope)", "mail offline_access"},
		{"ID client dell'applicazione", oauthtest.ClientID}, {"Segreto client", ""},
	} {
		d.answer(a[0], a[1])
	}
	d.until("the summary", func(s snapshot) bool { return s.stage == stageSummary })
	d.enter()
	d.until("the code", func(s snapshot) bool {
		return s.stage == stageMail && strings.Contains(s.content, "In attesa dell'approvazione")
	})
	codes := p.UserCodes()
	if len(codes) != 1 {
		t.Fatalf("device codes %v", codes)
	}
	d.waitFor(codes[0])
	d.waitFor(p.URL + "/device/verify")
	p.ApproveDevice(codes[0])
	d.waitFor("Invio: fine")
	m := d.final()
	s := ansi.Strip(screen(m))
	checkFits(t, screen(m), 80, 24)
	text := strings.Join(strings.Fields(ansi.Strip(m.mailView())), " ")
	for _, want := range []string{
		"Account «helpdesk» collegato come " + p.Email,
		"[OK] Posta in uscita (SMTP)",
		"[BLOCCO] Casella dell'helpdesk (IMAP)",
		"non offre il metodo di accesso richiesto",
		"la posta non funziona ancora",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the mail step lacks %q:\n%s", want, s)
		}
	}
	res := m.result()
	if res.Status != Done || res.Mail == nil || len(res.Mail.Signed) != 1 || res.Mail.Report == nil || len(res.Mail.Report.Blockers()) != 1 {
		t.Fatalf("result %+v, mail %+v", res, res.Mail)
	}
	if len(res.Plan.Outcome.MailPending) != 0 {
		t.Errorf("the summary still asks to sign in: %+v", res.Plan.Outcome.MailPending)
	}
	var b strings.Builder
	o.Out = &b
	printAfter(o, res, nil)
	if out := b.String(); !strings.Contains(out, "Rocca è installato.") || !strings.Contains(out, "collegato come "+p.Email) || !strings.Contains(out, "[BLOCCO] Casella dell'helpdesk (IMAP)") {
		t.Errorf("scroll-back:\n%s", out)
	}
	cfg, err := config.Load(installer.NewPaths(prefix).Config, nil)
	if err != nil || cfg.Helpdesk.IMAPAuth != config.AuthOAuth2 || cfg.Helpdesk.OAuth2DeviceURL != p.DeviceURL() || cfg.Mail.SMTPAuth != config.AuthHelpdesk {
		t.Errorf("config %v: %+v", err, cfg)
	}
}

// TestWizardGoogleMailboxPointsToTheWebPage: Google allows no sign-in from a terminal; the wizard
// installs the client secret and says where to sign in instead, and so does the summary.
func TestWizardGoogleMailboxPointsToTheWebPage(t *testing.T) {
	prefix := t.TempDir()
	o := testOptions(t, prefix)
	d := start(t, o, 80, 24)
	d.toMailProvider()
	d.choose(6) // Google Workspace
	d.answer("Indirizzo della casella", "helpdesk@comune.esempio.it")
	d.answer("ID client dell'applicazione", "123.apps.googleusercontent.com")
	d.at("Segreto client")
	d.enter() // required for Google
	d.waitFor("obbligatorio")
	d.answer("Segreto client", "segreto-google")
	d.until("the summary", func(s snapshot) bool { return s.stage == stageSummary })
	d.enter()
	d.waitFor("Invio: fine")
	m := d.final()
	text := strings.Join(strings.Fields(ansi.Strip(m.mailView())), " ")
	if !strings.Contains(text, "non si può collegare da terminale") || !strings.Contains(text, "https://rocca.comune.esempio.it/admin/mail") {
		t.Errorf("the mail step does not point to the web page:\n%s", text)
	}
	res := m.result()
	if res.Status != Done || len(res.Mail.Web) != 1 || len(res.Plan.Outcome.MailPending) != 1 {
		t.Fatalf("result %+v, mail %+v", res, res.Mail)
	}
	paths := installer.NewPaths(prefix)
	if b, err := os.ReadFile(paths.OAuth2SecretFile()); err != nil || string(b) != "segreto-google\n" {
		t.Errorf("client secret file: %q %v", b, err)
	}
	var b strings.Builder
	o.Out = &b
	printAfter(o, res, nil)
	if !strings.Contains(b.String(), "Collega la casella «helpdesk» (OAuth2) dalla pagina https://rocca.comune.esempio.it/admin/mail") {
		t.Errorf("the summary does not say where to sign in:\n%s", b.String())
	}
}

// genericMailbox answers the page of a generic OAuth2 provider at p, with the given servers.
func (d *driver) genericMailbox(p *oauthtest.Provider, imap, smtp string) {
	d.t.Helper()
	for _, a := range [][2]string{
		{"Indirizzo della casella", p.Email}, {"Server IMAP", imap}, {"Server SMTP per le risposte", smtp},
		{"Indirizzo di autorizzazione", p.AuthURL()}, {"Indirizzo dei token", p.TokenURL()},
		{"Indirizzo per l'accesso da terminale", p.DeviceURL()}, {"Permessi (scope)", "mail offline_access"},
		{"ID client dell'applicazione", oauthtest.ClientID}, {"Segreto client", ""},
	} {
		d.answer(a[0], a[1])
	}
	d.until("the summary", func(s snapshot) bool { return s.stage == stageSummary })
}

// TestMailCodeExpires: a code nobody approves expires; the step says so and what to do, the live
// login is not tried, and the summary keeps the sign-in to do.
func TestMailCodeExpires(t *testing.T) {
	p := oauthtest.New(t)
	p.Set(func(p *oauthtest.Provider) { p.DeviceTTL = 2 * time.Second })
	d := start(t, testOptions(t, t.TempDir()), 80, 24)
	d.toMailProvider()
	d.choose(7)
	d.genericMailbox(p, "127.0.0.1:1", "127.0.0.1:2")
	d.enter()
	d.waitFor("Invio: fine")
	m := d.final()
	text := strings.Join(strings.Fields(ansi.Strip(m.mailView())), " ")
	for _, want := range []string{"non è stato collegato: Il codice è scaduto", "la casella va ancora collegata"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	res := m.result()
	if res.Status != Done || len(res.Mail.Failed) != 1 || res.Mail.Report != nil || len(res.Plan.Outcome.MailPending) != 1 {
		t.Errorf("status %v, mail %+v, pending %+v", res.Status, res.Mail, res.Plan.Outcome.MailPending)
	}
}

// TestQuitDuringMailSignIn: Ctrl+C while waiting for the approval leaves Rocca installed (status
// Done) and the sign-in for later, which the summary names.
func TestQuitDuringMailSignIn(t *testing.T) {
	p := oauthtest.New(t)
	prefix := t.TempDir()
	o := testOptions(t, prefix)
	d := start(t, o, 80, 24)
	d.toMailProvider()
	d.choose(7)
	d.genericMailbox(p, "127.0.0.1:1", "127.0.0.1:2")
	d.enter()
	d.waitFor("In attesa dell'approvazione")
	d.ctrlC()
	d.waitFor("Rocca è installato. La casella")
	d.key('s', "s")
	m := d.tm.FinalModel(t).(*model)
	m.stopInstall()
	res := m.result()
	if res.Status != Done || len(res.Mail.Signed) != 0 || len(res.Plan.Outcome.MailPending) != 1 {
		t.Errorf("status %v, mail %+v, pending %+v", res.Status, res.Mail, res.Plan.Outcome.MailPending)
	}
}
