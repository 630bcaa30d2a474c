// One contact's screen: its conversation arrives live (numbered; a gap is caught up over HTTP).
"use strict";
import { connect, json } from "./socket.js";

const live = json("contacts-live");
const text = json("contacts-text");
const list = document.getElementById("conversation");
let lastSeq = live.seq;

function append(message) {
  if (message.seq <= lastSeq || list.querySelector(`li[data-seq="${message.seq}"]`)) return;
  const li = document.createElement("li");
  li.className = `msg msg-${message.direction}`;
  li.dataset.seq = message.seq;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = message.direction === "in" ? text.customer : message.author;
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = message.body; // text, never HTML
  li.append(who, body);
  if (message.attachment) {
    const a = document.createElement("a");
    a.className = "file";
    a.href = `${location.pathname}files/${message.seq}/`;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = `${text.attachment} (${message.attachment_type})`;
    li.append(a);
  }
  const time = document.createElement("time");
  time.textContent = new Date(message.at).toLocaleTimeString(document.documentElement.lang || undefined, {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: live.time_zone,
  });
  li.append(time);
  list.append(li);
  lastSeq = message.seq;
  list.scrollTop = list.scrollHeight;
}

async function catchUp() {
  const response = await fetch(`/api/v1/contacts/${live.contact}/messages/?after=${lastSeq}`, { credentials: "same-origin" });
  if (response.ok) for (const message of await response.json()) append(message);
}

list.scrollTop = list.scrollHeight;
connect({
  live,
  status: document.getElementById("live-status"),
  onEvent: () => {},
  onOpen: (socket) => { socket.send(JSON.stringify({ type: "open", contact: live.contact })); catchUp(); },
  onFrame: (frame) => {
    if (frame.type !== "message") return;
    if (frame.seq > lastSeq + 1) catchUp(); else append(frame);
  },
});
