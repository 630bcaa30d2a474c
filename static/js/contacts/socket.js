// The contact center's socket: queue events of each client (numbered per client; a gap means a
// missed push, and the page reloads its data), and the frames of an opened conversation.
"use strict";

export function wsUrl(path, configured) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const base = configured && configured.startsWith(":") ? `${scheme}://${location.hostname}${configured}`
    : configured || `${scheme}://${location.host}`;
  return base.replace(/\/$/, "") + path;
}

export function connect({ live, onEvent, onGap, onFrame, onOpen, status }) {
  const lastSeq = new Map(); // client → last event number seen
  let backoff = 500;
  const open = () => {
    const socket = new WebSocket(wsUrl("/ws/contacts/", live.ws_url));
    socket.onopen = () => {
      backoff = 500;
      if (status) { status.textContent = ""; status.classList.add("on"); }
      if (onOpen) onOpen(socket);
    };
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "event") {
        const tenant = frame.data.tenant;
        const last = lastSeq.get(tenant);
        if (last !== undefined && frame.seq > last + 1 && onGap) onGap(tenant);
        lastSeq.set(tenant, Math.max(last || 0, frame.seq));
        onEvent(frame);
      } else if (onFrame) onFrame(frame);
    };
    socket.onclose = () => {
      if (status) status.classList.remove("on");
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  };
  open();
}

export function json(id) {
  return JSON.parse(document.getElementById(id).textContent);
}
