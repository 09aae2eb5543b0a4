package tui

import (
	tea "charm.land/bubbletea/v2"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/rocca-pa/rocca/installer"
	"github.com/rocca-pa/rocca/internal/config"
)

func lipglossWidth(s string) int { return lipgloss.Width(s) }

// goldenPrefix is where the screens install: it never exists, so the plan is always "create" and
// the paths in the goldens are the same on every machine. Nothing is written there.
const goldenPrefix = "/srv/rocca-golden"

// TestScreensGolden pins the main screens at 80×24 and 132×43 (go test ./tui -update rewrites
// testdata/).
func TestScreensGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {132, 43}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			t.Run("preflight", func(t *testing.T) {
				d := start(t, testOptions(t, goldenPrefix), w, h)
				d.until("the checks", func(s snapshot) bool { return s.preflight })
				assertScreen(t, d.final(), w, h)
			})
			t.Run("questions", func(t *testing.T) {
				d := start(t, testOptions(t, goldenPrefix), w, h)
				d.toQuestions()
				assertScreen(t, d.final(), w, h)
			})
			t.Run("summary", func(t *testing.T) {
				d := start(t, testOptions(t, goldenPrefix), w, h)
				d.toSummary()
				assertScreen(t, d.final(), w, h)
			})
			t.Run("quit", func(t *testing.T) {
				d := start(t, testOptions(t, goldenPrefix), w, h)
				d.toSummary()
				d.ctrlC()
				d.waitFor("Vuoi uscire?")
				assertScreen(t, d.final(), w, h)
			})
			t.Run("progress", func(t *testing.T) {
				d := start(t, testOptions(t, goldenPrefix), w, h)
				holdApply(d.m)
				d.toSummary()
				d.enter()
				d.until("six steps", func(s snapshot) bool { return s.steps == 6 })
				assertScreen(t, d.final(), w, h)
			})
		})
	}
}

func assertScreen(t *testing.T, m *model, w, h int) {
	t.Helper()
	s := screen(m)
	checkFits(t, s, w, h)
	golden.RequireEqual(t, s)
}

func TestWizardInstallsAndSecondRunChangesNothing(t *testing.T) {
	prefix := t.TempDir()
	d := start(t, testOptions(t, prefix), 80, 24)
	d.toSummary()
	d.enter()
	m := d.tm.FinalModel(t).(*model) // the wizard quits by itself when done
	if m.status != Done || m.err != nil {
		t.Fatalf("status %v, err %v", m.status, m.err)
	}
	paths := installer.NewPaths(prefix)
	cfg, err := config.Load(paths.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Municipality.Name != "Comune di Esempio" || cfg.Server.TLS != config.TLSACME || cfg.Server.ACMEEmail != "it@comune.esempio.it" {
		t.Errorf("config: %+v %+v", cfg.Municipality, cfg.Server)
	}
	if _, err := os.Stat(paths.Unit); err != nil {
		t.Error(err)
	}

	// Again, pressing Enter everywhere: the installed answers are the defaults.
	d = start(t, testOptions(t, prefix), 80, 24)
	d.until("the checks", func(s snapshot) bool { return s.preflight })
	d.waitFor("già installato")
	d.enter()
	for _, title := range []string{"Nome del Comune", "Codice IPA (facoltativo)", "Nome pubblico del server", "Certificato HTTPS",
		"E-mail dell'amministratore", "Nome e cognome", "Password", "Ripeti la password", "Attivare la VPN?",
		"Porta UDP della VPN", "Rete interna della VPN", "Reti del Comune raggiungibili dalla VPN", "Attivare le riunioni?",
		"Indirizzo IP pubblico", "Porta per audio e video (UDP e TCP)", "Configurare ora la casella?"} {
		d.answer(title, "")
	}
	d.waitFor("Nessuna modifica")
	d.enter()
	m = d.tm.FinalModel(t).(*model)
	if m.status != Done || m.plan.Changed() {
		t.Errorf("second run: status %v, changes %v", m.status, m.plan.Changes())
	}
}

func TestQuitAsksFirstAndChangesNothing(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "root")
	d := start(t, testOptions(t, prefix), 80, 24)
	d.until("the checks", func(s snapshot) bool { return s.preflight })
	d.ctrlC()
	d.waitFor("Vuoi uscire?")
	d.key('n', "n")
	d.until("no box", func(s snapshot) bool { return !s.asking })
	d.enter()
	d.at("Nome del Comune")
	d.ctrlC()
	d.waitFor("Vuoi uscire?")
	d.key('s', "s")
	m := d.tm.FinalModel(t).(*model)
	if m.status != Cancelled {
		t.Errorf("status %v", m.status)
	}
	if _, err := os.Stat(prefix); !os.IsNotExist(err) {
		t.Errorf("something was written under the prefix: %v", err)
	}
}

