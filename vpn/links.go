package vpn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	netmail "net/mail"
	"time"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"github.com/rocca-pa/rocca/internal/mail"
)

// Link is a one-time link that delivers a fresh configuration of a device.
type Link struct {
	PeerID    int64     `json:"peer_id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Emailed   string    `json:"emailed_to,omitempty"` // the owner's address when the link was e-mailed
}

// errUnknownLink marks a token that never existed (as opposed to used or expired), which counts
// toward the rate limit of the link pages.
var errUnknownLink = errors.New("unknown link")

func errLinkGone(cause error) error {
	e := rocca.Localized(rocca.EGONE, "vpn.link.gone", "this link was used already or has expired: ask for a new one in \"I miei dispositivi\" or from the IT office")
	e.Err = cause
	return e
}

// CreateLink makes a one-time link for device id, valid Settings.LinkHours, replacing the device's
// earlier unused links. With email it is also sent to the owner through the outbox. Using the link
// gives the device a new key pair: the private key is made only when the link is opened.
func (s *Service) CreateLink(ctx context.Context, id int64, email bool) (*Link, error) {
	p, err := s.Peer(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.createLink(ctx, p, email)
}

// CreateMyLink is CreateLink for a device of the signed-in user u (admins may use any).
func (s *Service) CreateMyLink(ctx context.Context, u *rocca.User, id int64, email bool) (*Link, error) {
	p, err := s.myPeer(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if owner, err := s.users.UserByID(ctx, p.OwnerID); err == nil {
		p.Owner, p.OwnerName = owner.Email, owner.Name
	}
	return s.createLink(ctx, p, email)
}

func (s *Service) createLink(ctx context.Context, p *Peer, email bool) (*Link, error) {
	now := s.clock.Now()
	if p.State != StateActive {
		return nil, rocca.Localized(rocca.ECONFLICT, "vpn.error.already_ended", fmt.Sprintf("the device %q is already revoked or expired", p.Name), p.Name)
	}
	if p.OwnKey {
		return nil, rocca.Localized(rocca.ECONFLICT, "vpn.error.own_key_link", "this device uses its owner's own key: Rocca cannot send its private key, download the configuration instead")
	}
	if email && s.mailer == nil {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.no_mail", "e-mail is not available on this server: copy the link instead")
	}
	if s.cfg.PublicURL == "" {
		return nil, rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.no_public_url", "server.public_url is not set, so links cannot be made")
	}
	set, err := loadSettings(ctx, s.db)
	if err != nil {
		return nil, err
	}
	token, err := newLinkToken()
	if err != nil {
		return nil, err
	}
	expires := now.Add(time.Duration(set.LinkHours) * time.Hour).Truncate(time.Second)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(expires) {
		expires = p.ExpiresAt
	}
	if err := insertLink(ctx, s.db, token, p.ID, now, expires); err != nil {
		return nil, err
	}
	l := &Link{PeerID: p.ID, URL: s.cfg.PublicURL + "/vpn/link/" + token, ExpiresAt: expires}
	if email {
		owner, err := s.users.UserByID(ctx, p.OwnerID)
		if err != nil {
			return nil, err
		}
		if err := s.mailLink(ctx, owner, p, l); err != nil {
			return nil, err
		}
		l.Emailed = owner.Email
	}
	s.auditLog(ctx, "vpn.link.create", map[string]any{"peer": p.ID, "name": p.Name, "expires": expires.UTC().Format(time.RFC3339), "emailed": email})
	return l, nil
}

// mailLink queues the e-mail that carries the link to the owner, in the owner's language.
func (s *Service) mailLink(ctx context.Context, owner *rocca.User, p *Peer, l *Link) error {
	from, err := netmail.ParseAddress(s.cfg.MailFrom)
	if err != nil {
		return rocca.Localized(rocca.EUNAVAILABLE, "vpn.error.no_mail", "e-mail is not available on this server: copy the link instead")
	}
	lang := i18n.Default
	if owner.Language != "" {
		lang = owner.Language
	}
	when := l.ExpiresAt.Local().Format("02/01/2006 15:04")
	msg := mail.Message{
		From:    *from,
		To:      []netmail.Address{{Name: owner.Name, Address: owner.Email}},
		Subject: s.cat.T(lang, "vpn.mail.subject", p.Name),
		Text:    s.cat.T(lang, "vpn.mail.body", owner.Name, p.Name, l.URL, when, s.cfg.Municipality),
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
	raw, _, err := msg.Bytes(s.clock.Now(), "")
	if err != nil {
		return fmt.Errorf("compose link e-mail: %w", err)
	}
	if _, err := s.mailer.Enqueue(ctx, mail.Envelope{From: from.Address, To: []string{owner.Email}}, raw); err != nil {
		return fmt.Errorf("queue link e-mail: %w", err)
	}
	s.logger.Info("vpn link e-mailed", "peer", p.ID, "to", owner.Email)
	return nil
}

// CheckLink reports whether token names a live link, without using it: nil, or EGONE.
func (s *Service) CheckLink(ctx context.Context, token string) error {
	st, _, err := checkLink(ctx, s.db, token, s.clock.Now())
	switch {
	case err != nil:
		return err
	case st == linkUnknown:
		return errLinkGone(errUnknownLink)
	case st == linkGone:
		return errLinkGone(nil)
	}
	return nil
}

// UseLink uses a one-time link: exactly once, however many requests arrive together, it gives the
// device a new key pair and returns the configuration with the private key; every other call gets
// EGONE. The device's previous key stops working.
func (s *Service) UseLink(ctx context.Context, token string) (*Delivery, error) {
	st, peerID, err := checkLink(ctx, s.db, token, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if st == linkUnknown {
		return nil, errLinkGone(errUnknownLink)
	}
	p, err := peerByID(ctx, s.db, peerID, s.clock.Now())
	if err != nil {
		return nil, errLinkGone(err)
	}
	d, err := s.rekey(ctx, p, func(tx *sql.Tx) error {
		ok, err := claimLink(ctx, tx, token, s.clock.Now())
		if err == nil && !ok {
			err = errLinkGone(nil)
		}
		return err
	})
	if err != nil {
		if code := rocca.ErrorCodeOf(err); code == rocca.ECONFLICT || code == rocca.ENOTFOUND {
			return nil, errLinkGone(err) // the device ended meanwhile
		}
		return nil, err
	}
	s.auditLog(ctx, "vpn.link.use", map[string]any{"peer": d.Peer.ID, "name": d.Peer.Name})
	return d, nil
}
