package mail

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rocca-pa/rocca/internal/web"
)

// accountView is one account as the page shows it.
type accountView struct {
	AccountStatus
	Label    string
	StateKey string
	Badge    string
	Mismatch bool   // signed in as a mailbox other than the configured user
	Problem  string // why it is not ready, in the page's language
}

// accountsData is the dot's Data of admin_mail.html.
type accountsData struct {
	Accounts     []accountView
	Connected    string // the account just signed in, for the confirmation
	Disconnected string
	Callback     string // the redirect URI to register at the provider
}

var accountLabels = map[string]string{
	"helpdesk": "mail.accounts.name.helpdesk",
	"smtp":     "mail.accounts.name.smtp",
}

var accountStates = map[string][2]string{ // state -> catalog key, badge
	StatusReady:        {"mail.accounts.state.ready", "badge-success"},
	StatusNotConnected: {"mail.accounts.state.not_connected", "badge-warning"},
	StatusRevoked:      {"mail.accounts.state.revoked", "badge-danger"},
}

// accountsList is GET /admin/mail: every account, its method and the health of its sign-in.
func (s *Accounts) accountsList(w http.ResponseWriter, r *http.Request) {
	pages := s.renderer(w)
	if pages == nil {
		return
	}
	sts, err := s.Status(r.Context())
	if err != nil {
		pages.Error(w, r, err)
		return
	}
	d := accountsData{Callback: s.redirectURL()}
	q := r.URL.Query()
	if a := s.Account(q.Get("connected")); a != nil {
		d.Connected = a.cfg.Name
	}
	if a := s.Account(q.Get("disconnected")); a != nil {
		d.Disconnected = a.cfg.Name
	}
	for _, st := range sts {
		lang := web.Lang(r)
		v := accountView{AccountStatus: st, Label: s.cat.T(lang, "mail.accounts.name.other", st.Name)}
		if key, ok := accountLabels[st.Name]; ok {
			v.Label = s.cat.T(lang, key)
		}
		state := accountStates[st.State]
		v.StateKey, v.Badge = state[0], state[1]
		if st.ProblemKey != "" {
			v.Problem = s.cat.T(lang, st.ProblemKey, st.ProblemArgs...)
		}
		v.Mismatch = st.SignedInAs != "" && st.User != "" && !strings.EqualFold(st.SignedInAs, st.User)
		d.Accounts = append(d.Accounts, v)
	}
	s.allowProviderForms(w)
	pages.Render(w, r, http.StatusOK, "admin_mail", d)
}

// allowProviderForms lets the "Connetti" forms of this page end at the providers: the form posts
// to Rocca, which answers with a redirect to the provider's sign-in page, and browsers apply the
// page's CSP form-action to that redirect too. Only this page's policy is widened, and only with
// the origins of the configured providers' authorization endpoints.
func (s *Accounts) allowProviderForms(w http.ResponseWriter) {
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self'") {
		return
	}
	origins := ""
	for _, a := range s.all() {
		if a.cfg.Method != MethodOAuth2 {
			continue
		}
		if u, err := url.Parse(a.provider.Endpoint.AuthURL); err == nil && u.Host != "" && !strings.Contains(origins, " "+u.Scheme+"://"+u.Host) {
			origins += " " + u.Scheme + "://" + u.Host
		}
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self'"+origins, 1))
}