func TestQuitDuringInstallStopsAfterTheStep(t *testing.T) {
	d := start(t, testOptions(t, t.TempDir()), 80, 24)
	holdApply(d.m)
	d.toSummary()
	d.enter()
	d.until("six steps", func(s snapshot) bool { return s.steps == 6 })
	d.ctrlC()
	d.waitFor("Il passo in corso viene completato")
	d.key('s', "s")
	m := d.tm.FinalModel(t).(*model)
	if m.status != Cancelled {
		t.Errorf("status %v, err %v", m.status, m.err)
	}
}

func TestBlockerStopsBeforeQuestions(t *testing.T) {
	o := testOptions(t, goldenPrefix)
	o.Installer.Sys = &fakeSys{blocked: true}
	d := start(t, o, 80, 24)
	d.until("the checks", func(s snapshot) bool { return s.preflight })
	d.waitFor("BLOCCO")
	d.enter()
	if m := d.tm.FinalModel(t).(*model); m.status != Blocked {
		t.Errorf("status %v", m.status)
	}
	var b strings.Builder
	o.Out = &b
	printAfter(o, Result{Status: Blocked}, &installer.Report{Results: []installer.Result{{ID: "memory", Status: installer.Blocker,
		Msg: "installer.check.memory.too_little", Args: []any{"256 MiB", "400 MiB"}, Fix: "installer.fix.memory"}}})
	if !strings.Contains(b.String(), "[BLOCCO] Memoria") || !strings.Contains(b.String(), "Aumenta la memoria") {
		t.Errorf("scroll-back after a blocker:\n%s", b.String())
	}
}

func TestSurvivesResize(t *testing.T) {
	d := start(t, testOptions(t, goldenPrefix), 80, 24)
	d.toSummary()
	d.tm.Send(teaSize(60, 18))
	d.tm.Send(teaSize(132, 43))
	d.tm.Send(teaSize(70, 20))
	m := d.final()
	checkFits(t, screen(m), 70, 20)
	if !strings.Contains(screen(m), "Riepilogo") {
		t.Errorf("after resizing:\n%s", screen(m))
	}
}

func TestASCIIOnLinuxConsole(t *testing.T) {
	d := start(t, testOptions(t, goldenPrefix, "TERM=linux"), 80, 24)
	d.toQuestions()
	s := screen(d.final())
	for _, r := range []string{"─", "┃", "╭", "│", "✓", "•"} {
		if strings.Contains(s, r) {
			t.Errorf("TERM=linux screen has %q:\n%s", r, s)
		}
	}
	if !strings.Contains(s, "|") || !strings.Contains(s, "----") {
		t.Errorf("no ASCII border:\n%s", s)
	}
}

func TestNoColorEnv(t *testing.T) {
	if !noColor([]string{"NO_COLOR=yes"}) || !noColor([]string{"NO_COLOR=1"}) || noColor([]string{"NO_COLOR="}) || noColor(nil) {
		t.Error("NO_COLOR: any non-empty value turns colours off")
	}
}

// TestMailboxPage: the SMTP server proposed follows the IMAP server typed; a mailbox that cannot
// be reached blocks the install with the reason and a fix, and M goes back to the questions.
func TestMailboxPage(t *testing.T) {
	d := start(t, testOptions(t, goldenPrefix), 80, 24)
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
	d.answer("Dove si trova la casella?", "") // a server with a password, the first choice
	d.answer("Indirizzo della casella", "helpdesk@comune.esempio.it")
	d.answer("Server IMAP", "imap.comune.prova.it")
	d.at("Password della casella")
	d.waitFor("> smtp.comune.prova.it")
	d.answer("Password della casella", "segreto")
	d.answer("Server SMTP per le risposte", "")
	d.until("the summary", func(s snapshot) bool { return s.stage == stageSummary })
	d.waitFor("M: modifica le risposte · Frecce")
	d.key('m', "m")
	d.at("Nome del Comune")
	m := d.final()
	if m.report == nil || len(m.report.Blockers()) != 2 || m.answers.Config.Mail.SMTPHost != "smtp.comune.prova.it" {
		t.Errorf("blockers %v, smtp %q", m.report.Blockers(), m.answers.Config.Mail.SMTPHost)
	}
}
