// The public stream page: a citizen watches and listens to a public council session, receive-only.
// Protocol: docs/signalling.md, "Public stream". The page asks POST /pubblico/{stream}/join for a
// viewer token, joins over the WebSocket, offers receive-only audio and video, and answers the
// server's offers as tracks come and go. When the stream is not live, the session becomes closed,
// the viewer cap is reached or the connection drops, it says so and tries again by itself, with
// growing pauses, until the stream is back.

import { Signal } from "./signal.js";

const $ = (id) => document.getElementById(id);
const root = $("public");

// Texts from the server's catalog, in the page's language (a JSON block, not executable).
const texts = JSON.parse($("public-i18n")?.textContent || "{}");

// say returns the text for key with each %s or %d replaced by the next argument.
function say(key, ...args) {
  let s = texts[key] ?? key;
  for (const a of args) s = s.replace(/%[sd]/, String(a));
  return s;
}

const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 15000;

// What the page shows for each refusal reason of the join endpoint and the WebSocket.
const STATE_OF = {
  public_not_live: "not_live",
  public_closed: "closed",
  closed_session: "closed",
  not_live: "not_live",
  public_full: "full",
  public_ended: "ended",
  public_not_found: "gone",
};

class Viewer {
  constructor() {
    this.stream = root.dataset.stream;
    this.relay = root.dataset.relay === "true";
    this.signal = null;
    this.pc = null;
    this.tracks = new Map(); // mid -> track_added message
    this.received = new Map(); // mid -> MediaStreamTrack
    this.layers = new Map(); // "publisher/track" -> rid asked for
    this.speaker = "";
    this.retry = 0;
    this.timer = null;
    this.queue = Promise.resolve();
    this.audioBlocked = false;
  }

  init() {
    $("public-unmute").addEventListener("click", () => this.unmute());
    window.addEventListener("online", () => { if (!this.signal) { this.retry = 0; this.start(); } });
    window.addEventListener("pagehide", () => this.signal?.send({ type: "leave" }));
    this.start();
  }

