// The council session view of the meeting page: the quorum banner for everybody, the member's
// panel (presente, floor, vote), the President's console, the Secretary's presence panel, the
// last result and the alerts. Protocol: the "council" messages of docs/signalling.md.
//
// The server sends the whole state after every change (council_state), shaped for each
// recipient (me, role, can_vote, voted). render() draws a state into the page's skeleton
// (meeting.html, #council-*) and nothing else; Council keeps the state, sends the actions people
// choose as {"type":"council","action":…} and announces what a screen reader user must not miss.

import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function show(node, on) {
  if (node) node.hidden = !on;
}

function text(node, s) {
  if (node && node.textContent !== s) node.textContent = s;
}

// keyed rebuilds a list only when what it shows changed, so that an unrelated update (a vote
// cast elsewhere) does not take the keyboard focus away from a button in it.
function keyed(node, data, build) {
  const key = JSON.stringify(data);
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  node.replaceChildren(...build());
}

// itemLabel shows an agenda item: "3" becomes "3. Bilancio" when the agenda has it.
export function itemLabel(item, agenda) {
  const a = (agenda || []).find((x) => String(x.n) === String(item));
  return a ? `${a.n}. ${a.title}` : String(item ?? "");
}

// countdown is the time left until deadline (RFC 3339) at now (ms): "m:ss", or "" without one.
export function countdown(deadline, now) {
  if (!deadline) return "";
  const end = Date.parse(deadline);
  if (Number.isNaN(end)) return "";
  const left = Math.ceil((end - now) / 1000);
  if (left <= 0) return t("council_time_up");
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, "0");
  return t("council_time_left", `${m}:${s}`);
}

function nameOf(state, id) {
  return (state.members || []).find((m) => m.id === id)?.name || id;
}

function names(list) {
  return list && list.length ? list.map((m) => m.name).join(", ") : t("council_nobody");
}

// render draws state into the page. local is what only this page knows: an action waiting for
// the server (pending), the last refusal (error, voteError). now is the time for the countdown.
export function render(state, local = {}, now = Date.now()) {
  const s = state || {};
  const me = s.me || "";
  const role = s.role || "other";
  const chair = role === "chair";
  const secretary = role === "secretary";
  const opened = !!s.opened && !s.closed;
  renderBanner(s);

  text($("council-error"), local.error || "");
  const configured = s.configured !== false; // a council meeting whose assembly is not set up yet
  show($("council-not-configured"), !configured);
  show($("council-not-open"), configured && !s.opened && !s.closed && !chair);
  show($("council-closed"), !!s.closed);

  // Presence: members confirm "presente" during the roll call, and whenever they have not yet
  // (a late arrival counts as present, and may vote, only once confirmed).
  const mine = (s.members || []).find((m) => m.id === me);
  const roll = $("council-rollcall");
  show(roll, opened && !!mine && (!!s.roll_call || !mine.confirmed));
  text($("council-rollcall-title"), s.roll_call ? t("council_roll_call_title") : t("council_presence_title"));
  text(roll.querySelector(".rollcall-hint"), s.roll_call ? t("council_roll_call_hint") : t("council_presence_hint"));
  show(roll.querySelector('[data-action="confirm"]'), !mine?.confirmed);
  roll.querySelector('[data-action="confirm"]').disabled = local.pending === "confirm";
  show(roll.querySelector(".rollcall-done"), !!mine?.confirmed);

  renderVote(s, local, !s.closed, me);
  renderFloor(s, opened && !chair, me, now); // the console shows the floor to the President
  renderResult(s);
  renderChair(s, local, chair, now);
  renderRollCallResult(s, chair || secretary);
  renderMembers(s, chair || secretary, secretary && opened);
  renderSecretary(s, local, secretary && opened);

  const minutes = $("council-minutes");
  const links = s.minutes || {};
  show(minutes, !!s.closed && (chair || secretary) && !!(links.html || links.odt));
  show($("council-minutes-html").parentElement, !!links.html);
  show($("council-minutes-odt").parentElement, !!links.odt);
  if (links.html) $("council-minutes-html").href = links.html;
  if (links.odt) $("council-minutes-odt").href = links.odt;
}

