package sfu

import (
	"math"
	"slices"
	"strings"

	"github.com/pion/webrtc/v4"
)

// allocate chooses the simulcast layer of every video track sent to this participant so that
// the sum fits the budget: the bandwidth estimate, capped by SetMaxBitrate and Config.MaxBitrate,
// minus the audio. Every track first gets its lowest live layer (up to the tile-size cap), then
// tracks are raised one layer at a time, round robin, while the budget allows.
func (p *Participant) allocate() {
	budget := math.MaxInt
	if p.bwe != nil {
		budget = p.bwe.GetTargetBitrate()
	}
	if p.maxBitrate > 0 {
		budget = min(budget, p.maxBitrate)
	}
	if m := p.room.s.cfg.MaxBitrate; m > 0 {
		budget = min(budget, m)
	}
	now := p.room.s.now()
	videos := make([]*downTrack, 0, len(p.subs))
	for _, d := range p.subs {
		if d.up.kind == webrtc.RTPCodecTypeAudio {
			budget -= d.up.bitrate()
			continue
		}
		videos = append(videos, d)
	}
	// Map order is random; a stable order keeps choices from flapping between ticks.
	slices.SortFunc(videos, func(a, b *downTrack) int {
		return strings.Compare(a.up.pubID+"\x00"+a.up.id, b.up.pubID+"\x00"+b.up.id)
	})
	rates := make([][maxLayers]int64, len(videos))
	caps := make([]int, len(videos))
	choice := make([]int, len(videos))
	var spend int64
	for i, d := range videos {
		rates[i] = d.up.layerRates(now)
		caps[i] = maxLayers - 1
		if d.prefRID != "" {
			if c := d.up.indexOfRID(d.prefRID); c >= 0 {
				caps[i] = c
			}
		}
		choice[i] = nextLayer(rates[i], -1, maxLayers-1)
		if choice[i] > caps[i] {
			// Only layers above the cap are live: send the lowest rather than nothing.
			caps[i] = choice[i]
		}
		if choice[i] >= 0 {
			spend += rates[i][choice[i]]
		}
	}
	for changed := true; changed; {
		changed = false
		for i := range videos {
			if choice[i] < 0 {
				continue
			}
			next := nextLayer(rates[i], choice[i], caps[i])
			if next < 0 {
				continue
			}
			extra := rates[i][next] - rates[i][choice[i]]
			if spend+extra <= int64(budget) {
				choice[i], spend, changed = next, spend+extra, true
			}
		}
	}
	for i, d := range videos {
		if choice[i] >= 0 {
			d.setTarget(choice[i])
		}
	}
}

// nextLayer returns the first live layer above from and not above limit, or -1.
func nextLayer(rates [maxLayers]int64, from, limit int) int {
	for i := from + 1; i <= limit && i < maxLayers; i++ {
		if rates[i] >= 0 {
			return i
		}
	}
	return -1
}
