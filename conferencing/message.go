package conferencing

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
)

// ProtocolVersion is the "v" of every signalling message (docs/signalling.md).
const ProtocolVersion = 1

// Limits of the signalling protocol.
const (
	MaxMessageSize = 64 << 10 // bytes of one WebSocket message
	maxSDP         = 60 << 10
	maxChat        = 2000 // characters of one chat message
	maxSources     = 8
	maxField       = 256 // ids, tokens, candidate lines
)

// The message types a client may send.
const (
	TypeJoin        = "join"
	TypeOffer       = "offer"
	TypeAnswer      = "answer"
	TypeCandidate   = "candidate"
	TypeRestartICE  = "restart_ice"
	TypeMute        = "mute"
	TypeTracks      = "tracks"
	TypeHand        = "hand"
	TypeChat        = "chat"
	TypeLayer       = "layer"
	TypeLeave       = "leave"
	TypeAdmit       = "admit"
	TypeDeny        = "deny"
	TypeMuteOne     = "mute_participant"
	TypeStopCamera  = "stop_camera"
	TypeMuteAll     = "mute_all"
	TypeAllowUnmute = "allow_unmute"
	TypeRemove      = "remove"
	TypeLock        = "lock"
	TypeEnd         = "end"
	TypeSetRole     = "set_role"
	TypeLowerHand   = "lower_hand"
	TypeCouncil     = "council" // council session actions: see CouncilActions
)

// Message is one message from a client, as DecodeMessage returns it: the fields its type uses are
// set and checked, the others are zero.
type Message struct {
	V         int               `json:"v"`
	Type      string            `json:"type"`
	Token     string            `json:"token,omitempty"`     // join
	SDP       string            `json:"sdp,omitempty"`       // offer, answer
	Candidate *Candidate        `json:"candidate,omitempty"` // candidate
	Audio     *bool             `json:"audio,omitempty"`     // mute: true = microphone muted
	Video     *bool             `json:"video,omitempty"`     // mute: true = camera off
	Raised    *bool             `json:"raised,omitempty"`    // hand
	Text      string            `json:"text,omitempty"`      // chat
	Sources   map[string]string `json:"sources,omitempty"`   // tracks: track id -> camera, microphone, screen
	Publisher string            `json:"publisher,omitempty"` // layer
	Track     string            `json:"track,omitempty"`     // layer
	RID       string            `json:"rid,omitempty"`       // layer: q, h, f or "" for no cap
	Target    string            `json:"target,omitempty"`    // moderator actions: a participant id; council: a member id
	Role      Role              `json:"role,omitempty"`      // set_role
	Locked    *bool             `json:"locked,omitempty"`    // lock
	Allowed   *bool             `json:"allowed,omitempty"`   // allow_unmute

	// council (docs/signalling.md, "Council sessions"); Target and Text serve it too.
	Action  string `json:"action,omitempty"`  // what to do: one of CouncilActions
	Choice  string `json:"choice,omitempty"`  // vote_cast: favorevole, contrario, astenuto
	Item    string `json:"item,omitempty"`    // vote_open: the agenda item voted on
	Secret  bool   `json:"secret,omitempty"`  // vote_open: a secret ballot
	Seconds int    `json:"seconds,omitempty"` // floor_grant: speaking time, 0 for none
	Present *bool  `json:"present,omitempty"` // override
	Note    string `json:"note,omitempty"`    // override: why, for the minutes
	Reason  string `json:"reason,omitempty"`  // suspend
	Public  *bool  `json:"public,omitempty"`  // set_public
}

// Candidate is an ICE candidate as the browser's RTCIceCandidate.toJSON() gives it.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Sources of published tracks.
const (
	SourceCamera     = "camera"
	SourceMicrophone = "microphone"
	SourceScreen     = "screen"
)

// DecodeMessage parses and checks one client message. Every failure is a *rocca.Error whose Key
// names the reason sent back to the client.
func DecodeMessage(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxMessageSize {
		return Message{}, errTooLarge()
	}
	if !utf8.Valid(b) {
		return Message{}, errMalformed()
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, errMalformed()
	}
	if m.V != ProtocolVersion {
		return Message{}, rocca.Localized(rocca.EINVALID, "conf.error.version", "unsupported protocol version")
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// check verifies the fields the message's type needs.
func (m *Message) check() error {
	bad := func(what string) error {
		return rocca.Localized(rocca.EINVALID, "conf.error.bad_message", "bad "+m.Type+" message: "+what)
	}
	switch m.Type {
	case TypeJoin:
		if m.Token == "" || len(m.Token) > maxField {
			return bad("token")
		}
	case TypeOffer, TypeAnswer:
		if m.SDP == "" || len(m.SDP) > maxSDP {
			return bad("sdp")
		}
	case TypeCandidate:
		if m.Candidate == nil || len(m.Candidate.Candidate) > maxField ||
			(m.Candidate.SDPMid != nil && len(*m.Candidate.SDPMid) > maxField) ||
			(m.Candidate.UsernameFragment != nil && len(*m.Candidate.UsernameFragment) > maxField) {
			return bad("candidate")
		}
	case TypeMute:
		if m.Audio == nil && m.Video == nil {
			return bad("audio or video")
		}
	case TypeTracks:
		if len(m.Sources) > maxSources {
			return bad("sources")
		}
		for id, src := range m.Sources {
			if id == "" || len(id) > maxField || (src != SourceCamera && src != SourceMicrophone && src != SourceScreen) {
				return bad("sources")
			}
		}
	case TypeHand:
		if m.Raised == nil {
			return bad("raised")
		}
	case TypeChat:
		m.Text = strings.TrimSpace(m.Text)
		if m.Text == "" || utf8.RuneCountInString(m.Text) > maxChat {
			return rocca.Localized(rocca.EINVALID, "conf.error.chat_invalid", "chat message empty or too long", maxChat)
		}
	case TypeLayer:
		if m.Publisher == "" || m.Track == "" || len(m.Publisher) > maxField || len(m.Track) > maxField ||
			(m.RID != "" && m.RID != "q" && m.RID != "h" && m.RID != "f") {
			return bad("layer")
		}
	case TypeAdmit, TypeDeny, TypeMuteOne, TypeStopCamera, TypeRemove, TypeLowerHand:
		if m.Target == "" || len(m.Target) > maxField {
			return bad("target")
		}
	case TypeSetRole:
		if m.Target == "" || len(m.Target) > maxField || !m.Role.Valid() {
			return bad("target or role")
		}
	case TypeLock:
		if m.Locked == nil {
			return bad("locked")
		}
	case TypeAllowUnmute:
		if m.Allowed == nil {
			return bad("allowed")
		}
	case TypeCouncil:
		return m.checkCouncil()
	case TypeRestartICE, TypeLeave, TypeMuteAll, TypeEnd:
	default:
		return rocca.Localized(rocca.EINVALID, "conf.error.unknown_type", "unknown message type")
	}
	return nil
}

func errMalformed() error {
	return rocca.Localized(rocca.EINVALID, "conf.error.malformed", "message is not valid JSON")
}

func errTooLarge() error {
	return rocca.Localized(rocca.ETOOLARGE, "conf.error.too_large", "message too large", MaxMessageSize/1024)
}