function renderBanner(s) {
  const q = $("council-quorum");
  q.dataset.quorum = String(!!s.quorum);
  text(q.querySelector(".quorum-label"), s.quorum ? t("council_quorum_present") : t("council_quorum_absent"));
  text(q.querySelector(".quorum-count"), `${s.present ?? 0}/${s.required ?? 0}`);
  text(q.querySelector(".quorum-detail"), t("council_quorum_detail", s.present ?? 0, s.required ?? 0, s.assigned ?? 0));
  show($("council-suspended").firstElementChild, !!s.suspended && !s.closed);
  show($("council-rec").firstElementChild, !!s.recording);
  text($("council-public"), s.public ? t("council_public") : t("council_closed_session"));
  $("council-public").dataset.public = String(!!s.public);
}

function renderVote(s, local, live, me) {
  const box = $("council-vote");
  const v = s.vote;
  show(box, live && !!v);
  if (!v) return;
  text(box.querySelector(".vote-item"), itemLabel(v.item, s.agenda));
  text(box.querySelector(".vote-text"), v.text || "");
  show(box.querySelector(".vote-secret"), !!v.secret);
  const choose = !!s.can_vote && !s.voted;
  show(box.querySelector(".vote-choices"), choose);
  for (const b of box.querySelectorAll(".vote-choices button")) b.disabled = local.pending === "vote_cast";
  show(box.querySelector(".vote-done"), !!s.voted);
  show(box.querySelector(".vote-ineligible"), !!me && !s.can_vote && !s.voted);
  text(box.querySelector(".vote-progress"), t("council_vote_progress", v.cast ?? 0, v.eligible ?? 0));
}

function renderFloor(s, opened, me, now) {
  const box = $("council-floor");
  show(box, opened);
  if (!opened) return;
  renderSpeaker(box, s, me, now);
  const queue = s.queue || [];
  const pos = queue.indexOf(me) + 1;
  text(box.querySelector(".floor-position"), pos > 0 ? t("council_queue_position", pos) : "");
  show(box.querySelector(".floor-position"), pos > 0);
  const member = !!me;
  show(box.querySelector('[data-action="floor_request"]'), member && pos === 0 && s.speaker !== me);
  show(box.querySelector('[data-action="floor_withdraw"]'), member && pos > 0);
}

function renderSpeaker(box, s, me, now) {
  const speaker = s.speaker || "";
  const line = box.querySelector(".floor-speaker");
  line.dataset.self = String(!!speaker && speaker === me);
  let who = t("council_nobody_speaks");
  if (speaker === me && me) who = t("council_you_speak");
  else if (speaker) who = t("council_speaker", nameOf(s, speaker));
  text(line.querySelector(".floor-speaker-name"), who);
  text(line.querySelector(".countdown"), speaker ? countdown(s.floor_deadline, now) : "");
}

// resultText is the announcement of a closed vote.
export function resultText(r, agenda) {
  const tot = r.totals || {};
  const summary = t("council_result", r.n ?? 0, itemLabel(r.item, agenda), tot.favorevole ?? 0, tot.contrario ?? 0,
    tot.astenuto ?? 0, (r.voters || []).length, r.eligible ?? 0);
  return r.secret ? `${summary} ${t("council_secret")}.` : summary;
}

function renderResult(s) {
  const box = $("council-result");
  const r = s.last_result;
  show(box, !!r);
  if (!r) return;
  text(box.querySelector(".result-summary"), resultText(r, s.agenda));
  const details = box.querySelector(".result-names");
  show(details, !r.secret && !!r.by_name);
  if (r.secret || !r.by_name) return;
  const by = r.by_name;
  keyed(details.querySelector("ul"), by, () => [
    el("li", {}, t("council_names_favorevole", names(by.favorevole))),
    el("li", {}, t("council_names_contrario", names(by.contrario))),
    el("li", {}, t("council_names_astenuto", names(by.astenuto))),
  ]);
}

