// Live feed: a WebSocket doorbell plus HTTP catch-up from the event table.
// Events carry a per-tenant sequence number; a gap (lost push, reconnect) triggers a catch-up,
// so the screen never silently misses a change. A heartbeat answered with the head sequence
// notices a socket that went silent (and a push lost right before it).
"use strict";

const HEARTBEAT_MS = 15000;
const SILENT_MS = 40000; // no answer for this long: the socket is dead, open another

class LiveFeed {
  constructor({ path, wsUrl, lastSeq, onEvent, onStatus, onFrame }) {
    this.path = path;
    this.wsUrl = wsUrl || "";
    this.lastSeq = lastSeq;
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.onFrame = onFrame || (() => {});
    this.heard = Date.now();
    setInterval(() => this.beat(), HEARTBEAT_MS);
    this.backoff = 500;
    this.catchingUp = null;
    this.behind = false; // an event came while catching up: fetch once more after this round
    this.connect();
  }

  url() {
    // wsUrl: empty = this origin (a proxy routes /ws/), ":8001" = this host on another port.
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const configured = this.wsUrl;
    const base = configured.startsWith(":") ? `${scheme}://${location.hostname}${configured}`
      : configured || `${scheme}://${location.host}`;
    return base.replace(/\/$/, "") + this.path;
  }

  connect() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = 500;
      this.heard = Date.now();
      this.onStatus(true);
      this.catchUp();
    };
    socket.onmessage = (message) => {
      this.heard = Date.now();
      const data = JSON.parse(message.data);
      if (data.type === "event") this.receive(data);
      else if (data.type === "pong") this.pong(data);
      else this.onFrame(data);
    };
    socket.onclose = () => {
      this.onStatus(false);
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  beat() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.heard > SILENT_MS) {
      this.socket.close(); // onclose shows "reconnecting" and opens a new one
      return;
    }
    this.send({ type: "ping" });
  }

  pong(frame) {
    // The server is ahead of this screen: a push was lost; read what was missed.
    if (typeof frame.seq === "number" && frame.seq > this.lastSeq) this.catchUp();
  }

  receive(event) {
    if (event.seq <= this.lastSeq) return;
    if (event.seq === this.lastSeq + 1 && !this.catchingUp) {
      this.apply(event);
    } else {
      // A catch-up already under way may have read the table before this event's commit.
      this.behind = true;
      this.catchUp();
    }
  }

  apply(event) {
    this.lastSeq = event.seq;
    this.onEvent(event);
  }

  catchUp() {
    if (this.catchingUp) return this.catchingUp;
    this.catchingUp = (async () => {
      try {
        for (;;) {
          this.behind = false;
          const response = await fetch(`/api/v1/events/?after=${this.lastSeq}`, {
            credentials: "same-origin", headers: { Accept: "application/json" },
          });
          if (!response.ok) break;
          const page = await response.json();
          for (const event of page.events) if (event.seq > this.lastSeq) this.apply(event);
          if (page.complete && !this.behind) break;
        }
      } finally {
        this.catchingUp = null;
      }
    })();
    return this.catchingUp;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
