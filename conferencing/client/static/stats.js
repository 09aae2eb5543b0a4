// Connection quality from the browser's own statistics: round-trip time of the selected candidate
// pair and the share of packets lost on what we receive, over the last interval.

export class Quality {
  constructor() { this.prev = new Map(); }

  // measure returns "good", "fair", "poor" or "unknown" from an RTCStatsReport.
  measure(report) {
    let rtt = null;
    let received = 0;
    let lost = 0;
    for (const s of report.values()) {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && s.currentRoundTripTime !== undefined) {
        rtt = s.currentRoundTripTime;
      }
      if (s.type === "inbound-rtp") {
        const prev = this.prev.get(s.id) || { packetsReceived: 0, packetsLost: 0 };
        received += Math.max(0, (s.packetsReceived || 0) - prev.packetsReceived);
        lost += Math.max(0, (s.packetsLost || 0) - prev.packetsLost);
        this.prev.set(s.id, { packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0 });
      }
    }
    if (rtt === null) return "unknown";
    const loss = received + lost > 0 ? lost / (received + lost) : 0;
    if (rtt > 0.5 || loss > 0.08) return "poor";
    if (rtt > 0.2 || loss > 0.02) return "fair";
    return "good";
  }
}