function renderChair(s, local, chair, now) {
  const box = $("council-chair");
  show(box, chair && !s.closed);
  if (!chair || s.closed) return;
  const opened = !!s.opened;
  const act = (a) => box.querySelector(`[data-action="${a}"]`);
  show(act("open"), !opened && s.configured !== false);
  show(act("roll_call_start"), opened && !s.roll_call);
  show(act("roll_call_close"), opened && !!s.roll_call);
  // A closed session is recorded only if its setup allows it (recording_closed).
  show(act("recording_start"), opened && !s.recording && (!!s.public || s.recording_closed !== false));
  show(act("recording_stop"), opened && !!s.recording);
  show(act("resume"), opened && !!s.suspended);
  show(act("close"), opened);
  show(box.querySelector(".chair-public"), opened);
  $("council-public-switch").checked = !!s.public;
  show($("council-suspend-form"), opened && !s.suspended);

  // The floor: the speaker, the queue.
  const floor = box.querySelector(".chair-floor");
  show(floor, opened);
  renderSpeaker(floor, s, s.me || "", now);
  show(act("floor_revoke"), !!s.speaker);
  const queue = s.queue || [];
  show(floor.querySelector(".queue-empty"), queue.length === 0);
  show(act("floor_grant"), queue.length > 0);
  keyed($("council-queue"), queue.map((id) => [id, nameOf(s, id)]), () => queue.map((id) => {
    const li = el("li");
    const name = nameOf(s, id);
    li.append(el("span", { class: "person-name" }, name));
    const b = el("button", { type: "button", class: "btn btn-sm btn-primary", "data-action": "floor_grant", "data-target": id,
      "aria-label": `${t("council_grant")}: ${name}` }, t("council_grant"));
    li.append(b);
    return li;
  }));

  // Votes: the form when none is open, the close button while one is.
  const form = $("council-vote-form");
  show(form, opened && !s.vote);
  show(box.querySelector(".chair-vote-open"), opened && !!s.vote);
  text($("council-vote-error"), local.voteError || "");
  const agenda = s.agenda || [];
  show(form.querySelector(".vote-item-select"), agenda.length > 0);
  show(form.querySelector(".vote-item-free"), agenda.length === 0);
  const select = $("council-item");
  // The item sent is the agenda item's number; everybody sees it as "n. title" (itemLabel).
  keyed(select, agenda, () => agenda.map((a) => new Option(`${a.n}. ${a.title}`, String(a.n))));
}

function renderRollCallResult(s, visible) {
  const box = $("council-rollcall-result");
  const rc = s.last_roll_call;
  show(box, visible && !!rc);
  if (!rc) return;
  const present = rc.present || [];
  const quorum = rc.quorum ? t("council_quorum_present") : t("council_quorum_absent");
  text(box.querySelector(".rollcall-summary"),
    `${quorum}. ${t("council_roll_call_result", present.length, rc.counted_present ?? 0, rc.required ?? 0)}`);
  text(box.querySelector(".rollcall-absent"), t("council_absent_names", names(rc.absent)));
}

function memberStatus(m) {
  const parts = [m.present ? t("council_present") : t("council_absent"),
    m.connected ? t("council_connected") : t("council_disconnected")];
  if (m.confirmed) parts.push(t("council_has_confirmed"));
  if (m.override) parts.push(t("council_override_by", m.override));
  if (!m.counts_for_quorum) parts.push(t("council_not_counted"));
  return parts.join(" · ");
}

function renderMembers(s, visible, canOverride) {
  const box = $("council-members");
  show(box, visible && !s.closed);
  if (!visible) return;
  const members = s.members || [];
  keyed($("council-member-rows"), [members, canOverride], () => members.map((m) => {
    const tr = el("tr", { "data-member": m.id, "data-present": String(!!m.present) });
    tr.append(el("td", {}, String(m.seat)), el("td", {}, m.name));
    const status = el("td");
    status.append(el("span", { class: "member-status" }, memberStatus(m)));
    if (canOverride) {
      const actions = el("span", { class: "person-actions" });
      const button = (label, attrs) => {
        actions.append(el("button", { type: "button", class: "btn btn-sm btn-secondary", "aria-label": `${label}: ${m.name}`,
          "data-target": m.id, ...attrs }, label));
      };
      if (m.present) button(t("council_mark_absent"), { "data-action": "pick", "data-present": "false" });
      else button(t("council_mark_present"), { "data-action": "pick", "data-present": "true" });
      if (m.override) button(t("council_clear_override"), { "data-action": "clear_override" });
      status.append(actions);
    }
    tr.append(status);
    return tr;
  }));
}

