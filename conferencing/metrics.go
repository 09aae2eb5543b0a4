package conferencing

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the live meetings as Prometheus metrics; cmd/rocca registers it.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

var (
	roomsDesc = prometheus.NewDesc("rocca_meetings_rooms", "Meetings with somebody connected.", nil, nil)
	partsDesc = prometheus.NewDesc("rocca_meetings_participants",
		"People connected to meetings, by place (room or lobby).", []string{"place"}, nil)
	bitrateDesc = prometheus.NewDesc("rocca_meetings_forwarded_bitrate_bits_per_second",
		"Media bitrate the SFU forwards to participants.", nil, nil)
	lossDesc = prometheus.NewDesc("rocca_meetings_packet_loss_ratio",
		"Mean fraction of packets lost on the way to participants, as their receivers report it.", nil, nil)
	lostDesc = prometheus.NewDesc("rocca_meetings_published_packets_lost",
		"Packets lost on the way from participants to the SFU, for the tracks being published.", nil, nil)
	relayDesc = prometheus.NewDesc("rocca_meetings_turn_relayed_participants",
		"Participants whose media goes through the embedded TURN server (one TURN allocation each).", nil, nil)
	allocDesc = prometheus.NewDesc("rocca_meetings_turn_allocations",
		"Allocations open on the embedded TURN server.", nil, nil)
	viewersDesc = prometheus.NewDesc("rocca_meetings_public_viewers",
		"Citizens watching public streams of council sessions.", nil, nil)
)

// turnCounter is what an SFU that counts its TURN allocations offers; the metric appears when the
// SFU does.
type turnCounter interface{ TURNAllocations() int }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{roomsDesc, partsDesc, bitrateDesc, lossDesc, lostDesc, relayDesc, allocDesc, viewersDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	var inRoom, inLobby, relayed, bitrate, lost, lossN, viewers float64
	var loss float64
	for _, r := range rooms {
		r.mu.Lock()
		inRoom += float64(len(r.members))
		inLobby += float64(len(r.lobby))
		viewers += float64(len(r.public.viewers))
		for _, m := range r.members {
			if m.stats.Remote.Type == "relay" {
				relayed++
			}
			for _, sub := range m.stats.Received {
				bitrate += float64(sub.Bitrate)
				loss += sub.FractionLost
				lossN++
			}
			for _, pub := range m.stats.Published {
				lost += float64(pub.PacketsLost)
			}
		}
		r.mu.Unlock()
	}
	if lossN > 0 {
		loss /= lossN
	}
	ch <- prometheus.MustNewConstMetric(roomsDesc, prometheus.GaugeValue, float64(len(rooms)))
	ch <- prometheus.MustNewConstMetric(partsDesc, prometheus.GaugeValue, inRoom, "room")
	ch <- prometheus.MustNewConstMetric(partsDesc, prometheus.GaugeValue, inLobby, "lobby")
	ch <- prometheus.MustNewConstMetric(bitrateDesc, prometheus.GaugeValue, bitrate)
	ch <- prometheus.MustNewConstMetric(lossDesc, prometheus.GaugeValue, loss)
	ch <- prometheus.MustNewConstMetric(lostDesc, prometheus.GaugeValue, lost)
	ch <- prometheus.MustNewConstMetric(relayDesc, prometheus.GaugeValue, relayed)
	ch <- prometheus.MustNewConstMetric(viewersDesc, prometheus.GaugeValue, viewers)
	if tc, ok := any(s.media).(turnCounter); ok {
		ch <- prometheus.MustNewConstMetric(allocDesc, prometheus.GaugeValue, float64(tc.TURNAllocations()))
	}
}
