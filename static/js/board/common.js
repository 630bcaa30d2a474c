// What every part of the board shares: its configuration, its words, times in the tenant's
// zone, and calls to the API.

export const config = JSON.parse(document.getElementById("board-config").textContent);
export const text = JSON.parse(document.getElementById("board-text").textContent);

const language = document.documentElement.lang || "en";
const plurals = new Intl.PluralRules(language);

// "%(n)s customers" in the language's own plural form (the forms come from the server).
export function counted(forms, n) {
  const form = forms[plurals.select(n)] || forms.other;
  return fill(form, { n });
}

// Django-style "%(name)s" placeholders.
export function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

// Times are shown in the tenant's zone, whatever the dispatcher's computer is set to.
const time = new Intl.DateTimeFormat(language, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: config.time_zone,
});
const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: config.time_zone });
// "30.11": month names are missing from some browsers' Kazakh data ("M11").
const dayLabel = (moment) => dayOf.format(moment).slice(5).split("-").reverse().join(".");

export const localDay = (moment) => dayOf.format(moment);
export const shortDay = (moment) => dayLabel(moment);

// Today's times alone; another day's with the day, so tomorrow's 11:00 never reads as today's.
export function fmt(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  const today = dayOf.format(new Date()) === dayOf.format(moment);
  return today ? time.format(moment) : `${dayLabel(moment)} ${time.format(moment)}`;
}

export const clock = (iso) => (iso ? time.format(new Date(iso)) : "");

// A window within one day names the day once: "30.11 17:00–19:00".
export function fmtRange(from, to) {
  const sameDay = dayOf.format(new Date(from)) === dayOf.format(new Date(to));
  return sameDay ? `${fmt(from)}–${clock(to)}` : `${fmt(from)}–${fmt(to)}`;
}

// The offset of the tenant's zone at a moment, in minutes (for <input type=datetime-local>).
export function zoneOffset(moment) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: config.time_zone, hourCycle: "h23", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(moment);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - moment.getTime()) / 60000);
}

// "2026-12-06T14:30" in the tenant's zone, for a datetime-local field, and back.
export function toLocalInput(moment) {
  const shifted = new Date(moment.getTime() + zoneOffset(moment) * 60000);
  return shifted.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  const naive = new Date(`${value}:00Z`);
  return new Date(naive.getTime() - zoneOffset(naive) * 60000);
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// One call to the API: {ok, status, data}. Never throws on an HTTP error; a network failure
// reads as status 0.
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  try {
    const response = await fetch(path, {
      method, credentials: "same-origin", headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { detail: String(error) } };
  }
}

// A problem answer as one line: "detail", or "field: message; field: message".
export function problemText(data) {
  if (!data || typeof data !== "object") return "";
  if (data.detail) return String(data.detail);
  return Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
}

export const statusOf = (r) => text.status[r.status] || r.status_label || r.status;
export const categoryOf = (r) => text.category[r.category] || r.category_label || r.category;
export const noteOf = (r) => text.plan_note[r.plan_note] || r.plan_note;

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer;
export function toast(message, { error = false } = {}) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = `toast${error ? " error" : ""}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}