function renderSecretary(s, local, visible) {
  const box = $("council-secretary");
  show(box, visible);
  if (!visible) return;
  const members = s.members || [];
  const select = $("council-override-member");
  const chosen = select.value;
  keyed(select, members.map((m) => [m.id, m.name, m.seat]), () =>
    members.map((m) => new Option(`${m.seat}. ${m.name}`, m.id)));
  if (chosen && members.some((m) => m.id === chosen)) select.value = chosen;
  renderChamber(s, local);
}

// inChamber lists the members the Secretary marked present (an override that says present).
export function inChamber(s) {
  return (s.members || []).filter((m) => !!m.override && !!m.present);
}

// renderChamber draws the members in the chamber; during a vote the Secretary enters each one's
// ballot (three buttons), then reads "votato" — never what. state.chamber says, for the
// Secretary only, who may still vote and who voted.
function renderChamber(s, local) {
  const box = $("council-secretary").querySelector(".secretary-chamber");
  const list = $("council-chamber");
  const members = inChamber(s);
  const v = s.vote || null;
  const votes = new Map((s.chamber || []).map((c) => [c.id, c]));
  show(box.querySelector(".chamber-hint"), !!v && members.length > 0);
  show(box.querySelector(".chamber-secret"), !!v && !!v.secret && members.length > 0);
  show(box.querySelector(".chamber-empty"), members.length === 0);
  const rows = members.map((m) => [m.id, m.seat, m.name, m.override, votes.get(m.id) || null]);
  const hadFocus = list.contains(document.activeElement);
  keyed(list, [rows, v ? v.n : 0], () => members.map((m) => chamberRow(m, v, votes.get(m.id))));
  for (const b of list.querySelectorAll("button")) {
    b.setAttribute("aria-disabled", String(local.pending === "vote_for" && b.dataset.target === local.pendingFor));
  }
  // A rebuilt list loses the focus: give it to the next member still to vote.
  if (hadFocus && !list.contains(document.activeElement)) list.querySelector("button")?.focus();
}

function chamberRow(m, v, c) {
  const li = el("li", { "data-member": m.id });
  li.append(el("span", { class: "person-name" }, `${m.seat}. ${m.name}`), el("span", { class: "chamber-note" }, m.override));
  if (!v) return li;
  if (c?.voted) {
    li.append(el("span", { class: "chamber-voted" }, t("council_chamber_voted")));
  } else if (c?.can_vote) {
    const group = el("span", { class: "chamber-choices", role: "group", "aria-label": t("council_chamber_vote_label", m.name) });
    for (const choice of ["favorevole", "contrario", "astenuto"]) {
      const label = t(`council_${choice}`);
      group.append(el("button", { type: "button", class: "btn btn-sm btn-vote", "data-action": "vote_for", "data-target": m.id,
        "data-choice": choice, "aria-label": `${label}: ${m.name}` }, label));
    }
    li.append(group);
  } else {
    li.append(el("span", { class: "chamber-ineligible" }, t("council_chamber_ineligible")));
  }
  return li;
}

// Council is the council part of one meeting page.
export class Council {
  // send sends a signalling message; announce speaks a sentence to screen readers.
  constructor({ send, announce }) {
    this.sendMsg = send;
    this.announce = announce || (() => {});
    this.enabled = false;
    this.state = null;
    // pending: the action sent and not yet seen in a state (the buttons wait); error: the last
    // refusal, until the next action.
    this.local = { pending: "", pendingVote: 0, pendingFor: "", error: "", voteError: "" };
    this.timer = null;
    this.expanded = true; // the council panel is shown
    this.bind();
  }