  // start asks for a viewer token and connects, or says why not and tries again later.
  async start() {
    clearTimeout(this.timer);
    let res;
    let data = {};
    try {
      res = await fetch(`/pubblico/${encodeURIComponent(this.stream)}/join`, {
        method: "POST", headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      data = await res.json().catch(() => ({}));
    } catch {
      this.show("reconnecting", say("reconnecting"));
      this.later();
      return;
    }
    if (!res.ok) {
      this.refused(data.error || {});
      return;
    }
    this.connect(data);
  }

  refused(err) {
    const state = STATE_OF[err.reason] || "unavailable";
    this.show(state, err.message || say(state === "gone" ? "error" : state));
    if (state !== "gone") this.later();
  }

  async connect(data) {
    this.show("live", say("connecting"));
    const signal = new Signal(data.ws, (m) => this.enqueue(signal, m), () => this.lost(signal));
    this.signal = signal;
    try {
      await signal.open();
    } catch {
      if (signal === this.signal) this.lost(signal);
      return;
    }
    signal.send({ type: "join", token: data.token });
  }

  send(msg) { this.signal?.send(msg); }

  // enqueue handles messages one at a time, in order: a candidate must not overtake its offer.
  enqueue(signal, msg) {
    this.queue = this.queue.then(() => {
      if (signal === this.signal) return this.handle(msg);
    }).catch((err) => console.warn("signalling message failed", msg.type, err));
  }

  async handle(msg) {
    switch (msg.type) {
      case "joined":
        await this.onJoined(msg);
        break;
      case "offer":
        if (!this.pc) break;
        await this.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
        await this.pc.setLocalDescription();
        this.send({ type: "answer", sdp: this.pc.localDescription.sdp });
        break;
      case "answer":
        if (this.pc?.signalingState === "have-local-offer") await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
        break;
      case "candidate":
        try { await this.pc?.addIceCandidate(msg.candidate); } catch (err) { console.warn("candidate refused", err); }
        break;
      case "track_added":
        this.tracks.set(msg.mid, msg);
        if (this.received.has(msg.mid)) this.attach(msg.mid);
        break;
      case "track_removed":
        this.detach(msg);
        break;
      case "speaker":
        this.speaker = msg.participant || "";
        this.layout();
        break;
      case "ended":
        this.stop();
        this.show(STATE_OF[msg.reason] || "not_live", msg.message || say("not_live"));
        this.later();
        break;
      case "error":
        if (msg.ref === "join") {
          this.stop();
          this.refused(msg);
        } else {
          console.warn("signalling error", msg);
        }
        break;
      default:
        break; // replaced, stats and types this page does not use
    }
  }

  async onJoined(msg) {
    this.retry = 0;
    this.speaker = msg.speaker || "";
    this.show("live", say("waiting_video"));
    const pc = new RTCPeerConnection({
      iceServers: msg.ice_servers,
      iceTransportPolicy: this.relay ? "relay" : "all",
      bundlePolicy: "max-bundle",
    });
    this.pc = pc;
    pc.onicecandidate = (ev) => { if (ev.candidate) this.send({ type: "candidate", candidate: ev.candidate.toJSON() }); };
    pc.ontrack = (ev) => {
      this.received.set(ev.transceiver.mid, ev.track);
      if (this.tracks.has(ev.transceiver.mid)) this.attach(ev.transceiver.mid);
    };
    pc.onconnectionstatechange = () => {
      if (pc === this.pc && pc.connectionState === "failed") this.send({ type: "restart_ice" });
    };
    // Nothing to send: the first offer only opens the connection; the server then offers the
    // session's tracks.
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
    await pc.setLocalDescription();
    this.send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  // attach shows a received track: video in a tile per publisher and source, audio in the sink.
  attach(mid) {
    const info = this.tracks.get(mid);
    const track = this.received.get(mid);
    if (info.kind === "audio") {
      let a = document.querySelector(`#audio-sink audio[data-mid="${CSS.escape(mid)}"]`);
      if (!a) {
        a = document.createElement("audio");
        a.autoplay = true;
        a.dataset.mid = mid;
        a.dataset.participant = info.publisher;
        $("audio-sink").append(a);
      }
      a.srcObject = new MediaStream([track]);
      a.play().catch(() => this.blocked());
    } else {
      const tile = this.tile(info);
      const v = tile.querySelector("video");
      v.srcObject = new MediaStream([track]);
      v.play().catch(() => { /* muted video plays once it has data */ });
      this.show("live", this.audioBlocked ? say("audio_blocked") : say("live"));
    }
    this.layout();
  }

  tile(info) {
    const source = info.source === "screen" ? "screen" : "camera";
    const key = `${info.publisher}/${source}`;
    let tile = [...$("grid").children].find((el) => el.dataset.key === key);
    if (tile) return tile;
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.setAttribute("role", "listitem");
    tile.dataset.key = key;
    tile.dataset.participant = info.publisher;
    tile.dataset.source = source;
    const v = document.createElement("video");
    v.autoplay = true;
    v.muted = true; // the sound plays from the audio sink
    v.playsInline = true;
    const name = info.name || "";
    const cap = document.createElement("figcaption");
    cap.textContent = source === "screen" ? say("screen_of", name) : name;
    tile.append(v, cap);
    $("grid").append(tile);
    return tile;
  }

  detach(msg) {
    const info = this.tracks.get(msg.mid) || msg;
    this.tracks.delete(msg.mid);
    this.received.delete(msg.mid);
    if (info.kind === "audio") {
      document.querySelector(`#audio-sink audio[data-mid="${CSS.escape(msg.mid)}"]`)?.remove();
    } else {
      const key = `${info.publisher}/${info.source === "screen" ? "screen" : "camera"}`;
      [...$("grid").children].find((el) => el.dataset.key === key)?.remove();
    }
    this.layout();
  }

  // layout puts a shared screen, else the active speaker, else the first tile in the large place,
  // and asks the server for small layers for the small tiles.
  layout() {
    const tiles = [...$("grid").children];
    const main = tiles.find((el) => el.dataset.source === "screen" && el.dataset.participant === this.speaker)
      || tiles.find((el) => el.dataset.source === "screen")
      || tiles.find((el) => el.dataset.participant === this.speaker)
      || tiles[0];
    for (const el of tiles) {
      el.classList.toggle("main", el === main);
      const speaking = el.dataset.participant === this.speaker && el.dataset.source === "camera";
      el.classList.toggle("speaking", speaking);
      const name = el.querySelector("figcaption");
      if (name) name.title = speaking ? say("speaking") : "";
    }
    for (const info of this.tracks.values()) {
      if (info.kind !== "video" || !info.simulcast) continue;
      const key = `${info.publisher}/${info.source === "screen" ? "screen" : "camera"}`;
      const rid = main && main.dataset.key === key ? "" : "q";
      const layerKey = `${info.publisher}/${info.track}`;
      if (this.layers.get(layerKey) === rid) continue;
      this.layers.set(layerKey, rid);
      this.send({ type: "layer", publisher: info.publisher, track: info.track, rid });
    }
    if (!tiles.length && this.pc) this.show("live", say("waiting_video"));
  }

  // blocked: the browser refused to play sound before the visitor touched the page.
  blocked() {
    if (this.audioBlocked) return;
    this.audioBlocked = true;
    $("public-unmute").hidden = false;
    this.show("live", say("audio_blocked"));
  }

  unmute() {
    this.audioBlocked = false;
    $("public-unmute").hidden = true;
    for (const a of document.querySelectorAll("#audio-sink audio")) a.play().catch(() => this.blocked());
    if (!this.audioBlocked) this.show("live", say("live"));
  }

  // lost is the WebSocket closing without us asking.
  lost(signal) {
    if (signal !== this.signal) return;
    this.stop();
    this.show("reconnecting", say("reconnecting"));
    this.later();
  }

  later() {
    clearTimeout(this.timer);
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry++;
    this.timer = setTimeout(() => this.start(), delay);
  }

  // stop drops the connection and everything received.
  stop() {
    const s = this.signal;
    this.signal = null;
    s?.close();
    this.pc?.close();
    this.pc = null;
    this.tracks.clear();
    this.received.clear();
    this.layers.clear();
    $("grid").replaceChildren();
    $("audio-sink").replaceChildren();
    $("public-unmute").hidden = true;
    this.audioBlocked = false;
  }

  show(state, text) {
    const box = $("public-status");
    box.dataset.state = state;
    box.classList.toggle("alert-info", state === "live");
    box.classList.toggle("alert-warning", state !== "live");
    $("public-status-text").textContent = text;
  }
}

new Viewer().init();
