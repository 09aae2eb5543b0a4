package conferencing

import (
	"github.com/pion/webrtc/v4"

	"github.com/rocca-pa/rocca/conferencing/sfu"
)

// member implements sfu.Events: what the SFU has to say to one participant becomes signalling
// messages on its connection. The SFU calls these in order from one goroutine per participant;
// they never block (sendJSON only queues).

func (mem *member) OnLocalDescription(d webrtc.SessionDescription) {
	mem.c.sendJSON(sdpMsg{head: hd(d.Type.String()), SDP: d.SDP})
}

func (mem *member) OnICECandidate(c webrtc.ICECandidateInit) {
	mem.c.sendJSON(candidateMsg{head: hd("candidate"), Candidate: Candidate{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}})
}

func (mem *member) OnTrackAdded(t sfu.TrackInfo) {
	mem.c.sendJSON(mem.trackMsg("track_added", t))
}

func (mem *member) OnTrackRemoved(t sfu.TrackInfo) {
	mem.c.sendJSON(mem.trackMsg("track_removed", t))
}

// trackMsg describes t, with the source its publisher declared (camera when it did not).
func (mem *member) trackMsg(typ string, t sfu.TrackInfo) trackMsg {
	src := SourceCamera
	if t.Kind == "audio" {
		src = SourceMicrophone
	}
	mem.r.mu.Lock()
	if pub := mem.r.members[t.PublisherID]; pub != nil {
		if s, ok := pub.known[t.TrackID]; ok {
			src = s
		}
	}
	mem.r.mu.Unlock()
	return trackMsg{head: hd(typ), Publisher: t.PublisherID, Track: t.TrackID, Mid: t.Mid, Stream: t.StreamID,
		Kind: t.Kind, Source: src, Simulcast: t.Simulcast}
}

func (mem *member) OnSpeaker(id string) {
	mem.r.mu.Lock()
	defer mem.r.mu.Unlock()
	if !mem.ready {
		mem.speaker = id // goes out with "joined"
		return
	}
	mem.c.sendJSON(speakerMsg{head: hd("speaker"), Participant: id})
}

func (mem *member) OnStats(st sfu.Stats) {
	var loss float64
	for _, s := range st.Received {
		loss = max(loss, s.FractionLost)
	}
	mem.r.mu.Lock()
	mem.stats = st
	mem.r.mu.Unlock()
	mem.r.councilMedia(mem, st)
	mem.c.sendJSON(statsMsg{head: hd("stats"), Estimate: st.Estimate, Loss: loss,
		Relay: st.Remote.Type == "relay", Protocol: st.Local.Protocol})
}

func (mem *member) OnState(s webrtc.PeerConnectionState) {
	if s == webrtc.PeerConnectionStateFailed {
		mem.r.log.Info("media connection failed; waiting for the client to restart ICE", "participant", mem.id)
	}
}
