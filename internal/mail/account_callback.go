package mail

import (
	"errors"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/rocca-pa/rocca"
)

// refusedData is the dot's Data of admin_mail_refused.html.
type refusedData struct {
	Key    string // why, as a catalog key
	Detail string // the provider's own words, if any
	Hint   string // the usual fix, as a catalog key
}

// accountCallback is GET /admin/mail/callback: the provider sends the admin back with the code and
// the state. A state that is unknown, expired, already used or started by another admin is
// refused, and so is a code the provider will not exchange (a replayed one); nothing is stored
// then.
func (s *Accounts) accountCallback(w http.ResponseWriter, r *http.Request) {
	pages := s.renderer(w)
	if pages == nil {
		return
	}
	q := r.URL.Query()
	p, ok := s.takePending(q.Get("state"))
	if !ok {
		s.logger.Warn("mail sign-in callback refused: unknown, expired or already used state")
		s.refuse(w, r, "mail.signin.bad_state")
		return
	}
	var userID int64
	if u := rocca.UserFromContext(r.Context()); u != nil {
		userID = u.ID
	}
	if userID != p.userID {
		s.logger.Warn("mail sign-in callback refused: started by another administrator", "account", p.account)
		s.refuse(w, r, "mail.signin.bad_state")
		return
	}
	a, err := s.oauthAccount(p.account)
	if err != nil {
		pages.Error(w, r, err)
		return
	}
	if e := q.Get("error"); e != "" {
		s.logger.Warn("mail sign-in refused at the provider", "account", a.cfg.Name, "error", e, "description", q.Get("error_description"))
		if e == errAccessDenied {
			s.refuse(w, r, "mail.signin.denied")
			return
		}
		s.refuse(w, r, "mail.signin.provider_error", e+" "+q.Get("error_description"))
		return
	}
	cfg, err := a.oauth2Config()
	if err != nil {
		pages.Error(w, r, err)
		return
	}
	tok, err := cfg.Exchange(s.clientContext(r.Context()), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			s.logger.Warn("mail sign-in callback refused: the provider did not accept the code (used or expired)", "account", a.cfg.Name)
			s.refuse(w, r, "mail.signin.bad_code")
			return
		}
		s.logger.Warn("mail sign-in: code exchange failed", "account", a.cfg.Name, "err", providerReason(err))
		s.refuse(w, r, "mail.signin.provider_error", providerReason(err))
		return
	}
	if err := a.connect(r.Context(), tok); err != nil {
		pages.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/mail?connected="+url.QueryEscape(a.cfg.Name), http.StatusSeeOther)
}

// refuse shows why a sign-in did not complete, with a way back.
func (s *Accounts) refuse(w http.ResponseWriter, r *http.Request, key string, detail ...string) {
	d := refusedData{Key: key}
	if len(detail) > 0 {
		d.Detail = detail[0]
		d.Hint = Hint(MethodOAuth2, d.Detail)
	}
	s.renderer(w).Render(w, r, http.StatusBadRequest, "admin_mail_refused", d)
}
