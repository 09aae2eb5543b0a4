package vpn

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the wireguard_peer_* metrics of the live devices, from what the last reconcile
// pass read off the interface (collecting never touches the database or the interface).
// cmd/rocca registers it.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

var (
	peerLabels  = []string{"peer", "name", "user"}
	descRx      = prometheus.NewDesc("wireguard_peer_receive_bytes_total", "Bytes received from the device since the interface started.", peerLabels, nil)
	descTx      = prometheus.NewDesc("wireguard_peer_transmit_bytes_total", "Bytes sent to the device since the interface started.", peerLabels, nil)
	descHS      = prometheus.NewDesc("wireguard_peer_last_handshake_seconds", "Unix time of the device's last handshake (0: never).", peerLabels, nil)
	descOnline  = prometheus.NewDesc("wireguard_peer_online", "1 when the device's last handshake is at most 180 seconds old.", peerLabels, nil)
	descPeers   = prometheus.NewDesc("wireguard_peers", "Live devices on the VPN interface.", nil, nil)
	descDevUp   = prometheus.NewDesc("wireguard_interface_up", "1 when the VPN interface is open.", nil, nil)
	descCollect = []*prometheus.Desc{descRx, descTx, descHS, descOnline, descPeers, descDevUp}
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descCollect {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	up, _, _ := c.s.deviceState()
	ch <- prometheus.MustNewConstMetric(descDevUp, prometheus.GaugeValue, boolFloat(up))
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(len(c.s.stats)))
	for id, st := range c.s.stats {
		labels := []string{strconv.FormatInt(id, 10), st.name, st.owner}
		hs := 0.0
		if !st.handshake.IsZero() {
			hs = float64(st.handshake.Unix())
		}
		ch <- prometheus.MustNewConstMetric(descRx, prometheus.CounterValue, float64(st.rx), labels...)
		ch <- prometheus.MustNewConstMetric(descTx, prometheus.CounterValue, float64(st.tx), labels...)
		ch <- prometheus.MustNewConstMetric(descHS, prometheus.GaugeValue, hs, labels...)
		ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, boolFloat(st.online), labels...)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
