package conferencing

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/web"
)

// meetingJoin is POST /meetings/{id}/join (JSON): the join page asks for a place and a token
// before it opens the WebSocket. Errors come back as {"error":{"code","message"}}.
func (s *Service) meetingJoin(w http.ResponseWriter, r *http.Request) {
	r.Header.Set("Accept", "application/json") // errors as JSON
	web.SetBodyLimit(w, r, 4<<10)
	var req JoinRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil && err != io.EOF {
		s.room.Error(w, r, rocca.Localized(rocca.EINVALID, "conf.error.malformed", "bad join request"))
		return
	}
	res, err := s.Join(r.Context(), r.PathValue("id"), rocca.UserFromContext(r.Context()), req)
	if err != nil {
		s.room.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}
