package auth

import (
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// adminTokensCreate creates an API token and shows it once.
func (s *Service) adminTokensCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := tokenForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Scopes: r.PostForm["scope"]}
	days, err := strconv.Atoi(r.PostForm.Get("days"))
	if err != nil || days < 0 || days > 3650 {
		err = rocca.Localized(rocca.EINVALID, "auth.error.token_days", "choose how many days the token lasts")
	} else {
		f.Days = days
		var token string
		if token, err = s.CreateToken(r.Context(), f.Email, f.Name, f.Scopes, tokenTTL(days)); err == nil {
			d := tokensData{Form: tokenForm{Days: 90}, Token: token, Notice: s.cat.T(web.Lang(r), "auth.tokens.done_created")}
			s.renderTokens(w, r, http.StatusCreated, d)
			return
		}
	}
	if rocca.ErrorCodeOf(err) == rocca.EINTERNAL {
		s.fail(w, r, err)
		return
	}
	s.renderTokens(w, r, formStatus(err), tokensData{Form: f, Error: s.message(r, err)})
}
