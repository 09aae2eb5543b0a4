package conferencing

import "github.com/rocca-pa/rocca/conferencing/council"

// Messages the server sends (docs/signalling.md). Each embeds head, so "v" and "type" come first.

type head struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

func hd(typ string) head { return head{V: ProtocolVersion, Type: typ} }

// participantView is a participant as the others see it.
type participantView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Role       Role              `json:"role"`
	Muted      bool              `json:"muted"`       // microphone off
	Camera     bool              `json:"camera"`      // camera on
	Screen     bool              `json:"screen"`      // sharing the screen
	Hand       bool              `json:"hand"`        // hand raised
	ForcedMute bool              `json:"forced_mute"` // muted by a host
	Tracks     map[string]string `json:"tracks"`      // published track id -> camera, microphone, screen
}

type lobbyView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Since int64  `json:"since"` // Unix milliseconds
}

type roomView struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Locked        bool   `json:"locked"`
	UnmuteAllowed bool   `json:"unmute_allowed"`
	Council       bool   `json:"council"`
}

type chatView struct {
	From string `json:"from"`
	Name string `json:"name"`
	Text string `json:"text"`
	At   int64  `json:"at"` // Unix milliseconds
}

type joinedMsg struct {
	head
	Self         participantView   `json:"self"`
	Room         roomView          `json:"room"`
	Participants []participantView `json:"participants"`
	Lobby        []lobbyView       `json:"lobby,omitempty"` // moderators only
	Chat         []chatView        `json:"chat"`
	Speaker      string            `json:"speaker,omitempty"` // the active speaker, if any
	ICEServers   []ICEServer       `json:"ice_servers"`
	Token        string            `json:"token"`
}

type lobbyMsg struct {
	head
	Room roomView `json:"room"`
}

type participantsMsg struct {
	head
	Participants []participantView `json:"participants"`
}

type lobbyListMsg struct {
	head
	Waiting []lobbyView `json:"waiting"`
}

type roomMsg struct {
	head
	Room roomView `json:"room"`
}

type sdpMsg struct {
	head
	SDP string `json:"sdp"`
}

type candidateMsg struct {
	head
	Candidate Candidate `json:"candidate"`
}

type trackMsg struct {
	head
	Publisher string `json:"publisher"`
	Track     string `json:"track"`
	Mid       string `json:"mid"`
	Stream    string `json:"stream"`
	Kind      string `json:"kind"`
	Source    string `json:"source"`
	Simulcast bool   `json:"simulcast"`
}

type speakerMsg struct {
	head
	Participant string `json:"participant"`
}

type chatMsg struct {
	head
	chatView
}

type byMsg struct {
	head
	By string `json:"by,omitempty"` // name of the host who acted
}

type tokenMsg struct {
	head
	Token string `json:"token"`
}

type statsMsg struct {
	head
	Estimate int     `json:"estimate"` // bit/s the server may send to this client
	Loss     float64 `json:"loss"`     // fraction of packets lost towards this client, 0..1
	Relay    bool    `json:"relay"`    // media goes through TURN
	Protocol string  `json:"protocol"` // udp or tcp
}

type errorMsg struct {
	head
	Code    string `json:"code"`          // rocca error code: invalid, forbidden, ...
	Reason  string `json:"reason"`        // machine-readable cause, e.g. token_expired
	Message string `json:"message"`       // for people, in the participant's language
	Ref     string `json:"ref,omitempty"` // type of the message that caused it
}

// councilStateMsg is the council session as one recipient sees it (council_state.go).
type councilStateMsg struct {
	head
	State councilStateView `json:"state"`
}

// councilStateView is council.State (members, quorum, roll call, floor, vote, suspended, public,
// recording, closed) plus what the room adds.
type councilStateView struct {
	council.State
	Configured    bool                 `json:"configured"`        // the meeting has a council setup
	Opened        bool                 `json:"opened"`            // the session is open
	Me            string               `json:"me"`                // the recipient's member id, "" if not a member
	Role          string               `json:"role"`              // chair, secretary, member, other
	CanVote       bool                 `json:"can_vote"`          // a vote is open and the recipient may still vote
	Voted         bool                 `json:"voted"`             // the recipient voted in the open vote
	Agenda        []council.AgendaItem `json:"agenda"`            // the order of the day
	RecordClosed  bool                 `json:"recording_closed"`  // recording allowed in a closed session
	LastResult    *voteResultView      `json:"last_result"`       // the last vote closed, or null
	LastRollCall  *council.RollCall    `json:"last_roll_call"`    // the last roll call closed, or null
	FloorDeadline string               `json:"floor_deadline"`    // RFC 3339: the floor is taken back then; "" none
	Minutes       *minutesLinks        `json:"minutes,omitempty"` // the minutes draft, to the chair and the secretary once closed
	Chamber       []chamberVote        `json:"chamber,omitempty"` // to the secretary while a vote is open: the members in the chamber
}

// chamberVote is a member marked present in the chamber, as the Secretary who enters their
// ballot sees them during a vote: whether they may still vote, whether they voted. Never what.
type chamberVote struct {
	ID      string `json:"id"`
	CanVote bool   `json:"can_vote"`
	Voted   bool   `json:"voted"`
}

// minutesLinks are the addresses of a closed session's minutes draft.
type minutesLinks struct {
	HTML string `json:"html"`
	ODT  string `json:"odt"`
}

// voteResultView is a closed vote as announced to everybody: totals, who voted, and for open
// votes each choice's voters. Never the ballots of a secret vote.
type voteResultView struct {
	N        int                                 `json:"n"`
	Item     string                              `json:"item"`
	Secret   bool                                `json:"secret"`
	Eligible int                                 `json:"eligible"`
	Totals   council.Totals                      `json:"totals"`
	Voters   []council.Member                    `json:"voters"`
	ByName   map[council.Choice][]council.Member `json:"by_name,omitempty"` // open votes
}

// councilAlertMsg warns the chair and the secretary (quorum lost).
type councilAlertMsg struct {
	head
	Key  string `json:"key"`  // catalog key, for programs
	Text string `json:"text"` // in the recipient's language
}
