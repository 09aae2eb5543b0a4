// The meeting page's DOM: sections, the video grid, the participant list, the lobby, the chat and
// the status line. It knows nothing of WebRTC or the network: the controller calls it, and it
// calls back the actions people choose.

import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role" || k === "type" || k === "title") e.setAttribute(k, v);
    else e[k] = v;
  }
  if (text !== undefined) e.textContent = text;
  return e;
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

export class UI {
  // actions: { admit, deny, muteOne, stopCamera, remove, makeHost, lowerHand, pinChanged }
  constructor(actions) {
    this.actions = actions;
    this.grid = $("grid");
    this.tiles = new Map(); // "pid/source" -> tile element
    this.pinned = null; // key of the pinned tile
    this.speaker = null;
    this.people = new Map(); // pid -> participant view
    this.selfId = null;
    this.selfRole = "member";
    this.unread = 0;
    this.panel = null; // "people" | "chat" | null
    this.audio = el("div", { class: "audio-sink", "aria-hidden": "true" });
    $("room").append(this.audio);
  }

  show(section) {
    for (const id of ["prejoin", "lobby", "room", "gone"]) $(id).hidden = id !== section;
    document.body.classList.toggle("in-meeting", section === "room");
    if (section === "room") $("btn-mic").focus();
  }

  gone(text) {
    this.show("gone");
    $("gone-text").textContent = text;
    $("gone-rejoin").focus();
  }

  status(text, kind = "info") {
    const s = $("status");
    s.textContent = text;
    s.dataset.kind = kind;
    s.hidden = !text;
  }

  announce(text) {
    const a = $("announcer");
    a.textContent = "";
    // A fresh text node makes screen readers speak the same sentence again.
    setTimeout(() => { a.textContent = text; }, 50);
  }

  // Tiles.

  tile(pid, source) {
    const key = `${pid}/${source}`;
    let tile = this.tiles.get(key);
    if (tile) return tile;
    tile = el("div", { class: "tile", role: "listitem", "data-participant": pid, "data-source": source });
    if (pid === this.selfId) tile.dataset.self = "true";
    const video = el("video", { autoplay: true, playsInline: true, muted: true });
    const placeholder = el("div", { class: "placeholder", "aria-hidden": "true" });
    const name = el("span", { class: "tile-name" });
    const flags = el("span", { class: "tile-flags" });
    const pin = el("button", { type: "button", class: "tile-pin", "aria-pressed": "false" }, t("pin"));
    pin.addEventListener("click", () => this.togglePin(key));
    const bar = el("div", { class: "tile-bar" });
    bar.append(name, flags, pin);
    tile.append(video, placeholder, bar);
    tile.video = video;
    this.tiles.set(key, tile);
    this.grid.append(tile);
    this.refreshTile(pid);
    this.layout();
    return tile;
  }

  setVideo(pid, source, track) {
    const tile = this.tile(pid, source);
    tile.video.srcObject = track ? new MediaStream([track]) : null;
    tile.dataset.video = track ? "true" : "false";
    this.refreshTile(pid);
  }

  removeTile(pid, source) {
    const key = `${pid}/${source}`;
    const tile = this.tiles.get(key);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.remove();
    this.tiles.delete(key);
    if (this.pinned === key) this.pinned = null;
    this.layout();
  }

  removeParticipantTiles(pid) {
    for (const key of [...this.tiles.keys()]) {
      if (key.startsWith(`${pid}/`)) this.removeTile(pid, key.slice(pid.length + 1));
    }
    this.audio.querySelector(`[data-participant="${CSS.escape(pid)}"]`)?.remove();
  }

  clearRemote() {
    for (const key of [...this.tiles.keys()]) {
      const pid = key.split("/")[0];
      if (pid !== this.selfId) this.removeParticipantTiles(pid);
    }
    this.audio.replaceChildren();
  }

  setAudio(pid, track) {
    let a = this.audio.querySelector(`[data-participant="${CSS.escape(pid)}"]`);
    if (!track) { a?.remove(); return; }
    if (!a) {
      a = el("audio", { autoplay: true, "data-participant": pid });
      this.audio.append(a);
    }
    a.srcObject = new MediaStream([track]);
    a.play().catch(() => {});
  }

