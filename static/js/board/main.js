// The dispatcher board: queue, timeline, map, alerts and the job drawer, kept live by the event
// feed (a WebSocket doorbell with catch-up from the event table) and aware of the other
// dispatchers looking at or moving the same jobs.
import { Actions } from "./actions.js";
import { api, config, counted, el, problemText, text } from "./common.js";
import { Drawer } from "./drawer.js";
import { BoardMap } from "./map.js";
import { Queue } from "./queue.js";
import { Timeline } from "./timeline.js";

const ALERTS = ["escalated", "late", "at_risk", "unassigned", "held"];
const PRESENCE_TTL = 45_000;

class Alerts {
  constructor(board) {
    this.board = board;
    this.node = document.getElementById("alerts");
    this.sound = document.getElementById("sound");
    this.sound.checked = localStorage.getItem("board.sound") === "on";
    this.sound.addEventListener("change", () => {
      localStorage.setItem("board.sound", this.sound.checked ? "on" : "off");
    });
    this.loud = null; // escalated + late last time: a rise rings once
  }

  show(counts) {
    const chips = ALERTS.filter((kind) => counts[kind] > 0).map((kind) => el("button", {
      type: "button", class: `alert alert-${kind}`, dataset: { needs: kind },
      onclick: () => this.board.queue.setNeeds(kind),
    }, counted(text.alerts[kind], counts[kind])));
    this.node.replaceChildren(...(chips.length ? chips : [el("span", { class: "all-clear" }, text.all_clear)]));
    const loud = counts.escalated + counts.late;
    if (this.loud !== null && loud > this.loud && this.sound.checked) this.ring();
    this.loud = loud;
  }

  ring() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
    } catch { /* no audio device: the strip still says it */ }
  }
}

// Who else is looking at or moving which job. Nothing is stored: each board says where it is
// every few seconds over the socket and forgets what it has not heard again.
class Presence {
  constructor(board) {
    this.board = board;
    this.others = new Map(); // user id → {name, request, state, at}
    this.mine = { request: null, state: "viewing" };
    setInterval(() => { this.say(); this.expire(); }, 15_000);
  }

  viewing(request) {
    if (this.mine.state === "dragging") return;
    if (this.mine.request === request) return;
    this.mine = { request, state: "viewing" };
    this.say();
  }

  dragging(request) {
    this.mine = request === null ? { request: this.board.selected, state: "viewing" } : { request, state: "dragging" };
    this.say();
  }

  say() {
    this.board.feed?.send({ type: "presence", request: this.mine.request, state: this.mine.state });
  }

  receive(frame) {
    const before = this.others.get(frame.user_id);
    this.others.set(frame.user_id, { name: frame.name, request: frame.request, state: frame.state, at: Date.now() });
    this.changed([before && before.request, frame.request]);
  }

  expire() {
    const now = Date.now();
    for (const [user, seen] of this.others) {
      if (now - seen.at > PRESENCE_TTL) { this.others.delete(user); this.changed([seen.request]); }
    }
  }

  changed(requests) {
    for (const id of requests) if (id) this.board.queue.apply({ id });
    if (requests.includes(this.board.selected)) this.board.drawer.reload();
  }

  on(request) {
    return [...this.others.values()].filter((o) => o.request === request).map((o) =>
      (o.state === "dragging" ? text.presence_dragging : text.presence_viewing).replace("%(name)s", o.name));
  }

  // A soft lock: another dispatcher is dragging this job right now.
  lockedBy(request) {
    const other = [...this.others.values()].find((o) => o.request === request && o.state === "dragging");
    return other ? other.name : null;
  }
}

class Board {
  constructor() {
    this.selected = null;
    this.actions = new Actions(this);
    this.alerts = new Alerts(this);
    this.presence = new Presence(this);
    this.map = new BoardMap(this);
    this.queue = new Queue(this);
    this.timeline = new Timeline(this);
    this.drawer = new Drawer(this);
    const live = document.getElementById("live");
    this.feed = new LiveFeed({
      path: "/ws/dispatch/",
      wsUrl: config.ws_url,
      lastSeq: config.last_seq,
      onEvent: (event) => this.onEvent(event),
      onFrame: (frame) => { if (frame.type === "presence") this.presence.receive(frame); },
      onStatus: (up) => {
        live.textContent = up ? text.live : text.offline;
        live.className = `live ${up ? "on" : "off"}`;
        // A connection that never opened is still "connecting", not a lost one.
        if (up) this.connected = true;
        document.getElementById("board").classList.toggle("offline", !up && Boolean(this.connected));
        if (up) this.presence.say();
      },
    });
    this.queue.reload();
    this.timeline.reload();
  }

