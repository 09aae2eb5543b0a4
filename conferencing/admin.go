package conferencing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
)

// ListRequest is the body of GET /v1/meetings (all optional; also as query parameters
// ?all=1&limit=N).
type ListRequest struct {
	All   bool `json:"all,omitempty"` // include meetings that ended or are long past
	Limit int  `json:"limit,omitempty"`
}

// CouncilInfo is a council setup as the command line shows it: the Council with the meeting's
// title, the people's names and e-mail addresses, and the quorum in numbers.
type CouncilInfo struct {
	Council
	Title          string         `json:"title"` // the meeting's title
	ChairName      string         `json:"chair_name"`
	ChairEmail     string         `json:"chair_email"`
	SecretaryName  string         `json:"secretary_name"`
	SecretaryEmail string         `json:"secretary_email"`
	SeatEmails     map[int]string `json:"seat_emails"` // by seat number
	Assigned       int            `json:"assigned"`    // members counted for the quorum
	Required       int            `json:"required"`    // of them, how many make the quorum
}

// AdminRoutes registers the operations behind `rocca meeting create|list|council` on the admin
// socket:
//
//	POST /v1/meetings                       NewMeeting     -> Meeting (its Link is what to print)
//	GET  /v1/meetings                       ListRequest    -> []Meeting
//	POST /v1/meetings/council               CouncilRequest -> CouncilInfo (SetCouncilByEmail)
//	GET  /v1/meetings/council?meeting=ID    -              -> CouncilInfo
//
// Meetings created there have no host unless HostEmails names some: then every staff member who
// joins runs them.
func (s *Service) AdminRoutes(h interface {
	Handle(pattern string, h http.Handler)
}, logger *slog.Logger) {
	h.Handle("POST /v1/meetings", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in NewMeeting) (*Meeting, error) {
		return s.CreateMeeting(ctx, rocca.UserFromContext(ctx), in)
	}))
	h.Handle("GET /v1/meetings", adminapi.Func(logger, func(ctx context.Context, r *http.Request, in ListRequest) ([]*Meeting, error) {
		q := r.URL.Query()
		in.All = in.All || q.Get("all") == "1" || q.Get("all") == "true"
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			in.Limit = n
		}
		f := MeetingFilter{Limit: in.Limit}
		if !in.All {
			f.Since = s.now()
		}
		ms, err := s.Meetings(ctx, f)
		if ms == nil {
			ms = []*Meeting{}
		}
		return ms, err
	}))
	h.Handle("POST /v1/meetings/council", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in CouncilRequest) (*CouncilInfo, error) {
		c, err := s.SetCouncilByEmail(ctx, in)
		if err != nil {
			return nil, err
		}
		return s.councilInfo(ctx, c)
	}))
	h.Handle("GET /v1/meetings/council", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) (*CouncilInfo, error) {
		c, err := s.Council(ctx, r.URL.Query().Get("meeting"))
		if err != nil {
			return nil, err
		}
		return s.councilInfo(ctx, c)
	}))
}

// councilInfo adds to c what the command line shows besides user ids.
func (s *Service) councilInfo(ctx context.Context, c *Council) (*CouncilInfo, error) {
	m, err := meetingByPublicID(ctx, s.db, c.Meeting)
	if err != nil {
		return nil, err
	}
	info := &CouncilInfo{Council: *c, Title: m.Title, SeatEmails: map[int]string{}}
	dir, ok := s.directory()
	person := func(id int64) (name, email string, err error) {
		if !ok {
			return "", "", nil
		}
		u, err := dir.UserByID(ctx, id)
		if rocca.ErrorCodeOf(err) == rocca.ENOTFOUND || (err == nil && u == nil) {
			return "", "", nil // an account deleted since: the setup still names its id
		}
		if err != nil {
			return "", "", fmt.Errorf("council user %d: %w", id, err)
		}
		return u.Name, u.Email, nil
	}
	if info.ChairName, info.ChairEmail, err = person(c.Chair); err != nil {
		return nil, err
	}
	if info.SecretaryName, info.SecretaryEmail, err = person(c.Secretary); err != nil {
		return nil, err
	}
	for _, st := range c.Seats {
		_, email, err := person(st.UserID)
		if err != nil {
			return nil, err
		}
		info.SeatEmails[st.Seat] = email
		if st.CountsForQuorum {
			info.Assigned++
		}
	}
	info.Required = c.Quorum.Required(info.Assigned)
	return info, nil
}
