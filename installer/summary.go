package installer

import (
	"fmt"
	"io"
	"strings"

	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// ActionLabel is the action as shown in lists: "crea", "aggiorna", "invariato", "saltato".
func ActionLabel(cat *i18n.Catalog, lang string, a Action) string {
	key := "installer.action." + string(a)
	return cat.T(lang, key)
}

// WriteChanges lists the plan, one line per step: the action and what it means.
func WriteChanges(w io.Writer, cat *i18n.Catalog, lang string, changes []Change) {
	for _, c := range changes {
		fmt.Fprintf(w, "  %-10s %s\n", ActionLabel(cat, lang, c.Action), c.Text(cat, lang))
	}
}

// WriteSummary writes what the user needs after the install, meant to stay in the terminal's
// scroll-back: where Rocca answers, how the admin logs in, the ports to open and what to do next.
func WriteSummary(w io.Writer, cat *i18n.Catalog, lang string, a *Answers, p *Plan) {
	t := func(key string, args ...any) string { return cat.T(lang, key, args...) }
	cfg, o := a.Config, p.Outcome
	if p.Changed() {
		fmt.Fprintln(w, t("installer.summary.done"))
	} else {
		fmt.Fprintln(w, t("installer.summary.no_change"))
	}
	fmt.Fprintln(w)
	row := func(key string, value string) {
		// Meant for an 80-column terminal: a long value goes on its own line, whole.
		label := t(key) + ":"
		if 2+len([]rune(label))+1+len([]rune(value)) > 80 {
			fmt.Fprintf(w, "  %s\n    %s\n", label, value)
			return
		}
		fmt.Fprintf(w, "  %s %s\n", label, value)
	}
	row("installer.summary.url", cfg.Server.PublicURL)
	row("installer.summary.admin", adminLine(t, a, o))
	if o.CertFingerprint != "" {
		row("installer.summary.fingerprint", o.CertFingerprint)
	}
	if ports := PublicPorts(cfg); len(ports) > 0 {
		row("installer.summary.ports", portList(ports))
	}
	row("installer.summary.config", p.inst.Paths.Config)
	row("installer.summary.data", cfg.Server.DataDir)
	row("installer.summary.service", serviceLine(t, p))
	for _, n := range o.Notes {
		fmt.Fprintln(w, "  ! "+t(n.Msg, n.Args...))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t("installer.summary.next"))
	for i, step := range nextSteps(t, a, p) {
		fmt.Fprintf(w, "  %d. %s\n", i+1, step)
	}
}

func adminLine(t func(string, ...any) string, a *Answers, o Outcome) string {
	switch {
	case o.AdminLink != "":
		return t("installer.summary.admin_link", a.Admin.Email, o.AdminLink)
	case o.AdminCreated:
		return t("installer.summary.admin_created", a.Admin.Email)
	}
	return t("installer.summary.admin_kept", a.Admin.Email)
}

func serviceLine(t func(string, ...any) string, p *Plan) string {
	o := p.Outcome
	switch svc := p.changeOf("service"); {
	case o.ServiceStarted && o.Healthy:
		return t("installer.summary.service_healthy", UnitName)
	case o.ServiceStarted:
		return t("installer.summary.service_started", UnitName)
	case svc.Action == Keep:
		return t("installer.summary.service_running", UnitName)
	}
	return t("installer.summary.service_not_started", p.inst.Paths.Binary, p.inst.Paths.Config)
}

func nextSteps(t func(string, ...any) string, a *Answers, p *Plan) []string {
	steps := []string{t("installer.next.open", a.Config.Server.PublicURL, a.Admin.Email)}
	if ports := PublicPorts(a.Config); len(ports) > 0 {
		steps = append(steps, t("installer.next.ports", portList(ports)))
	}
	steps = append(steps, t("installer.next.doctor", doctorCommand(p.inst.Paths)))
	if a.Config.VPN.Enabled {
		steps = append(steps, t("installer.next.vpn", a.Admin.Email))
	}
	if a.Config.Helpdesk.Enabled && a.Config.Helpdesk.IMAPHost == "" {
		steps = append(steps, t("installer.next.helpdesk", p.inst.Paths.Config))
	}
	for _, s := range p.Outcome.MailPending {
		if s.DeviceGrant {
			steps = append(steps, t("installer.next.mail_signin", s.Account, mailLoginCommand(p.inst.Paths, s.Account)))
		} else {
			steps = append(steps, t("installer.next.mail_signin_web", s.Account, s.WebURL))
		}
	}
	if p.inst.Paths.System() {
		steps = append(steps, t("installer.next.logs", strings.TrimSuffix(UnitName, ".service")))
	}
	return steps
}

// doctorCommand is how to run doctor on this installation.
func doctorCommand(paths Paths) string {
	if paths.System() {
		return "rocca doctor"
	}
	return "rocca --config " + paths.Config + " doctor"
}

// tlsName is the TLS mode as shown to people.
func tlsName(t func(string, ...any) string, m config.TLSMode) string {
	key := "installer.tls." + strings.ReplaceAll(string(m), "-", "_")
	return t(key)
}

// Describe returns the answers as label/value rows, for the wizard's summary screen.
func Describe(cat *i18n.Catalog, lang string, a *Answers) [][2]string {
	t := func(key string, args ...any) string { return cat.T(lang, key, args...) }
	c := a.Config
	onOff := func(b bool) string {
		if b {
			return t("installer.yes")
		}
		return t("installer.no")
	}
	rows := [][2]string{
		{t("installer.describe.municipality"), strings.TrimSpace(c.Municipality.Name + " " + c.Municipality.IPACode)},
		{t("installer.describe.url"), c.Server.PublicURL},
		{t("installer.describe.tls"), tlsName(t, c.Server.TLS)},
		{t("installer.describe.admin"), fmt.Sprintf("%s <%s>", a.Admin.Name, a.Admin.Email)},
		{t("installer.describe.vpn"), onOff(c.VPN.Enabled)},
	}
	if c.VPN.Enabled {
		lan := strings.Join(c.VPN.LAN, ", ")
		if lan == "" {
			lan = t("installer.describe.none")
		}
		rows = append(rows, [2]string{t("installer.describe.vpn_detail"), fmt.Sprintf("UDP %d, %s, LAN %s", c.VPN.ListenPort, c.VPN.Subnet, lan)})
	}
	rows = append(rows, [2]string{t("installer.describe.meetings"), onOff(c.Meetings.Enabled)})
	if c.Meetings.Enabled {
		ip := c.Meetings.PublicIP
		if ip == "" {
			ip = t("installer.describe.auto")
		}
		rows = append(rows, [2]string{t("installer.describe.meetings_detail"), fmt.Sprintf("UDP/TCP %d, %s", c.Meetings.UDPPort, ip)})
	}
	mailbox := t("installer.describe.skipped")
	switch {
	case c.Helpdesk.IMAPHost != "" && c.Helpdesk.IMAPAuth == config.AuthOAuth2:
		mailbox = fmt.Sprintf("%s (OAuth2 %s, %s, %s)", c.Helpdesk.Address, c.Helpdesk.OAuth2Provider, c.Helpdesk.IMAPHost, c.Mail.SMTPHost)
	case c.Helpdesk.IMAPHost != "":
		mailbox = fmt.Sprintf("%s (%s, %s)", c.Helpdesk.Address, c.Helpdesk.IMAPHost, c.Mail.SMTPHost)
	}
	return append(rows, [2]string{t("installer.describe.helpdesk"), mailbox})
}
