package vpn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	dev := e.start()
	d := e.add(e.anna, "portatile")
	e.add(e.bruno, "tablet")
	dev.handshake(d.Peer.PublicKey, e.clock.Now(), 1234, 5678, "203.0.113.7:40000")
	e.svc.Reconcile(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.svc.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			name := mf.GetName()
			for _, l := range m.Label {
				if l.GetName() == "user" {
					name += "{" + l.GetValue() + "}"
				}
			}
			got[name] = v
		}
	}
	for name, want := range map[string]float64{
		"wireguard_peers":        2,
		"wireguard_interface_up": 1,
		"wireguard_peer_receive_bytes_total{anna@comune.example.it}":    1234,
		"wireguard_peer_transmit_bytes_total{anna@comune.example.it}":   5678,
		"wireguard_peer_online{anna@comune.example.it}":                 1,
		"wireguard_peer_online{bruno@comune.example.it}":                0,
		"wireguard_peer_last_handshake_seconds{anna@comune.example.it}": float64(e.clock.Now().Unix()),
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

// BenchmarkCollect measures gathering the wireguard_peer_* metrics of 5,000 devices (20,000
// series), what every Prometheus scrape costs the server before the text encoding.
func BenchmarkCollect(b *testing.B) {
	s := &Service{stats: map[int64]peerStats{}}
	for i := range 5000 {
		s.stats[int64(i+1)] = peerStats{name: fmt.Sprintf("dispositivo-%05d", i), owner: fmt.Sprintf("dip%03d@comune.example.it", i%250),
			handshake: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), rx: 123456, tx: 654321, online: i%2 == 0}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
