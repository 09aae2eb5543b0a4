package vpn

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
)

// PeerAddRequest is the body of POST /v1/vpn/peers (`rocca vpn peer add`).
type PeerAddRequest struct {
	User      string `json:"user"`
	Name      string `json:"name"`
	PublicKey string `json:"public_key,omitempty"`
	Expires   string `json:"expires,omitempty"` // "90d", "12h", "2w" or a date "2026-12-31"; "" = never
	Link      bool   `json:"link,omitempty"`    // also make a one-time link
	Email     bool   `json:"email,omitempty"`   // and e-mail it to the owner
}

// PeerAddResponse is its answer. Config holds the private key when the server generated it (shown
// once); with Link the configuration is delivered by the link instead, and Config is empty.
type PeerAddResponse struct {
	Peer     *Peer  `json:"peer"`
	Config   string `json:"config,omitempty"`
	FileName string `json:"file_name,omitempty"`
	Link     *Link  `json:"link,omitempty"`
}

// ImportRequest is the body of POST /v1/vpn/import: the file's content (the CLI reads the file).
type ImportRequest struct {
	Config string `json:"config"`
	User   string `json:"user"`
}

// AddPeerCLI is `rocca vpn peer add`: a device for a user, with its configuration or a one-time link.
func (s *Service) AddPeerCLI(ctx context.Context, in PeerAddRequest) (*PeerAddResponse, error) {
	exp, err := ParseExpires(in.Expires, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if in.Link && in.PublicKey != "" {
		return nil, rocca.Localized(rocca.EINVALID, "vpn.error.own_key_link", "this device uses its owner's own key: Rocca cannot send its private key, download the configuration instead")
	}
	d, err := s.AddPeer(ctx, NewPeer{User: in.User, Name: in.Name, PublicKey: in.PublicKey, ExpiresAt: exp})
	if err != nil {
		return nil, err
	}
	out := &PeerAddResponse{Peer: d.Peer}
	if !in.Link && !in.Email {
		out.Config, out.FileName = d.Config, d.FileName
		return out, nil
	}
	if out.Link, err = s.createLink(ctx, d.Peer, in.Email); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseExpires reads a lifetime as the CLI takes it: "" (never), a duration in days, weeks or
// hours ("90d", "2w", "12h") from now, or a date ("2026-12-31", the end of that day, local time).
func ParseExpires(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "never" || s == "0" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		t := d.AddDate(0, 0, 1)
		if !t.After(now) {
			return time.Time{}, rocca.Localized(rocca.EINVALID, "vpn.error.expiry_past", "the expiry date is in the past")
		}
		return t, nil
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 10*365*24 {
		return time.Time{}, errExpires(s)
	}
	switch unit {
	case 'h':
		return now.Add(time.Duration(n) * time.Hour), nil
	case 'd':
		return now.AddDate(0, 0, n), nil
	case 'w':
		return now.AddDate(0, 0, 7*n), nil
	}
	return time.Time{}, errExpires(s)
}

func errExpires(s string) error {
	return rocca.Localized(rocca.EINVALID, "vpn.error.expires", fmt.Sprintf("%q is not a lifetime: write for example 90d, 2w, 12h or a date such as 2026-12-31", s), s)
}

// AdminRoutes registers the admin-socket routes of `rocca vpn …` (cmd/rocca passes the adminapi
// server):
//
//	GET  /v1/vpn/status            Status
//	GET  /v1/vpn/peers[?all=1]     []*Peer (live; all=1 adds revoked and expired)
//	POST /v1/vpn/peers             PeerAddRequest → PeerAddResponse
//	POST /v1/vpn/peers/{id}/revoke → {"revoked": id}
//	POST /v1/vpn/import            ImportRequest → ImportResult
func (s *Service) AdminRoutes(h interface {
	Handle(pattern string, h http.Handler)
}, logger *slog.Logger) {
	h.Handle("GET /v1/vpn/status", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, _ struct{}) (*Status, error) {
		return s.Status(ctx)
	}))
	h.Handle("GET /v1/vpn/peers", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) ([]*Peer, error) {
		peers, err := s.Peers(ctx, PeerFilter{Ended: r.URL.Query().Get("all") == "1"})
		if peers == nil {
			peers = []*Peer{}
		}
		return peers, err
	}))
	h.Handle("POST /v1/vpn/peers", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in PeerAddRequest) (*PeerAddResponse, error) {
		return s.AddPeerCLI(ctx, in)
	}))
	h.Handle("POST /v1/vpn/peers/{id}/revoke", adminapi.Func(logger, func(ctx context.Context, r *http.Request, _ struct{}) (map[string]int64, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			return nil, errPeerNotFound(0)
		}
		if err := s.Revoke(ctx, id); err != nil {
			return nil, err
		}
		return map[string]int64{"revoked": id}, nil
	}))
	h.Handle("POST /v1/vpn/import", adminapi.Func(logger, func(ctx context.Context, _ *http.Request, in ImportRequest) (*ImportResult, error) {
		return s.Import(ctx, strings.NewReader(in.Config), in.User)
	}))
}
