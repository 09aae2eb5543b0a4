package auth

import (
	"net/http"

	"github.com/rocca-pa/rocca"
)

// accountProfileUpdate saves the user's own name and language.
func (s *Service) accountProfileUpdate(w http.ResponseWriter, r *http.Request) {
	u := rocca.UserFromContext(r.Context())
	name := r.PostFormValue("name")
	if err := s.SetProfile(r.Context(), u.ID, name, r.PostFormValue("language")); err != nil {
		s.renderAccount(w, r, formStatus(err), accountData{Name: name, Error: s.message(r, err), Section: "profile"})
		return
	}
	http.Redirect(w, r, "/account?done=profile", http.StatusSeeOther)
}
