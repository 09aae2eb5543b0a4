package sfu

import (
	"time"

	"github.com/pion/webrtc/v4"
)

// sendStats reports the connection, what the participant publishes and what it receives.
func (p *Participant) sendStats() {
	st := Stats{State: p.state}
	if p.bwe != nil {
		st.Estimate = p.bwe.GetTargetBitrate()
	}
	st.Local, st.Remote = p.selectedPair()

	lost := map[uint32]int64{}
	fraction := map[uint32]float64{}
	for _, s := range p.pc.GetStats() {
		switch s := s.(type) {
		case webrtc.InboundRTPStreamStats:
			lost[uint32(s.SSRC)] = int64(s.PacketsLost)
		case webrtc.RemoteInboundRTPStreamStats:
			fraction[uint32(s.SSRC)] = s.FractionLost
		}
	}
	start := time.Now().Add(-time.Duration(p.room.s.now()))
	for _, u := range p.published {
		ps := PublishedStats{TrackID: u.id, Kind: u.kindString(), Bitrate: u.bitrate(), Muted: u.muted.Load()}
		var last int64
		for i := range u.layers {
			if l := u.layers[i].Load(); l != nil {
				if l.rid != "" {
					ps.Layers = append(ps.Layers, l.rid)
				}
				ps.PacketsLost += lost[l.ssrc]
				last = max(last, l.lastPacket.Load())
			}
		}
		if last > 0 {
			ps.LastPacket = start.Add(time.Duration(last))
		}
		st.Published = append(st.Published, ps)
	}
	for _, d := range p.subs {
		d.mu.Lock()
		ssrc := d.ssrc
		d.mu.Unlock()
		st.Received = append(st.Received, SubscribedStats{
			PublisherID: d.up.pubID, TrackID: d.up.id, Kind: d.up.kindString(),
			Layer: d.up.rid(int(d.current.Load())), Bitrate: d.rate, FractionLost: fraction[ssrc],
		})
	}
	p.ev.push(func(e Events) { e.OnStats(st) })
}

// selectedPair returns the two ends of the ICE candidate pair in use, if any.
func (p *Participant) selectedPair() (local, remote Candidate) {
	for _, t := range p.pc.GetTransceivers() {
		var dt *webrtc.DTLSTransport
		if s := t.Sender(); s != nil {
			dt = s.Transport()
		}
		if dt == nil && t.Receiver() != nil {
			dt = t.Receiver().Transport()
		}
		if dt == nil {
			continue
		}
		pair, err := dt.ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			continue
		}
		return candidate(pair.Local), candidate(pair.Remote)
	}
	return Candidate{}, Candidate{}
}

func candidate(c *webrtc.ICECandidate) Candidate {
	if c == nil {
		return Candidate{}
	}
	return Candidate{Type: c.Typ.String(), Protocol: c.Protocol.String(), Address: c.Address, Port: int(c.Port)}
}