  refreshTile(pid) {
    const p = this.people.get(pid) || { id: pid, name: "", muted: false, camera: true, hand: false };
    for (const [key, tile] of this.tiles) {
      if (!key.startsWith(`${pid}/`)) continue;
      const screen = tile.dataset.source === "screen";
      const name = p.name + (pid === this.selfId ? ` ${t("you")}` : "");
      const flags = [];
      if (!screen && p.muted) flags.push(t("mic_off"));
      if (!screen && !p.camera) flags.push(t("cam_off"));
      if (!screen && p.hand) flags.push(t("hand_up"));
      if (!screen && this.speaker === pid) flags.push(t("is_speaking"));
      tile.querySelector(".tile-name").textContent = screen ? t("screen_of", p.name) : name;
      tile.querySelector(".tile-flags").textContent = flags.join(" · ");
      tile.querySelector(".placeholder").textContent = initials(p.name || "?");
      tile.dataset.muted = String(!!p.muted);
      tile.dataset.camera = String(!!p.camera);
      tile.dataset.hand = String(!!p.hand);
      tile.setAttribute("aria-label", [screen ? t("screen_of", p.name) : name, ...flags].join(", "));
    }
  }

  setSpeaker(pid) {
    const old = this.speaker;
    this.speaker = pid || null;
    for (const [key, tile] of this.tiles) tile.classList.toggle("speaking", key === `${pid}/camera`);
    if (old) this.refreshTile(old);
    if (pid) this.refreshTile(pid);
  }

  togglePin(key) {
    this.pinned = this.pinned === key ? null : key;
    this.layout();
  }

  // layout marks the pinned tile and tells the controller which size each remote video is shown
  // at, so the server sends a fitting simulcast layer.
  layout() {
    const many = this.tiles.size > 4;
    const sizes = new Map();
    for (const [key, tile] of this.tiles) {
      const pinned = key === this.pinned;
      tile.classList.toggle("pinned", pinned);
      const pin = tile.querySelector(".tile-pin");
      pin.setAttribute("aria-pressed", String(pinned));
      pin.textContent = pinned ? t("unpin") : t("pin");
      sizes.set(key, pinned || (!this.pinned && !many) ? "large" : "small");
    }
    this.grid.classList.toggle("has-pinned", !!this.pinned);
    this.grid.dataset.count = String(this.tiles.size);
    this.actions.pinChanged?.(sizes);
  }

  // Participants and lobby.

  setParticipants(list, selfId) {
    const before = this.people;
    this.selfId = selfId;
    this.people = new Map(list.map((p) => [p.id, p]));
    const self = this.people.get(selfId);
    if (self) this.selfRole = self.role;
    for (const p of list) {
      const old = before.get(p.id);
      if (!old && before.size > 0 && p.id !== selfId) this.announce(t("joined_notice", p.name));
      if (old && !old.hand && p.hand && p.id !== selfId) this.announce(t("hand_notice", p.name));
      this.tile(p.id, "camera");
      this.refreshTile(p.id);
    }
    for (const [id, old] of before) {
      if (!this.people.has(id)) {
        this.removeParticipantTiles(id);
        this.announce(t("left_notice", old.name));
      }
    }
    this.renderPeople();
  }

  canModerate() { return ["host", "cohost", "chair"].includes(this.selfRole); }
  canAdmit() { return ["host", "cohost", "chair", "secretary"].includes(this.selfRole); }
  canPromote() { return ["host", "chair"].includes(this.selfRole); }

