// The operator's and the supervisor's queues, updated in place from the contacts' live events.
"use strict";
import { connect, json } from "./socket.js";

const live = json("contacts-live");
const text = json("contacts-text");
const CLOSED = "done";

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
  return td;
}

function link(contact) {
  const a = document.createElement("a");
  a.href = text.contact_url.replace("/0/", `/${contact.id}/`);
  a.textContent = contact.number;
  return a;
}

function chip(contact) {
  const span = document.createElement("span");
  span.className = "client-chip";
  span.style.setProperty("--client", contact.client_colour);
  span.textContent = contact.client;
  return span;
}

function rowFor(contact) {
  const tr = document.createElement("tr");
  tr.dataset.id = contact.id;
  tr.dataset.tenant = contact.tenant;
  tr.className = `status-${contact.status}`;
  // In the client's time zone and the page's language, as the server renders the first rows.
  const due = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: contact.time_zone,
  }).format(new Date(contact.sla_due));
  tr.append(
    cell(chip(contact)), cell(link(contact)), cell(text.channels[contact.channel]),
    cell(contact.customer_name || contact.sender), cell(text.statuses[contact.status]),
    cell(due),
    cell(contact.assigned_name || "—"),
  );
  return tr;
}

function apply(contact) {
  // The operator's page has one table; the supervisor's one per client.
  const body = document.getElementById("contact-rows") || document.getElementById(`rows-${contact.tenant}`);
  if (!body) return;
  if (live.client && contact.tenant !== live.client) return;
  const existing = body.querySelector(`tr[data-id="${contact.id}"]`);
  if (contact.status === CLOSED) { if (existing) existing.remove(); return; }
  if (existing && body.id !== "contact-rows") {
    // The supervisor's rows hold a reassign form: only the status is refreshed in place.
    existing.className = `status-${contact.status}`;
    existing.children[2].textContent = text.statuses[contact.status];
    return;
  }
  const row = rowFor(contact);
  if (existing) existing.replaceWith(row);
  else {
    body.querySelector("tr.empty")?.remove();
    const later = [...body.querySelectorAll("tr[data-id]")].find((tr) => {
      const t = tr.querySelector("time");
      return t && new Date(t.getAttribute("datetime")) > new Date(contact.sla_due);
    });
    body.insertBefore(row, later || null);
  }
  if (!row.querySelector("time")) {
    const t = document.createElement("time");
    t.setAttribute("datetime", contact.sla_due);
    t.textContent = row.children[5].textContent;
    row.children[5].replaceChildren(t);
  }
}

async function resync() {
  const query = live.client ? `?limit=100&tenant=${live.client}` : "?limit=100";
  const response = await fetch(`/api/v1/contacts/${query}`, { credentials: "same-origin" });
  if (response.ok) for (const contact of await response.json()) apply(contact);
}

connect({
  live,
  status: document.getElementById("live-status"),
  onEvent: (frame) => { if (frame.kind === "contact.updated") apply(frame.data); },
  onGap: resync,
  onOpen: resync,
});
