package conferencing

import (
	"fmt"
	"net/mail"
	"net/url"
	"path/filepath"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxParticipants = 150
	DefaultTokenTTL        = 15 * time.Minute
	DefaultTURNTTL         = 12 * time.Hour
	DefaultPublicViewers   = 200
)

// Config is what the meetings part needs from the configuration file.
type Config struct {
	// PublicURL is the address people open ([server] public_url), the base of join links in
	// invitations and in `rocca meeting create`. Empty: links are paths ("/meetings/…").
	PublicURL string
	// KeyFile holds the key that signs join tokens: <data_dir>/keys/conf-token.key, created 0600.
	KeyFile string
	// Municipality names the organiser in invitations.
	Municipality string
	// Language of invitations sent to addresses without an account ("it" or "en").
	Language string
	// MailFrom is the From of invitations ([mail] from); empty disables invitations.
	MailFrom string
	// MaxParticipants caps the people in one meeting, lobby included (default 150: a full council
	// with staff, or a large staff meeting).
	MaxParticipants int
	// TokenTTL is how long a join token is valid; connected clients get a fresh one regularly.
	TokenTTL time.Duration
	// TURNTTL is how long the TURN credentials handed out at join are valid.
	TURNTTL time.Duration
	// PublicViewers caps the citizens watching one meeting's public stream ([meetings]
	// public_viewers, default 200); each costs the server an upload of every published track.
	PublicViewers int
	// CouncilDir holds the records of council sessions (<data_dir>/council, created 0700).
	// Empty: "council" beside the directory of KeyFile (KeyFile is <data_dir>/keys/…).
	CouncilDir string
	// CouncilKeyFile is the Ed25519 key that seals council records (council.KeyPath(data_dir)).
	// Empty: council-ed25519.key beside KeyFile.
	CouncilKeyFile string
}

// Validate reports the first problem of c and fills in defaults.
func (c *Config) Validate() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("meetings: public url %q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	if c.KeyFile == "" {
		return fmt.Errorf("meetings: no key file for join tokens")
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return fmt.Errorf("meetings: mail from %q: %w", c.MailFrom, err)
		}
	}
	switch c.Language {
	case "":
		c.Language = "it"
	case "it", "en":
	default:
		return fmt.Errorf("meetings: language %q: want it or en", c.Language)
	}
	if c.MaxParticipants < 0 || c.TokenTTL < 0 || c.TURNTTL < 0 || c.PublicViewers < 0 {
		return fmt.Errorf("meetings: negative limit")
	}
	if c.MaxParticipants == 0 {
		c.MaxParticipants = DefaultMaxParticipants
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.TokenTTL < time.Minute {
		return fmt.Errorf("meetings: token ttl %s too short: at least a minute", c.TokenTTL)
	}
	if c.TURNTTL == 0 {
		c.TURNTTL = DefaultTURNTTL
	}
	if c.PublicViewers == 0 {
		c.PublicViewers = DefaultPublicViewers
	}
	if c.CouncilDir == "" {
		c.CouncilDir = filepath.Join(filepath.Dir(filepath.Dir(c.KeyFile)), "council")
	}
	if c.CouncilKeyFile == "" {
		c.CouncilKeyFile = filepath.Join(filepath.Dir(c.KeyFile), "council-ed25519.key")
	}
	return nil
}