  onEvent(event) {
    if (!event.kind.startsWith("request.")) return;
    this.queue.apply(event.data);
    this.timeline.apply(event.data);
    if (event.data.id === this.selected) this.drawer.reload();
  }

  current(id) {
    return this.queue.get(id) || (this.drawer.id === id && this.drawer.data ? this.drawer.data.request : null);
  }

  // After a change (or a refusal): show the request as it is now.
  refresh(id, payload) {
    if (payload) this.queue.apply(payload);
    else this.queue.reloadSoon(0);
    this.timeline.reloadSoon(0);
    if (id === this.selected) this.drawer.reload();
  }

  // focus: opened from the keyboard, so the keyboard moves on into the drawer.
  async select(id, { focus = false } = {}) {
    this.selected = id;
    this.queue.markSelected(id);
    this.presence.viewing(id);
    await this.drawer.open(id, { focus });
    // After the drawer took its column, so the job is centred in what is left.
    this.timeline.select(id);
    this.map.focus(id);
  }

  deselect() {
    this.selected = null;
    this.queue.markSelected(null);
    this.presence.viewing(null);
  }
}

// Panes resized by dragging a splitter or with the arrow keys; the sizes are remembered.
function splitter(id, property, { axis, min, max }) {
  const bar = document.getElementById(id);
  const root = document.documentElement;
  const saved = localStorage.getItem(`board.${property}`);
  if (saved) root.style.setProperty(property, saved);
  const set = (px) => {
    const value = `${Math.round(Math.min(max(), Math.max(min, px)))}px`;
    root.style.setProperty(property, value);
    localStorage.setItem(`board.${property}`, value);
    window.dispatchEvent(new Event("resize"));
  };
  bar.addEventListener("pointerdown", (down) => {
    bar.setPointerCapture(down.pointerId);
    const pane = bar.previousElementSibling.getBoundingClientRect();
    const origin = axis === "x" ? down.clientX : down.clientY;
    const size = axis === "x" ? pane.width : pane.height;
    const move = (e) => set(size + (axis === "x" ? e.clientX : e.clientY) - origin);
    const up = () => { bar.removeEventListener("pointermove", move); bar.removeEventListener("pointerup", up); };
    bar.addEventListener("pointermove", move);
    bar.addEventListener("pointerup", up);
  });
  bar.addEventListener("keydown", (e) => {
    const pane = bar.previousElementSibling.getBoundingClientRect();
    const size = axis === "x" ? pane.width : pane.height;
    const step = { ArrowLeft: -40, ArrowUp: -40, ArrowRight: 40, ArrowDown: 40 }[e.key];
    if (step) { set(size + step); e.preventDefault(); }
  });
}

function emergencyForm() {
  const dialog = document.getElementById("emergency-dialog");
  if (!dialog) return;
  const form = document.getElementById("emergency-form");
  document.getElementById("new-emergency").addEventListener("click", () => dialog.showModal());
  document.getElementById("emergency-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const answer = await api("/api/v1/requests/", {
      method: "POST",
      body: {
        kind: "emergency", channel: "dispatcher", customer: Number(data.get("customer")),
        category: data.get("category"), description: data.get("description"),
        required_skills: data.get("skill") ? [data.get("skill")] : [],
      },
    });
    const error = document.getElementById("form-error");
    if (answer.ok) { error.textContent = ""; form.reset(); dialog.close(); return; }
    error.textContent = problemText(answer.data);
  });
  // Find any customer (the list holds the first ones only): by phone or by name/address.
  const search = document.getElementById("customer-search");
  const select = form.querySelector("select[name=customer]");
  const first = [...select.options].map((o) => o.cloneNode(true)); // the list as it came
  const hint = document.getElementById("customer-search-hint");
  let timer;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (q.length < 2) {
        select.replaceChildren(...first.map((o) => o.cloneNode(true)));
        hint.textContent = "";
        return;
      }
      const byPhone = /^[+\d\s()-]+$/.test(q) && q.replace(/\D/g, "").length >= 5;
      const params = new URLSearchParams(byPhone ? { phone: q } : { search: q });
      params.set("limit", "20");
      const answer = await api(`/api/v1/customers/?${params}`);
      if (!answer.ok) return;
      const found = (answer.data.results || answer.data).filter((c) => c.lat !== null);
      select.replaceChildren(...found.map((c) => new Option(`${c.name} — ${c.address}`, c.id)));
      hint.textContent = found.length ? (answer.data.next ? text.more_found : "") : text.none_found;
    }, 250);
  });
}

splitter("split-queue", "--queue-width", { axis: "x", min: 320, max: () => window.innerWidth - 360 });
splitter("split-map", "--timeline-height", { axis: "y", min: 160, max: () => window.innerHeight - 200 });
emergencyForm();
window.board = new Board();
