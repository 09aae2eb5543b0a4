package conferencing

import (
	"context"
	"encoding/json"
	"maps"

	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/conferencing/sfu"
)

// dispatch runs one message of a member who is in the room.
func (r *room) dispatch(mem *member, msg Message) error {
	switch msg.Type {
	case TypeOffer, TypeAnswer, TypeCandidate, TypeRestartICE, TypeLayer:
		return r.mediaMessage(mem, msg)
	case TypeMute:
		return r.setMute(mem, msg.Audio, msg.Video)
	case TypeTracks:
		return r.setTracks(mem, msg.Sources)
	case TypeHand:
		return r.setHand(mem, *msg.Raised)
	case TypeChat:
		return r.sendChat(mem, msg.Text)
	case TypeCouncil:
		return r.councilAction(mem, msg)
	case TypeEnd:
		if r.councilOpenNow() {
			return rocca.Localized(rocca.ECONFLICT, "conf.error.council_end_open", "close the council session first")
		}
	}
	return r.moderate(mem, msg)
}

// mediaMessage hands a negotiation message to the member's SFU participant.
func (r *room) mediaMessage(mem *member, msg Message) error {
	r.mu.Lock()
	sp := mem.sp
	r.mu.Unlock()
	return sfuMessage(sp, msg)
}

// sfuMessage hands a negotiation message to an SFU participant (sp nil: not connected).
func sfuMessage(sp *sfu.Participant, msg Message) error {
	if sp == nil {
		return rocca.Localized(rocca.ECONFLICT, "conf.error.not_joined", "not connected to the media server")
	}
	switch msg.Type {
	case TypeOffer:
		err := sfuCall(func(ctx context.Context) error {
			return sp.HandleOffer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: msg.SDP})
		})
		return negotiationError(err, "conf.error.glare", "offer crossed the server's offer")
	case TypeAnswer:
		err := sfuCall(func(ctx context.Context) error {
			return sp.HandleAnswer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP})
		})
		return negotiationError(err, "conf.error.no_offer", "no offer is waiting for an answer")
	case TypeCandidate:
		c := msg.Candidate
		if c.Candidate == "" {
			return nil
		}
		err := sfuCall(func(ctx context.Context) error {
			return sp.AddICECandidate(ctx, webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid,
				SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment})
		})
		if code := rocca.ErrorCodeOf(err); code == rocca.EINVALID || code == rocca.ETOOLARGE {
			return rocca.Localized(code, "conf.error.candidate_refused", "ICE candidate refused")
		}
		return err
	case TypeRestartICE:
		return sp.RestartICE()
	default: // TypeLayer
		return sp.SetPreferredLayer(msg.Publisher, msg.Track, msg.RID)
	}
}

// negotiationError turns the SFU's refusals into protocol errors: a conflict (the message came at
// the wrong moment) becomes conflictKey, an unusable description sdp_refused.
func negotiationError(err error, conflictKey, conflictMsg string) error {
	switch rocca.ErrorCodeOf(err) {
	case "":
		return nil
	case rocca.ECONFLICT:
		return rocca.Localized(rocca.ECONFLICT, conflictKey, conflictMsg)
	case rocca.EINVALID:
		return rocca.Localized(rocca.EINVALID, "conf.error.sdp_refused", "session description refused")
	case rocca.EGONE:
		return rocca.Localized(rocca.ECONFLICT, "conf.error.not_joined", "not connected to the media server")
	}
	return err
}

// setMute records the member's own microphone and camera state. Muting stops the forwarding at
// the server too; unmuting is refused while the hosts do not allow it.
func (r *room) setMute(mem *member, audio, video *bool) error {
	r.mu.Lock()
	if audio != nil && !*audio && mem.muted && !r.mayUnmuteLocked(mem) {
		r.mu.Unlock()
		return rocca.Localized(rocca.EFORBIDDEN, "conf.error.unmute_forbidden", "the hosts do not allow unmuting")
	}
	if audio != nil {
		mem.muted = *audio
		if !mem.muted {
			mem.forced = false
		}
	}
	var resume []string
	if video != nil {
		mem.camera = !*video
		if mem.camera && mem.cameraStopped {
			mem.cameraStopped, resume = false, mem.cameraTracks()
		}
	}
	sp := mem.sp
	r.mu.Unlock()
	if audio != nil && sp != nil {
		_ = sp.SetMuted(webrtc.RTPCodecTypeAudio, *audio)
	}
	muteTracks(sp, resume, false)
	r.broadcastParticipants()
	return nil
}

// mayUnmuteLocked: moderators always may; the others while the room allows it. In an open council
// session the floor decides (councilMayUnmuteLocked).
func (r *room) mayUnmuteLocked(mem *member) bool {
	if applies, may := r.councilMayUnmuteLocked(mem); applies {
		return may
	}
	return r.unmuteAllowed || mem.role.Can(PermModerate)
}

// setTracks records what each of the member's tracks is (camera, microphone, screen), so the
// others can lay them out.
func (r *room) setTracks(mem *member, sources map[string]string) error {
	r.mu.Lock()
	mem.tracks = maps.Clone(sources)
	if mem.tracks == nil {
		mem.tracks = map[string]string{}
	}
	for id, src := range sources {
		if len(mem.known) < 64 {
			mem.known[id] = src
		}
	}
	var stopped []string
	if mem.cameraStopped { // a camera published anew stays off until the member turns it on
		stopped = mem.cameraTracks()
	}
	sp := mem.sp
	r.mu.Unlock()
	muteTracks(sp, stopped, true)
	r.broadcastParticipants()
	return nil
}

func (r *room) setHand(mem *member, raised bool) error {
	r.mu.Lock()
	mem.hand = raised
	r.mu.Unlock()
	r.broadcastParticipants()
	return nil
}

// sendChat delivers a chat message to every member and keeps it for those who join later.
func (r *room) sendChat(mem *member, text string) error {
	r.mu.Lock()
	if !mem.role.Can(PermChat) {
		r.mu.Unlock()
		return errForbidden()
	}
	v := chatView{From: mem.id, Name: mem.name, Text: text, At: r.s.now().UnixMilli()}
	r.chat = append(r.chat, v)
	if len(r.chat) > chatHistory {
		r.chat = r.chat[len(r.chat)-chatHistory:]
	}
	to := r.membersLocked(0)
	r.mu.Unlock()
	b, _ := json.Marshal(chatMsg{head: hd("chat"), chatView: v})
	for _, m := range to {
		m.c.sendRaw(b)
	}
	return nil
}

func errForbidden() error {
	return rocca.Localized(rocca.EFORBIDDEN, "conf.error.forbidden", "not allowed for your role")
}

var _ sfu.Events = (*member)(nil)
