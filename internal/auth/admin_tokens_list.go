package auth

import (
	"net/http"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// tokensData is the dot's Data of admin_tokens.html.
type tokensData struct {
	Tokens []tokenRow
	Users  []*rocca.User
	Scopes []string
	Form   tokenForm
	Token  string // a new token, shown once
	Notice string
	Error  string
}

type tokenRow struct {
	Token
	IsExpired bool
}

type tokenForm struct {
	Email  string
	Name   string
	Scopes []string
	Days   int
}

// Has reports whether the form has scope checked.
func (f tokenForm) Has(scope string) bool {
	for _, s := range f.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// adminTokensList lists every API token and the form to create one.
func (s *Service) adminTokensList(w http.ResponseWriter, r *http.Request) {
	d := tokensData{Form: tokenForm{Days: 90}}
	if r.URL.Query().Get("done") == "revoked" {
		d.Notice = s.cat.T(web.Lang(r), "auth.tokens.done_revoked")
	}
	s.renderTokens(w, r, http.StatusOK, d)
}

func (s *Service) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData) {
	tokens, err := s.Tokens(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	for _, t := range tokens {
		d.Tokens = append(d.Tokens, tokenRow{Token: t, IsExpired: t.Expired(now)})
	}
	for _, u := range users {
		if !u.Disabled {
			d.Users = append(d.Users, u)
		}
	}
	d.Scopes = Scopes()
	s.render.Render(w, r, status, "admin_tokens", d)
}

// tokenTTL turns the form's expiry in days into a duration; 0 days means never.
func tokenTTL(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }
