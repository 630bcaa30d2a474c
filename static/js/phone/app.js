// The technician's day on the phone: the day's data (from the network, else the copy kept),
// every change queued in the outbox and replayed when the network answers, the live socket
// (polling when it is down), and the position shared while on the way (with consent).
import { config, counted, el, hhmm, post, text } from "./common.js";
import * as outbox from "./outbox.js";
import { ALLOWED_FROM, jobCard } from "./jobs.js";
import { resized } from "./proof.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const POLL_MS = 60000;
const LOCATION_EVERY_MS = 10000;
const EARLY_ARRIVAL_MS = 30 * 60000;

let day = null;
let queued = [];
let network = navigator.onLine ? "online" : "offline";
const cards = new Map(); // visit id → { key, node }

async function loadDay() {
  if (!day) {
    // The day the phone kept, drawn at once: the network's answer follows when it comes.
    day = await outbox.kept("day");
    if (day) await render();
  }
  try {
    const response = await fetch("/api/v1/me/day/", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) {
      // Signed out meanwhile (the page came from the phone's cache): sign in again.
      location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    const fresh = await response.json();
    if (fresh.technician.id !== config.technician) {
      // A page kept from another sign-in on this phone: the service worker has the new one now.
      location.reload();
      return;
    }
    day = fresh;
    await outbox.keep("day", day);
  } catch (error) {
    day = day || (await outbox.kept("day")); // no service worker yet, or nothing cached
  }
  await render();
}

function effective(visit) {
  let status = visit.status;
  let waiting = false;
  for (const action of queued) {
    if (action.visit !== visit.id) continue;
    waiting = true;
    if (action.kind === "step") status = action.to;
  }
  return { status, waiting };
}

async function render() {
  queued = await outbox.pending();
  await renderBanner();
  if (!day) return;
  $("day-date").textContent = day.date.split("-").reverse().join(".");
  $("consent").checked = day.technician.location_consent;
  const lunch = $("lunch-line");
  lunch.hidden = !(day.shift && day.shift.break_start);
  if (!lunch.hidden) lunch.textContent = `${text.lunch} ${hhmm(day.shift.break_start)}–${hhmm(day.shift.break_end)}`;
  const list = $("jobs");
  const seen = new Set();
  let previous = null;
  for (const visit of day.visits) {
    const state = effective(visit);
    const key = JSON.stringify([state, visit.status, visit.planned_start, visit.planned_end, visit.note, visit.request.window_start]);
    let entry = cards.get(visit.id);
    if (!entry || entry.key !== key) {
      const node = jobCard(visit, state, day, handlersFor(visit));
      if (entry) entry.node.replaceWith(node);
      entry = { key, node };
      cards.set(visit.id, entry);
    }
    seen.add(visit.id);
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (expected !== entry.node) list.insertBefore(entry.node, expected);
    previous = entry.node;
  }
  for (const [id, entry] of cards) if (!seen.has(id)) { entry.node.remove(); cards.delete(id); }
  let empty = list.querySelector(".empty");
  if (!day.visits.length && !empty) list.append(el("p", { class: "card empty" }, text.no_jobs));
  else if (day.visits.length && empty) empty.remove();
  watchLocation();
}

async function renderBanner() {
  const banner = $("sync-banner");
  const count = queued.length;
  if (network === "offline") {
    banner.className = "sync-banner offline";
    banner.textContent = text.offline + (count ? ` · ${counted(text.waiting, count)}` : "");
  } else if (count) {
    banner.className = "sync-banner waiting";
    banner.textContent = counted(text.waiting, count);
  } else {
    banner.className = "sync-banner synced";
    banner.textContent = `✓ ${text.synced}`;
  }
  const list = $("rejected");
  list.replaceChildren(...(await outbox.rejected()).map((row) => el("li", { "data-testid": "not-applied" },
    el("span", {}, `${text.not_applied}: ${row.to ? text.steps[row.to] || row.to : row.kind} (${hhmm(localIso(row.at))}) — ${row.detail}`),
    el("button", { type: "button", class: "secondary", onclick: async () => { await outbox.dismiss(row.client_id); renderBanner(); } }, text.dismiss))));
}

function localIso(iso) {
  const moment = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}T${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

// The same rules as the server's guard rails, asked before queueing (the server asks again on
// replay when something changed meanwhile).
function problemsOf(visit, status, to) {
  const now = Date.now();
  const problems = [];
  if (!(ALLOWED_FROM[to] || []).includes(status)) problems.push(text.out_of_order);
  if (day.shift && now < Date.parse(day.shift.start)) problems.push(text.before_shift);
  const start = visit.request.window_start && Date.parse(visit.request.window_start);
  if (start && ((to === "on_site" && now < start - EARLY_ARRIVAL_MS) || (["completed", "not_completed"].includes(to) && now < start))) {
    problems.push(text.before_window);
  }
  return problems;
}

function askWhy(problems) {
  const dialog = $("guard");
  dialog.querySelector(".problems").replaceChildren(...problems.map((p) => el("li", {}, p)));
  const why = dialog.querySelector("textarea");
  why.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm" && why.value.trim() ? why.value.trim() : null), { once: true });
    dialog.showModal();
  });
}

function handlersFor(visit) {
  const queue = async (fields) => {
    await outbox.queue({ visit: visit.id, ...fields });
    await render();
    sync();
  };
  return {
    async step(to, extra = {}) {
      const problems = problemsOf(visit, effective(visit).status, to);
      let confirmation = {};
      if (problems.length) {
        const why = await askWhy(problems);
        if (!why) return;
        confirmation = { confirm: true, why };
      }
      await queue({ kind: "step", to, ...extra, ...confirmation });
    },
    async complete({ resolution, checklist, signature, signer, note }) {
      const problems = problemsOf(visit, effective(visit).status, "completed");
      let confirmation = {};
      if (problems.length) {
        const why = await askWhy(problems);
        if (!why) return;
        confirmation = { confirm: true, why };
      }
      if (signature) await outbox.queue({ visit: visit.id, kind: "signature", data: signature, signer });
      if (note && note.trim()) await outbox.queue({ visit: visit.id, kind: "note", note: note.trim() });
      await queue({ kind: "step", to: "completed", resolution, checklist, ...confirmation });
    },
    async photo(file, kind) {
      const data = await resized(file);
      await queue({ kind: "photo", data, photo_kind: kind });
      return data;
    },
    note: (note) => queue({ kind: "note", note }),
    parts: (part, quantity) => queue({ kind: "parts", parts: [{ part, quantity: String(quantity) }] }),
    call: () => queue({ kind: "call" }),
  };
}

async function onGuard(action, problems) {
  return askWhy(problems.map((p) => p.message));
}

let syncing = null;
async function sync() {
  if (syncing) return syncing;
  syncing = (async () => {
    const outcome = await outbox.replay({ onGuard, onProgress: async () => {} });
    network = outcome === "offline" ? "offline" : "online";
    if (outcome === "synced") await loadDay();
    else await render();
  })().finally(() => { syncing = null; });
  return syncing;
}

// Live: new or changed jobs ring the technician's socket; the day is read again. Polling
// covers a socket that cannot connect.
let socket = null;
let reloadTimer = null;
function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => (queued.length ? sync() : loadDay()), 400);
}
function connect(backoff = 1000) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const base = config.wsUrl.startsWith(":") ? `${scheme}://${location.hostname}${config.wsUrl}` : config.wsUrl || `${scheme}://${location.host}`;
  try { socket = new WebSocket(base.replace(/\/$/, "") + "/ws/technician/"); } catch (error) { return; }
  socket.onopen = () => { backoff = 1000; };
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "event") scheduleReload();
  };
  socket.onclose = () => setTimeout(() => connect(Math.min(backoff * 2, 30000)), backoff);
}

// Location: only while a job is on the way (as the server holds it), only with consent.
let watcher = null;
let lastSent = 0;
function watchLocation() {
  const enRoute = day && day.technician.location_consent && day.visits.find((v) => v.status === "en_route" && effective(v).status === "en_route");
  const line = $("location-line");
  if (!enRoute || !navigator.geolocation) {
    if (watcher !== null) navigator.geolocation.clearWatch(watcher);
    watcher = null;
    line.hidden = true;
    return;
  }
  if (watcher !== null) return;
  line.hidden = false;
  line.textContent = text.sharing;
  watcher = navigator.geolocation.watchPosition((position) => sendPosition(enRoute.id, position), () => {}, {
    enableHighAccuracy: true, maximumAge: 5000, timeout: 20000,
  });
}

async function sendPosition(visitId, position) {
  if (Date.now() - lastSent < LOCATION_EVERY_MS) return;
  lastSent = Date.now();
  try {
    const response = await post("/api/v1/me/location/", {
      visit: visitId, lat: position.coords.latitude, lon: position.coords.longitude,
      accuracy: Math.round(position.coords.accuracy || 0),
    });
    if (!response.ok) return;
    const answer = await response.json();
    const line = $("location-line");
    line.textContent = `${text.sharing} · ${text.eta} ${hhmm(answer.eta)} (${answer.eta_minutes} ${text.minutes})` + (answer.near ? ` — ${text.near}` : "");
    line.classList.toggle("near", answer.near);
    const entry = cards.get(visitId);
    if (entry) entry.node.classList.toggle("near", answer.near);
  } catch (error) { /* offline: positions are not queued, they are stale by the time it returns */ }
}

$("consent").addEventListener("change", async (event) => {
  try {
    const response = await post("/api/v1/me/consent/", { location: event.target.checked });
    if (response.ok && day) { day.technician.location_consent = (await response.json()).location; await outbox.keep("day", day); }
  } catch (error) { event.target.checked = !event.target.checked; }
  watchLocation();
});

window.addEventListener("online", () => { network = "online"; sync(); });
window.addEventListener("offline", () => { network = "offline"; renderBanner(); });
setInterval(() => { if (queued.length) sync(); }, 15000);
setInterval(() => { if (!socket || socket.readyState !== WebSocket.OPEN) loadDay(); }, POLL_MS);

if ("serviceWorker" in navigator) navigator.serviceWorker.register(config.sw, { scope: "/tech/" }).catch(() => {});
// For tests and the benchmark: replay now, and what is queued.
window.phone = { sync, pending: outbox.pending, replayNow: () => outbox.replay({ onGuard, onProgress: async () => {} }), loadDay };
loadDay().then(sync);
connect();
