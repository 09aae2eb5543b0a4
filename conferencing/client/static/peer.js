// The media connection to the server: one RTCPeerConnection, the polite side of "perfect
// negotiation" (the server's offers win; ours are sent again afterwards), simulcast for the
// camera, a separate transceiver for the screen.

// Camera simulcast: quarter, half and full resolution, low to high (rids q, h, f).
const CAMERA_ENCODINGS = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export class Peer {
  // send(msg) sends a signalling message; onTrack(mid, track) reports a received track;
  // onState(state) the connection state.
  constructor({ iceServers, relay, send, onTrack, onState }) {
    this.send = send;
    this.pc = new RTCPeerConnection({
      iceServers,
      iceTransportPolicy: relay ? "relay" : "all",
      bundlePolicy: "max-bundle",
    });
    this.makingOffer = false;
    this.offerAgain = false;
    this.closed = false;
    this.audioTx = null;
    this.videoTx = null;
    this.screenTx = null;
    const pc = this.pc;
    pc.onicecandidate = (ev) => {
      if (ev.candidate) this.send({ type: "candidate", candidate: ev.candidate.toJSON() });
    };
    pc.ontrack = (ev) => onTrack(ev.transceiver.mid, ev.track);
    pc.onconnectionstatechange = () => onState(pc.connectionState);
    pc.onnegotiationneeded = () => this.offer();
    pc.onsignalingstatechange = () => {
      // Our offer lost a glare: offer again once the server's offer is answered.
      if (pc.signalingState === "stable" && this.offerAgain) {
        this.offerAgain = false;
        this.offer();
      }
    };
  }

  // start adds the microphone and camera (either may be null: the sender waits for a track).
  start(micTrack, cameraTrack, stream) {
    const streams = stream ? [stream] : [];
    this.audioTx = this.pc.addTransceiver(micTrack || "audio", { direction: "sendonly", streams });
    this.videoTx = this.pc.addTransceiver(cameraTrack || "video", {
      direction: "sendonly", streams, sendEncodings: CAMERA_ENCODINGS,
    });
  }

  async offer() {
    if (this.closed || this.makingOffer) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const desc = this.pc.localDescription;
      // Say what each track is before the server sees it.
      this.send({ type: "tracks", sources: this.sources(desc.sdp) });
      this.send({ type: "offer", sdp: desc.sdp });
    } catch (err) {
      console.warn("offer failed", err);
    } finally {
      this.makingOffer = false;
    }
  }

  // sources maps the track ids the server sees (from each media section's msid) to what they are.
  sources(sdp) {
    const byMid = new Map();
    if (this.audioTx?.mid) byMid.set(this.audioTx.mid, "microphone");
    if (this.videoTx?.mid) byMid.set(this.videoTx.mid, "camera");
    if (this.screenTx?.mid) byMid.set(this.screenTx.mid, "screen");
    const out = {};
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      const mid = /\na=mid:(\S+)/.exec(section)?.[1];
      if (!byMid.has(mid)) continue;
      const msid = /\na=msid:\S+ (\S+)/.exec(section)?.[1];
      out[msid || `mid-${mid}`] = byMid.get(mid);
    }
    return out;
  }

  async handleOffer(sdp) {
    // Polite: applying the server's offer rolls back an offer of ours that crossed it.
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    await this.pc.setLocalDescription();
    this.send({ type: "answer", sdp: this.pc.localDescription.sdp });
  }

  async handleAnswer(sdp) {
    if (this.pc.signalingState !== "have-local-offer") return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  // glare: the server refused our offer because its own crossed it.
  glare() { this.offerAgain = true; }

  async addCandidate(c) {
    try {
      await this.pc.addIceCandidate(c);
    } catch (err) {
      console.warn("candidate refused", err);
    }
  }

  async setMic(track) { if (this.audioTx) await this.audioTx.sender.replaceTrack(track); }
  async setCamera(track) { if (this.videoTx) await this.videoTx.sender.replaceTrack(track); }

  // startScreen sends a screen capture on a transceiver of its own (renegotiates).
  startScreen(track, stream) {
    this.screenTx = this.pc.addTransceiver(track, {
      direction: "sendonly", streams: [stream], sendEncodings: [{ maxBitrate: 2_500_000 }],
    });
  }

  // stopScreen stops that transceiver: the server withdraws the track, and the browser may reuse
  // the media section for the next share.
  stopScreen() {
    if (this.screenTx && !this.closed) this.screenTx.stop();
    this.screenTx = null;
  }

  restartIce() { this.send({ type: "restart_ice" }); }

  async getStats() { return this.pc.getStats(); }

  close() {
    this.closed = true;
    this.pc.close();
  }
}
