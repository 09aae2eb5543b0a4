package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// accountData is the dot's Data of account.html.
type accountData struct {
	Name       string
	Language   string
	TOTP       bool   // a second factor is enrolled
	CanDisable bool   // the user may remove it (not admins)
	Secret     string // enrolment in progress: the secret to type into the app
	URI        string
	Notice     string
	Error      string
	Section    string // the form the Error belongs to: profile, password, totp
}

// accountShow shows the user's own settings: name, language, password and second factor.
func (s *Service) accountShow(w http.ResponseWriter, r *http.Request) {
	d := accountData{}
	switch r.URL.Query().Get("done") {
	case "profile":
		d.Notice = s.cat.T(web.Lang(r), "auth.account.profile_saved")
	case "password":
		d.Notice = s.cat.T(web.Lang(r), "auth.account.password_saved")
	case "totp_on":
		d.Notice = s.cat.T(web.Lang(r), "auth.account.totp_enabled")
	case "totp_off":
		d.Notice = s.cat.T(web.Lang(r), "auth.account.totp_disabled")
	}
	s.renderAccount(w, r, http.StatusOK, d)
}

// renderAccount fills d from the database and renders the account page.
func (s *Service) renderAccount(w http.ResponseWriter, r *http.Request, status int, d accountData) {
	u := rocca.UserFromContext(r.Context())
	a, err := accountByID(r.Context(), s.db, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Name == "" {
		d.Name = a.Name
	}
	d.Language, d.TOTP, d.CanDisable = a.Language, a.TOTP, a.Role != rocca.RoleAdmin
	if !a.TOTP {
		if d.Secret, d.URI, err = s.PendingTOTP(r.Context(), u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render.Render(w, r, status, "account", d)
}
