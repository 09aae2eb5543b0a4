// The meeting page: the join page (preview and device choice), the lobby, the room, and the
// reconnection logic. Protocol: docs/signalling.md.
//
// Reconnection: when the media path breaks (network change) the page asks the server for an ICE
// restart; when that does not help within a while, or the signalling connection itself drops
// (server restart, lost network), it joins again with its latest token, with growing pauses, and
// tells the user what is happening all along.

import { t } from "./i18n.js";
import { Signal } from "./signal.js";
import { Peer } from "./peer.js";
import { UI } from "./ui.js";
import { Quality } from "./stats.js";
import { Council } from "./council.js";

const $ = (id) => document.getElementById(id);
const root = $("meeting");

const ICE_GRACE_MS = 3000; // "disconnected" this long: restart ICE
const ICE_GIVE_UP_MS = 15000; // not connected this long after a restart: join again
const MAX_BACKOFF_MS = 10000;

class Meeting {
  constructor() {
    this.id = root.dataset.meeting;
    this.signedIn = root.dataset.signedIn === "true";
    this.relay = root.dataset.relay === "true";
    this.ui = new UI({
      admit: (id) => this.send({ type: "admit", target: id }),
      deny: (id) => this.send({ type: "deny", target: id }),
      muteOne: (id) => this.send({ type: "mute_participant", target: id }),
      stopCamera: (id) => this.send({ type: "stop_camera", target: id }),
      remove: (id) => this.send({ type: "remove", target: id }),
      makeHost: (id) => this.send({ type: "set_role", target: id, role: "host" }),
      lowerHand: (id) => this.send({ type: "lower_hand", target: id }),
      pinChanged: (sizes) => this.preferLayers(sizes),
    });
    this.local = { stream: null, mic: null, camera: null, screen: null, screenStream: null };
    this.muted = false;
    this.cameraOff = false;
    this.hand = false;
    this.token = null;
    this.wsPath = null;
    this.selfId = null;
    this.signal = null;
    this.peer = null;
    this.tracks = new Map(); // mid -> track_added message
    this.received = new Map(); // mid -> MediaStreamTrack, for tracks announced late
    this.layers = new Map(); // "publisher/track" -> rid asked for
    this.queue = Promise.resolve();
    this.state = "prejoin"; // prejoin, joining, lobby, room, reconnecting, gone
    this.retry = 0;
    this.retryTimer = null;
    this.iceTimer = null;
    this.giveUpTimer = null;
    this.restarting = false;
    this.renewToken = false;
    this.quality = new Quality();
    this.statsTimer = null;
    this.council = new Council({ send: (m) => this.send(m), announce: (s) => this.ui.announce(s) });
  }

  // Join page.

  async init() {
    this.bindToolbar();
    $("join-form").addEventListener("submit", (ev) => { ev.preventDefault(); this.join(); });
    $("lobby-leave").addEventListener("click", () => this.leave());
    $("camera-select").addEventListener("change", () => this.preview());
    $("mic-select").addEventListener("change", () => this.preview());
    window.addEventListener("online", () => this.networkBack());
    window.addEventListener("pagehide", () => this.signal?.send({ type: "leave" }));
    $("join-name")?.focus();
    await this.preview();
  }