  // enable turns the council view on (a council meeting) or off. The toolbar button that shows
  // and hides the council panel exists only in council meetings.
  enable(on) {
    this.enabled = !!on;
    this.markRoom();
    let button = $("btn-council");
    if (this.enabled && !button) {
      button = el("button", { id: "btn-council", class: "tool", type: "button", "aria-expanded": "true", "aria-controls": "council" },
        t("council_toggle"));
      button.addEventListener("click", () => this.toggle());
      $("btn-chat").before(button);
    } else if (!this.enabled && button) {
      button.remove();
    }
    show($("council-banner"), this.enabled && !!this.state && this.state.configured !== false);
    show($("council"), this.enabled && this.expanded);
    if (!this.enabled) this.stopTimer();
  }

  // update takes a council_state message's state.
  update(state) {
    const before = this.state;
    this.state = state;
    if (this.settled(state)) this.local.pending = "";
    if (!this.enabled) this.enable(true);
    this.markRoom();
    show($("council-banner"), state.configured !== false);
    this.tell(before, state);
    this.draw();
    if (state.floor_deadline && state.speaker) this.startTimer();
    else this.stopTimer();
  }

  // settled reports whether state shows the outcome of the action waiting for the server (other
  // people's changes arrive meanwhile, and must not let a member vote twice by mistake).
  settled(state) {
    switch (this.local.pending) {
      case "vote_cast":
        return !state.vote || state.vote.n !== this.local.pendingVote || !!state.voted || !state.can_vote;
      case "confirm":
        return !!(state.members || []).find((m) => m.id === state.me)?.confirmed || !state.opened;
      case "vote_for": { // the Secretary's ballot for a member in the chamber
        const c = (state.chamber || []).find((x) => x.id === this.local.pendingFor);
        return !state.vote || state.vote.n !== this.local.pendingVote || !c || c.voted || !c.can_vote;
      }
      default:
        return true;
    }
  }

  // markRoom tells the stylesheet that members ask for the floor rather than raise a hand: a
  // council meeting without a setup works as a plain meeting.
  markRoom() {
    $("room").classList.toggle("is-council", this.enabled && !!this.state && this.state.configured !== false);
  }

  // alert shows a council_alert (quorum lost…) above everything, until dismissed.
  alert(msg) {
    const box = $("council-alerts");
    const item = el("div", { class: "alert alert-danger council-alert" });
    item.append(el("p", {}, msg.text || msg.key || ""));
    const close = el("button", { type: "button", class: "btn btn-sm btn-secondary" }, t("council_dismiss"));
    close.addEventListener("click", () => item.remove());
    item.append(close);
    box.append(item);
    while (box.children.length > 3) box.firstElementChild.remove();
  }

  // error shows a refused council action; it returns false for errors that are not ours.
  error(msg) {
    if (msg.ref !== "council") return false;
    this.local.pending = "";
    this.local.error = msg.message || t("error");
    this.draw();
    return true;
  }

  draw() {
    if (this.state) render(this.state, this.local);
  }

  // tell announces the changes a member must act on, and empties the President's and the
  // Secretary's forms once the server did what they asked (a refusal leaves the text to correct).
  tell(before, now) {
    const b = before || {};
    if (now.vote && (!b.vote || b.vote.n !== now.vote.n)) {
      this.announce(t("council_vote_opened", itemLabel(now.vote.item, now.agenda)));
      this.expand();
      $("council-text").value = "";
      $("council-item-free").value = "";
      $("council-secret").checked = false;
    }
    if (now.suspended && !b.suspended) $("council-reason").value = "";
    const note = $("council-override-note");
    const target = $("council-override-member").value;
    if (note.value && (now.members || []).some((m) => m.id === target && m.override === note.value.trim())) note.value = "";
    if (now.me && now.roll_call && !b.roll_call) {
      this.announce(t("council_roll_call_started"));
      this.expand();
    }
    if (now.me && now.speaker === now.me && b.speaker !== now.me) this.announce(t("council_floor_granted_you"));
    // The Secretary hears each ballot entered for a member in the chamber (who voted, not what).
    if (before && now.vote && b.vote && now.vote.n === b.vote.n) {
      const was = new Set((b.chamber || []).filter((c) => c.voted).map((c) => c.id));
      for (const c of now.chamber || []) {
        if (c.voted && !was.has(c.id)) this.announce(`${nameOf(now, c.id)}: ${t("council_chamber_voted")}`);
      }
    }
    // The result goes to everybody through the page's announcer: the result box may just have
    // appeared, and a live region that appears is not read.
    if (before && now.last_result && JSON.stringify(now.last_result) !== JSON.stringify(b.last_result)) {
      this.announce(resultText(now.last_result, now.agenda));
    }
  }