  renderPeople() {
    const ul = $("people-list");
    ul.replaceChildren();
    for (const p of this.people.values()) {
      const li = el("li", { "data-participant": p.id });
      const role = p.role !== "member" ? ` (${t(`role_${p.role}`)})` : "";
      const state = [p.muted ? t("mic_off") : "", p.camera ? "" : t("cam_off"), p.hand ? t("hand_up") : ""]
        .filter(Boolean).join(" · ");
      li.append(el("span", { class: "person-name" }, p.name + (p.id === this.selfId ? ` ${t("you")}` : "") + role));
      if (state) li.append(el("span", { class: "person-state" }, state));
      if (p.id !== this.selfId && this.canModerate()) {
        const actions = el("span", { class: "person-actions" });
        const button = (label, fn, cls = "btn-secondary") => {
          const b = el("button", { type: "button", class: `btn btn-sm ${cls}` }, label);
          b.setAttribute("aria-label", `${label}: ${p.name}`);
          b.addEventListener("click", fn);
          actions.append(b);
        };
        if (!p.muted) button(t("mute_one"), () => this.actions.muteOne(p.id));
        if (p.camera) button(t("stop_camera"), () => this.actions.stopCamera(p.id));
        if (p.hand) button(t("lower_hand_of"), () => this.actions.lowerHand(p.id));
        if (this.canPromote() && p.role !== "host") button(t("make_host"), () => this.actions.makeHost(p.id));
        button(t("remove"), () => {
          if (confirm(t("confirm_remove", p.name))) this.actions.remove(p.id);
        }, "btn-danger");
        li.append(actions);
      }
      ul.append(li);
    }
    $("people-count").textContent = String(this.people.size);
    $("host-controls").hidden = !this.canModerate();
  }

  setLobby(waiting) {
    const panel = $("lobby-panel");
    const ul = $("lobby-list");
    const before = new Set([...ul.children].map((li) => li.dataset.participant));
    ul.replaceChildren();
    for (const w of waiting || []) {
      const li = el("li", { "data-participant": w.id });
      li.append(el("span", { class: "person-name" }, w.name));
      const admit = el("button", { type: "button", class: "btn btn-sm btn-primary" }, t("admit"));
      admit.setAttribute("aria-label", `${t("admit")}: ${w.name}`);
      admit.addEventListener("click", () => this.actions.admit(w.id));
      const deny = el("button", { type: "button", class: "btn btn-sm btn-secondary" }, t("deny"));
      deny.setAttribute("aria-label", `${t("deny")}: ${w.name}`);
      deny.addEventListener("click", () => this.actions.deny(w.id));
      const actions = el("span", { class: "person-actions" });
      actions.append(admit, deny);
      li.append(actions);
      ul.append(li);
      if (!before.has(w.id)) this.announce(t("waiting_notice", w.name));
    }
    panel.hidden = !(waiting && waiting.length) || !this.canAdmit();
    if (!panel.hidden && this.panel !== "people") this.openPanel("people");
  }

  setRoom(room) {
    const lock = $("lock-toggle");
    lock.setAttribute("aria-pressed", String(room.locked));
    lock.textContent = room.locked ? t("unlock") : t("lock");
    $("allow-unmute").checked = room.unmute_allowed;
  }

  // Side panels.

  openPanel(which) {
    this.panel = this.panel === which ? null : which;
    $("sidebar").hidden = !this.panel;
    $("people-panel").hidden = this.panel !== "people";
    $("chat-panel").hidden = this.panel !== "chat";
    $("btn-people").setAttribute("aria-expanded", String(this.panel === "people"));
    $("btn-chat").setAttribute("aria-expanded", String(this.panel === "chat"));
    if (this.panel === "chat") {
      this.unread = 0;
      $("chat-unread").hidden = true;
      $("chat-input").focus();
    }
  }

  addChat(m, mine) {
    const li = el("li", { class: mine ? "mine" : "" });
    const at = new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.append(el("span", { class: "chat-meta" }, `${m.name} · ${at}`), el("span", { class: "chat-text" }, m.text));
    const log = $("chat-log");
    log.append(li);
    log.scrollTop = log.scrollHeight;
    if (this.panel !== "chat" && !mine) {
      this.unread++;
      const badge = $("chat-unread");
      badge.textContent = String(this.unread);
      badge.hidden = false;
      this.announce(t("chat_notice", m.name));
    }
  }

  // Toolbar.

  setToggle(id, pressed, onText, offText) {
    const b = $(id);
    b.setAttribute("aria-pressed", String(pressed));
    b.textContent = pressed ? onText : offText;
  }

  setQuality(level) {
    const q = $("quality");
    q.dataset.level = level;
    q.textContent = t(`quality_${level}`);
  }
}