  async preview() {
    const cam = $("camera-select").value;
    const mic = $("mic-select").value;
    this.stopLocal();
    const note = $("preview-note");
    note.hidden = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { deviceId: mic ? { exact: mic } : undefined, echoCancellation: true, noiseSuppression: true },
        video: cameraConstraints(cam),
      });
      this.local.stream = stream;
      this.local.mic = stream.getAudioTracks()[0] || null;
      this.local.camera = stream.getVideoTracks()[0] || null;
      $("preview").srcObject = stream;
    } catch (err) {
      console.warn("camera or microphone unavailable", err);
      note.textContent = t("media_denied");
      note.hidden = false;
      this.local.stream = new MediaStream();
    }
    await this.listDevices();
  }

  async listDevices() {
    let devices = [];
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { /* no devices */ }
    const fill = (select, kind, current) => {
      const list = devices.filter((d) => d.kind === kind);
      select.replaceChildren();
      if (!list.length) select.append(new Option(t("no_device"), ""));
      list.forEach((d, i) => select.append(new Option(d.label || `${kind} ${i + 1}`, d.deviceId)));
      if (current) select.value = current;
    };
    fill($("camera-select"), "videoinput", this.local.camera?.getSettings().deviceId);
    fill($("mic-select"), "audioinput", this.local.mic?.getSettings().deviceId);
  }

  stopLocal() {
    for (const tr of [this.local.mic, this.local.camera]) tr?.stop();
    this.local.mic = null;
    this.local.camera = null;
  }

  async join() {
    const button = $("join-button");
    const error = $("join-error");
    error.textContent = "";
    button.disabled = true;
    button.textContent = t("joining");
    try {
      await this.requestToken({ name: $("join-name")?.value || "", passcode: $("join-passcode")?.value || "" });
    } catch (err) {
      error.textContent = err.message || t("error");
      button.disabled = false;
      button.textContent = t("join");
      return;
    }
    this.muted = $("start-muted").checked;
    this.cameraOff = $("start-camera-off").checked;
    if (this.local.mic) this.local.mic.enabled = !this.muted;
    if (this.cameraOff && this.local.camera) {
      this.local.camera.stop();
      this.local.camera = null;
    }
    $("preview").srcObject = null;
    this.state = "joining";
    this.connect();
  }

  // requestToken asks the server for a place in the meeting and a join token.
  async requestToken(body) {
    const res = await fetch(`/meetings/${encodeURIComponent(this.id)}/join`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(this.signedIn ? {} : body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) throw new Error(data.error?.message || t("error"));
    this.token = data.token;
    this.wsPath = data.ws;
    this.selfId = data.participant;
  }

  // Signalling.

  async connect() {
    clearTimeout(this.retryTimer);
    if (this.state === "gone") return;
    if (this.renewToken) {
      try {
        await this.requestToken({});
        this.renewToken = false;
      } catch (err) {
        this.end(err.message || t("expired"));
        return;
      }
    }
    const signal = new Signal(this.wsPath, (m) => this.enqueue(signal, m), () => this.lost(signal));
    this.signal = signal;
    try {
      await signal.open();
    } catch {
      if (signal === this.signal) this.scheduleReconnect();
      return;
    }
    signal.send({ type: "join", token: this.token, audio: this.muted, video: this.cameraOff || !this.local.camera });
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
      case "lobby":
        this.state = "lobby";
        this.ui.show("lobby");
        break;
      case "joined":
        await this.onJoined(msg);
        break;
      case "offer":
        await this.peer?.handleOffer(msg.sdp);
        break;
      case "answer":
        await this.peer?.handleAnswer(msg.sdp);
        break;
      case "candidate":
        await this.peer?.addCandidate(msg.candidate);
        break;
      case "track_added":
        this.tracks.set(msg.mid, msg);
        if (this.received.has(msg.mid)) this.showTrack(msg.mid, this.received.get(msg.mid));
        break;
      case "track_removed":
        this.onTrackRemoved(msg);
        break;
      case "participants":
        this.ui.setParticipants(msg.participants, this.selfId);
        this.syncSelf(msg.participants);
        break;
      case "lobby_list":
        this.ui.setLobby(msg.waiting);
        break;
      case "room":
        this.ui.setRoom(msg.room);
        this.council.enable(msg.room.council);
        break;
      case "council_state":
        this.council.update(msg.state);
        break;
      case "council_alert":
        this.council.alert(msg);
        break;
      case "speaker":
        this.ui.setSpeaker(msg.participant);
        break;
      case "chat":
        this.ui.addChat(msg, msg.from === this.selfId);
        break;
      case "muted":
        this.setMuted(true, false);
        this.ui.announce(t("muted_by", msg.by || ""));
        this.ui.status(t("muted_by", msg.by || ""), "warning");
        break;
      case "camera_stopped":
        this.setCamera(false);
        this.ui.announce(t("camera_stopped_by", msg.by || ""));
        this.ui.status(t("camera_stopped_by", msg.by || ""), "warning");
        break;
      case "token":
        this.token = msg.token;
        break;
      case "reconnect":
        this.restarting = true;
        break;
      case "denied":
        this.end(t("denied"));
        break;
      case "removed":
        this.end(t("removed", msg.by || ""));
        break;
      case "ended":
        this.end(t("ended"));
        break;
      case "replaced":
        this.end(t("replaced"));
        break;
      case "error":
        this.onError(msg);
        break;
      default:
        break; // stats and types this page does not use
    }
  }

  async onJoined(msg) {
    const back = this.state === "reconnecting";
    this.state = "room";
    this.retry = 0;
    this.restarting = false;
    this.token = msg.token;
    this.selfId = msg.self.id;
    this.ui.show("room");
    this.ui.setParticipants(msg.participants, this.selfId);
    this.ui.setVideo(this.selfId, "camera", this.cameraOff ? null : this.local.camera);
    if (this.local.screen) this.ui.setVideo(this.selfId, "screen", this.local.screen);
    this.ui.setRoom(msg.room);
    this.council.enable(msg.room.council);
    this.ui.setLobby(msg.lobby || []);
    if (msg.speaker) this.ui.setSpeaker(msg.speaker);
    $("chat-log").replaceChildren();
    for (const c of msg.chat || []) this.ui.addChat(c, c.from === this.selfId);
    this.syncSelf(msg.participants);
    this.updateToolbar();
    this.peer?.close();
    this.tracks.clear();
    this.received.clear();
    this.layers.clear();
    this.peer = new Peer({
      iceServers: msg.ice_servers,
      relay: this.relay,
      send: (m) => this.send(m),
      onTrack: (mid, track) => this.onTrack(mid, track),
      onState: (s) => this.onPeerState(s),
    });
    this.peer.start(this.local.mic, this.cameraOff ? null : this.local.camera, this.local.stream);
    if (this.local.screen) this.peer.startScreen(this.local.screen, this.local.screenStream);
    this.ui.status(back ? t("status_connecting") : "", "info");
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => this.measure(), 2000);
  }

  onTrack(mid, track) {
    this.received.set(mid, track);
    if (this.tracks.has(mid)) this.showTrack(mid, track);
  }

  showTrack(mid, track) {
    const info = this.tracks.get(mid);
    if (info.kind === "audio") this.ui.setAudio(info.publisher, track);
    else this.ui.setVideo(info.publisher, info.source === "screen" ? "screen" : "camera", track);
  }

  onTrackRemoved(msg) {
    const info = this.tracks.get(msg.mid) || msg; // what we were told when it came
    this.tracks.delete(msg.mid);
    this.received.delete(msg.mid);
    if (info.kind === "audio") this.ui.setAudio(info.publisher, null);
    else if (info.source === "screen") this.ui.removeTile(info.publisher, "screen");
    else this.ui.setVideo(info.publisher, "camera", null);
  }

  onError(msg) {
    switch (msg.reason) {
      case "glare":
        this.peer?.glare();
        return;
      case "unmute_forbidden":
        this.setMuted(true, false);
        this.ui.status(msg.message, "warning");
        this.ui.announce(msg.message);
        return;
      case "token_expired":
        if (this.signedIn) {
          this.renewToken = true; // the connection closes; the next attempt gets a new token
        } else {
          this.end(t("expired"));
        }
        return;
      case "restarting":
      case "media":
        this.restarting = msg.reason === "restarting";
        return; // the server closes the connection; we try again
    }
    if (this.council.error(msg)) return; // shown in the council panel
    if (msg.ref === "join") {
      this.end(msg.message); // removed, denied, ended, locked, bad token: joining again cannot help
      return;
    }
    console.warn("signalling error", msg);
    this.ui.announce(msg.message);
  }

  // lost is the signalling connection closing without us asking.
  lost(signal) {
    if (signal !== this.signal || this.state === "gone" || this.state === "prejoin") return;
    this.dropMedia();
    this.state = "reconnecting";
    this.ui.status(this.restarting ? t("status_restarting") : t("status_reconnecting"), "warning");
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.state === "gone") return;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.retry) * (0.75 + Math.random() / 2);
    this.retry++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // rejoin gives up on the current connections and joins again at once.
  rejoin() {
    const old = this.signal;
    this.signal = null;
    old?.close();
    this.dropMedia();
    this.state = "reconnecting";
    this.ui.status(t("status_reconnecting"), "warning");
    this.connect();
  }

  networkBack() {
    if (this.state === "reconnecting") {
      this.retry = 0;
      this.connect();
    } else if (this.state === "room") {
      this.peer?.restartIce();
    }
  }

  dropMedia() {
    clearTimeout(this.iceTimer);
    clearTimeout(this.giveUpTimer);
    clearInterval(this.statsTimer);
    this.peer?.close();
    this.peer = null;
    this.tracks.clear();
    this.received.clear();
    this.ui.clearRemote();
    this.ui.setQuality("unknown");
  }

  onPeerState(state) {
    switch (state) {
      case "connected":
        clearTimeout(this.iceTimer);
        clearTimeout(this.giveUpTimer);
        this.iceTimer = this.giveUpTimer = null;
        if ($("status").dataset.kind === "warning" || $("status").textContent === t("status_connecting")) {
          this.ui.status(t("status_back"), "info");
          setTimeout(() => { if (this.state === "room" && $("status").textContent === t("status_back")) this.ui.status(""); }, 4000);
        }
        break;
      case "disconnected":
        clearTimeout(this.iceTimer);
        this.iceTimer = setTimeout(() => this.restartIce(), ICE_GRACE_MS);
        break;
      case "failed":
        this.restartIce();
        break;
    }
  }

  restartIce() {
    if (!this.peer || this.peer.pc.connectionState === "connected") return;
    this.ui.status(t("status_ice"), "warning");
    this.peer.restartIce();
    if (!this.giveUpTimer) {
      this.giveUpTimer = setTimeout(() => {
        this.giveUpTimer = null;
        if (this.peer && this.peer.pc.connectionState !== "connected") this.rejoin();
      }, ICE_GIVE_UP_MS);
    }
  }

  async measure() {
    if (!this.peer) return;
    try {
      this.ui.setQuality(this.quality.measure(await this.peer.getStats()));
    } catch { /* closed meanwhile */ }
  }

  // preferLayers asks for the simulcast layer that fits each remote video's tile.
  preferLayers(sizes) {
    for (const info of this.tracks.values()) {
      if (info.kind !== "video" || !info.simulcast) continue;
      const size = sizes.get(`${info.publisher}/${info.source === "screen" ? "screen" : "camera"}`);
      const rid = size === "small" ? "q" : "";
      const key = `${info.publisher}/${info.track}`;
      if (this.layers.get(key) === rid) continue;
      this.layers.set(key, rid);
      this.send({ type: "layer", publisher: info.publisher, track: info.track, rid });
    }
  }

  // Own state.

  syncSelf(list) {
    const me = list.find((p) => p.id === this.selfId);
    if (me && me.muted && !this.muted) this.setMuted(true, false);
  }

  setMuted(muted, tell) {
    this.muted = muted;
    if (this.local.mic) this.local.mic.enabled = !muted;
    if (tell) this.send({ type: "mute", audio: muted });
    this.updateToolbar();
  }

  async setCamera(on) {
    if (on) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints($("camera-select").value) });
        this.local.camera = s.getVideoTracks()[0];
      } catch (err) {
        this.ui.announce(t("media_denied"));
        return;
      }
    } else {
      this.local.camera?.stop();
      this.local.camera = null;
    }
    this.cameraOff = !on;
    await this.peer?.setCamera(this.local.camera);
    this.ui.setVideo(this.selfId, "camera", this.local.camera);
    this.send({ type: "mute", video: !on });
    this.updateToolbar();
  }

  async toggleScreen() {
    if (this.local.screen) {
      this.stopScreen();
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      if (err.name !== "NotAllowedError") this.ui.announce(t("share_failed"));
      return;
    }
    const track = stream.getVideoTracks()[0];
    track.contentHint = "detail";
    track.addEventListener("ended", () => this.stopScreen());
    this.local.screen = track;
    this.local.screenStream = stream;
    this.peer?.startScreen(track, stream);
    this.ui.setVideo(this.selfId, "screen", track);
    this.updateToolbar();
  }

  stopScreen() {
    if (!this.local.screen) return;
    this.local.screen.stop();
    this.local.screen = null;
    this.local.screenStream = null;
    this.peer?.stopScreen();
    this.ui.removeTile(this.selfId, "screen");
    this.updateToolbar();
  }

  updateToolbar() {
    this.ui.setToggle("btn-mic", this.muted, t("unmute"), t("mute"));
    this.ui.setToggle("btn-camera", this.cameraOff, t("camera_on"), t("camera_off"));
    this.ui.setToggle("btn-screen", !!this.local.screen, t("stop_share"), t("share"));
    this.ui.setToggle("btn-hand", this.hand, t("lower_hand"), t("raise_hand"));
  }

  bindToolbar() {
    $("btn-mic").addEventListener("click", () => this.setMuted(!this.muted, true));
    $("btn-camera").addEventListener("click", () => this.setCamera(this.cameraOff));
    $("btn-screen").addEventListener("click", () => this.toggleScreen());
    $("btn-hand").addEventListener("click", () => {
      this.hand = !this.hand;
      this.send({ type: "hand", raised: this.hand });
      this.updateToolbar();
    });
    $("btn-people").addEventListener("click", () => this.ui.openPanel("people"));
    $("btn-chat").addEventListener("click", () => this.ui.openPanel("chat"));
    $("btn-leave").addEventListener("click", () => this.leave());
    $("chat-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = $("chat-input");
      const text = input.value.trim();
      if (!text) return;
      this.send({ type: "chat", text });
      input.value = "";
    });
    $("mute-all").addEventListener("click", () => this.send({ type: "mute_all" }));
    $("lock-toggle").addEventListener("click", () => {
      const locked = $("lock-toggle").getAttribute("aria-pressed") !== "true";
      this.send({ type: "lock", locked });
    });
    $("allow-unmute").addEventListener("change", (ev) => this.send({ type: "allow_unmute", allowed: ev.target.checked }));
    $("end-all").addEventListener("click", () => {
      if (confirm(t("confirm_end"))) this.send({ type: "end" });
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.ui.panel) this.ui.openPanel(this.ui.panel);
    });
    // Toolbar pattern: arrow keys move between the buttons, Tab leaves the toolbar.
    document.querySelector(".toolbar").addEventListener("keydown", (ev) => {
      if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
      const buttons = [...ev.currentTarget.querySelectorAll("button")].filter((b) => b.offsetParent !== null);
      const i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      ev.preventDefault();
      buttons[(i + (ev.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length].focus();
    });
  }

  leave() {
    this.send({ type: "leave" });
    this.end(t("left"));
  }

  end(text) {
    this.state = "gone";
    clearTimeout(this.retryTimer);
    const s = this.signal;
    this.signal = null;
    s?.close();
    this.dropMedia();
    this.stopScreen();
    this.stopLocal();
    this.council.enable(false);
    this.ui.gone(text);
  }
}

function cameraConstraints(deviceId) {
  return {
    deviceId: deviceId ? { exact: deviceId } : undefined,
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 24, max: 30 },
  };
}

new Meeting().init();