  expand() {
    if (!this.expanded) this.toggle();
  }

  toggle() {
    this.expanded = !this.expanded;
    $("btn-council")?.setAttribute("aria-expanded", String(this.expanded));
    show($("council"), this.expanded && this.enabled);
  }

  startTimer() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const s = this.state;
      if (!s || !s.speaker || !s.floor_deadline) { this.stopTimer(); return; }
      for (const c of document.querySelectorAll("#council .countdown")) text(c, countdown(s.floor_deadline, Date.now()));
    }, 1000);
  }

  stopTimer() {
    clearInterval(this.timer);
    this.timer = null;
  }

  send(action, fields = {}) {
    this.sendMsg({ type: "council", action, ...fields });
    if (this.local.error) {
      this.local.error = "";
      this.draw();
    }
  }

  bind() {
    $("council").addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-action]");
      if (b && !b.disabled) this.act(b);
    });
    $("council-public-switch").addEventListener("change", (ev) => this.send("set_public", { public: ev.target.checked }));
    $("council-vote-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.openVote();
    });
    $("council-suspend-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.send("suspend", { reason: $("council-reason").value.trim() });
    });
    $("council-override-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.override();
    });
  }

  act(button) {
    const action = button.dataset.action;
    switch (action) {
      case "vote_cast":
        this.local.pending = action;
        this.local.pendingVote = this.state?.vote?.n ?? 0;
        this.send(action, { choice: button.dataset.choice });
        this.draw();
        return;
      case "confirm":
        this.local.pending = action;
        this.send(action);
        this.draw();
        return;
      case "vote_for": // the Secretary enters the ballot of a member in the chamber
        if (button.getAttribute("aria-disabled") === "true") return;
        this.local.pending = action;
        this.local.pendingVote = this.state?.vote?.n ?? 0;
        this.local.pendingFor = button.dataset.target;
        this.send("vote_cast", { target: button.dataset.target, choice: button.dataset.choice });
        this.draw();
        return;
      case "floor_grant": {
        const seconds = parseInt($("council-seconds").value, 10);
        this.send(action, { target: button.dataset.target || "", seconds: seconds > 0 ? seconds : 0 });
        return;
      }
      case "clear_override":
        this.send(action, { target: button.dataset.target });
        return;
      case "pick": // fill the override form for this member
        $("council-override-member").value = button.dataset.target;
        $(button.dataset.present === "true" ? "council-override-present" : "council-override-absent").checked = true;
        $("council-override-note").focus();
        return;
      case "close":
        if (confirm(t("council_confirm_close"))) this.send(action);
        return;
      default:
        this.send(action);
    }
  }

  openVote() {
    const agenda = this.state?.agenda || [];
    const item = (agenda.length ? $("council-item").value : $("council-item-free").value).trim();
    const textArea = $("council-text");
    const body = textArea.value.trim();
    if (!item || !body) {
      this.local.voteError = t("council_error_vote");
      textArea.setAttribute("aria-invalid", String(!body));
      this.draw();
      (item ? textArea : $(agenda.length ? "council-item" : "council-item-free")).focus();
      return;
    }
    this.local.voteError = "";
    textArea.removeAttribute("aria-invalid");
    this.send("vote_open", { item, text: body, secret: $("council-secret").checked });
    this.draw();
  }

  override() {
    const target = $("council-override-member").value;
    const note = $("council-override-note");
    const error = $("council-override-error");
    if (!target || !note.value.trim()) {
      error.textContent = t("council_error_note");
      note.setAttribute("aria-invalid", "true");
      note.focus();
      return;
    }
    error.textContent = "";
    note.removeAttribute("aria-invalid");
    this.send("override", { target, present: $("council-override-present").checked, note: note.value.trim() });
  }
}
