package conferencing

import (
	"strings"
	"unicode/utf8"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/council"
)

// The actions of a council message ({"type":"council","action":…}) and who may send them.
const (
	ActOpen          = "open"            // chair: open the session, start the record
	ActClose         = "close"           // chair: close and seal
	ActRollCallStart = "roll_call_start" // chair
	ActRollCallClose = "roll_call_close" // chair
	ActConfirm       = "confirm"         // member: "presente"
	ActOverride      = "override"        // secretary: target, present, note
	ActClearOverride = "clear_override"  // secretary: target
	ActFloorRequest  = "floor_request"   // member
	ActFloorWithdraw = "floor_withdraw"  // member
	ActFloorGrant    = "floor_grant"     // chair: target ("" = first in the queue), seconds
	ActFloorRevoke   = "floor_revoke"    // chair
	ActVoteOpen      = "vote_open"       // chair: item, text, secret
	ActVoteClose     = "vote_close"      // chair
	ActVoteCast      = "vote_cast"       // member: choice; secretary: target (in the chamber), choice
	ActSuspend       = "suspend"         // chair: reason
	ActResume        = "resume"          // chair
	ActRecordStart   = "recording_start" // chair
	ActRecordStop    = "recording_stop"  // chair
	ActSetPublic     = "set_public"      // chair: public
)

// Limits of council messages.
const (
	maxVoteText     = 4000 // characters of the text put to the vote
	maxCouncilShort = 500  // characters of an agenda item, a note, a reason
	maxFloorSeconds = 3600
)

// councilActor is who may send each action: the chair, the secretary, or a member of the
// assembly (a seat holder, whatever their role in the room).
type councilActor int

const (
	byChair councilActor = iota
	bySecretary
	byMember
)

var councilActions = map[string]councilActor{
	ActOpen: byChair, ActClose: byChair, ActRollCallStart: byChair, ActRollCallClose: byChair,
	ActFloorGrant: byChair, ActFloorRevoke: byChair, ActVoteOpen: byChair, ActVoteClose: byChair,
	ActSuspend: byChair, ActResume: byChair, ActRecordStart: byChair, ActRecordStop: byChair,
	ActSetPublic: byChair,
	ActOverride:  bySecretary, ActClearOverride: bySecretary,
	ActConfirm: byMember, ActFloorRequest: byMember, ActFloorWithdraw: byMember, ActVoteCast: byMember,
}

// councilActorOf is who may send m: a vote_cast with a target is the Secretary entering the ballot of
// a member in the chamber.
func councilActorOf(m Message) councilActor {
	if m.Action == ActVoteCast && m.Target != "" {
		return bySecretary
	}
	return councilActions[m.Action]
}

// checkCouncil verifies the fields a council action needs and trims its texts.
func (m *Message) checkCouncil() error {
	bad := func(what string) error {
		return rocca.Localized(rocca.EINVALID, "conf.error.bad_message", "bad council "+m.Action+" message: "+what)
	}
	if _, ok := councilActions[m.Action]; !ok {
		return rocca.Localized(rocca.EINVALID, "conf.error.council_action", "unknown council action")
	}
	m.Note, m.Reason = strings.TrimSpace(m.Note), strings.TrimSpace(m.Reason)
	m.Item, m.Text = strings.TrimSpace(m.Item), strings.TrimSpace(m.Text)
	switch m.Action {
	case ActOverride:
		if m.Present == nil {
			return bad("present")
		}
		if m.Note == "" || !shortText(m.Note) {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_note", "an override needs a short note", maxCouncilShort)
		}
		fallthrough
	case ActClearOverride:
		if m.Target == "" || len(m.Target) > maxField {
			return bad("target")
		}
	case ActFloorGrant:
		if len(m.Target) > maxField || m.Seconds < 0 || m.Seconds > maxFloorSeconds {
			return bad("target or seconds")
		}
	case ActVoteOpen:
		if m.Item == "" || m.Text == "" || !shortText(m.Item) ||
			utf8.RuneCountInString(m.Text) > maxVoteText || hasControl(strings.ReplaceAll(m.Text, "\n", "")) {
			return rocca.Localized(rocca.EINVALID, "conf.error.council_vote_text",
				"a vote needs an agenda item and a text", maxVoteText)
		}
	case ActVoteCast:
		if len(m.Target) > maxField {
			return bad("target")
		}
		if !council.Choice(m.Choice).Valid() {
			return rocca.Localized(rocca.EINVALID, "council.error.choice", "choose favorevole, contrario or astenuto")
		}
	case ActSuspend:
		if !shortText(m.Reason) {
			return bad("reason")
		}
	case ActSetPublic:
		if m.Public == nil {
			return bad("public")
		}
	}
	return nil
}

// shortText: at most maxCouncilShort characters on one line.
func shortText(s string) bool {
	return utf8.RuneCountInString(s) <= maxCouncilShort && !hasControl(s)
}
