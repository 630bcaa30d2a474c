// The web-chat widget a client puts on its own site with one tag:
//   <script src="PLATFORM/chat/widget.js" data-client="<public key>" async></script>
// It asks nothing of the host page: no inline script or style (its styles are set through the
// CSSOM, which a Content-Security-Policy does not restrict), no cookie, no third party: every
// request goes to the platform the script came from. Text is always set as text, never as HTML.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.client) return;
  const key = script.dataset.client;
  const origin = new URL(script.src, location.href).origin;
  const api = (path) => `${origin}/chat/api/${path}`;
  const storeKey = `chat-token:${key}`;
  let config, token = sessionStorage.getItem(storeKey), lastSeq = 0, socket = null, backoff = 500;

  function el(tag, style, attrs) {
    const node = document.createElement(tag);
    Object.assign(node.style, style || {});
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    return node;
  }

  const FONT = { fontFamily: "system-ui, sans-serif", fontSize: "14px", lineHeight: "1.4", boxSizing: "border-box" };
  const root = el("div", { position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000", ...FONT }, { "data-chat-widget": "" });
  const launcher = el("button", { border: "0", borderRadius: "24px", padding: "12px 18px", color: "#fff", cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.3)", ...FONT }, { type: "button", "data-testid": "chat-launcher" });
  const panel = el("div", { display: "none", flexDirection: "column", width: "320px", maxWidth: "calc(100vw - 32px)", height: "440px", maxHeight: "calc(100vh - 32px)", background: "#fff", color: "#222", borderRadius: "10px", boxShadow: "0 4px 18px rgba(0,0,0,.3)", overflow: "hidden" }, { role: "dialog", "data-testid": "chat-panel" });
  const header = el("div", { padding: "10px 12px", color: "#fff", display: "flex", justifyContent: "space-between", alignItems: "center", fontWeight: "600" });
  const title = el("span", {}, { "data-testid": "chat-client" });
  const close = el("button", { background: "transparent", border: "0", color: "#fff", fontSize: "18px", cursor: "pointer" }, { type: "button", text: "×" });
  const body = el("div", { flex: "1", overflowY: "auto", padding: "10px", display: "flex", flexDirection: "column", gap: "6px" }, { "data-testid": "chat-messages", "aria-live": "polite" });
  const footer = el("div", { borderTop: "1px solid #ddd", padding: "8px", display: "flex", flexDirection: "column", gap: "6px" });
  header.append(title, close);
  panel.append(header, body, footer);
  root.append(launcher, panel);

  const input = (placeholder, attrs) => el("input", { padding: "6px 8px", border: "1px solid #bbb", borderRadius: "6px", width: "100%", ...FONT }, { placeholder, "aria-label": placeholder, ...attrs });
  const button = (label, attrs) => el("button", { padding: "6px 10px", border: "0", borderRadius: "6px", color: "#fff", background: config.colour, cursor: "pointer", ...FONT }, { type: "button", text: label, ...attrs });
  const row = (...children) => { const r = el("div", { display: "flex", gap: "6px" }); r.append(...children); return r; };

  function note(textValue, testid) {
    const p = el("p", { margin: "0", color: "#555", fontStyle: "italic" }, { text: textValue });
    if (testid) p.setAttribute("data-testid", testid);
    body.append(p);
    body.scrollTop = body.scrollHeight;
  }

  function show(message) {
    if (message.seq <= lastSeq) return;
    lastSeq = message.seq;
    const mine = message.direction === "in";
    const bubble = el("div", { alignSelf: mine ? "flex-end" : "flex-start", background: mine ? "#e8eef6" : "#f1f1f1", borderRadius: "8px", padding: "6px 8px", maxWidth: "85%", whiteSpace: "pre-wrap", overflowWrap: "anywhere" }, { "data-testid": mine ? "chat-mine" : "chat-theirs" });
    const who = el("div", { fontSize: "12px", color: "#666" }, { text: mine ? config.text.you : (message.author || config.text.operator) });
    const text = el("div", {}, { text: message.body || (message.attachment ? "📷" : "") });
    bubble.append(who, text);
    body.append(bubble);
    body.scrollTop = body.scrollHeight;
  }

  async function call(path, options) {
    const headers = { ...(options && options.headers) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(api(path), { ...options, headers, credentials: "omit", mode: "cors" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 400 && data.token) { forget(); }
      throw new Error(data.detail || config.text.error);
    }
    return data;
  }

  const postJson = (path, data) => call(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

  function forget() {
    token = null;
    sessionStorage.removeItem(storeKey);
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
  }

  async function catchUp() {
    const data = await call(`messages/?after=${lastSeq}`);
    data.messages.forEach(show);
  }

  function listen() {
    const url = `${origin.replace(/^http/, "ws")}/ws/chat/?token=${encodeURIComponent(token)}`;
    socket = new WebSocket(url);
    socket.onopen = () => { backoff = 500; catchUp().catch(() => {}); };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type !== "message") return;
      if (frame.seq > lastSeq + 1) catchUp().catch(() => {}); else show(frame);
    };
    socket.onclose = () => {
      if (!token) return;
      setTimeout(listen, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  function conversation() {
    footer.replaceChildren();
    const text = input(config.text.placeholder, { maxlength: "2000", "data-testid": "chat-input" });
    const send = button(config.text.send, { "data-testid": "chat-send" });
    const photo = el("input", { fontSize: "12px" }, { type: "file", accept: "image/jpeg,image/png,image/webp", "aria-label": config.text.photo, "data-testid": "chat-photo" });
    const who = input(config.text.identify, { maxlength: "40", "data-testid": "chat-identify" });
    const identify = button(config.text.identify_send, { "data-testid": "chat-identify-send" });
    const submit = async () => {
      const value = text.value.trim();
      if (!value) return;
      send.disabled = true;
      try { show(await postJson("messages/", { body: value })); text.value = ""; }
      catch (error) { note(error.message, "chat-error"); }
      finally { send.disabled = false; text.focus(); }
    };
    send.addEventListener("click", submit);
    text.addEventListener("keydown", (event) => { if (event.key === "Enter") submit(); });
    identify.addEventListener("click", async () => {
      if (!who.value.trim()) return;
      try {
        const data = await postJson("identify/", { value: who.value.trim() });
        note(data.matched ? config.text.identified : config.text.not_identified, "chat-identified");
      } catch (error) { note(error.message, "chat-error"); }
    });
    photo.addEventListener("change", async () => {
      if (!photo.files.length) return;
      const form = new FormData();
      form.append("photo", photo.files[0]);
      try { show(await call("photo/", { method: "POST", body: form })); }
      catch (error) { note(error.message, "chat-error"); }
      photo.value = "";
    });
    footer.append(row(text, send), row(who, identify), photo);
    listen();
  }

  function startForm() {
    footer.replaceChildren();
    const name = input(config.text.name, { maxlength: "80", "data-testid": "chat-name" });
    const start = button(config.text.start, { "data-testid": "chat-start" });
    start.addEventListener("click", async () => {
      start.disabled = true;
      try {
        const data = await postJson("start/", { client: key, name: name.value.trim() });
        token = data.token;
        sessionStorage.setItem(storeKey, token);
        note(config.text.waiting);
        conversation();
      } catch (error) { note(error.message, "chat-error"); start.disabled = false; }
    });
    footer.append(row(name, start));
  }

  function offlineForm() {
    footer.replaceChildren();
    note(config.text.offline_intro, "chat-offline-intro");
    const name = input(config.text.name, { maxlength: "80", "data-testid": "chat-name" });
    const reach = input(config.text.offline_contact, { maxlength: "254", "data-testid": "chat-reach" });
    const message = el("textarea", { padding: "6px 8px", border: "1px solid #bbb", borderRadius: "6px", width: "100%", ...FONT }, { rows: "3", maxlength: "2000", placeholder: config.text.placeholder, "aria-label": config.text.placeholder, "data-testid": "chat-offline-message" });
    const send = button(config.text.offline_send, { "data-testid": "chat-offline-send" });
    send.addEventListener("click", async () => {
      send.disabled = true;
      try {
        await postJson("offline/", { client: key, name: name.value.trim(), contact: reach.value.trim(), message: message.value.trim() });
        footer.replaceChildren();
        note(config.text.offline_done, "chat-offline-done");
      } catch (error) { note(error.message, "chat-error"); send.disabled = false; }
    });
    footer.append(name, reach, message, send);
  }

  function toggle(open) {
    panel.style.display = open ? "flex" : "none";
    launcher.style.display = open ? "none" : "inline-block";
  }

  async function init() {
    const response = await fetch(api(`config/?client=${encodeURIComponent(key)}`), { credentials: "omit", mode: "cors" });
    if (!response.ok) return; // an unknown or disabled key: no widget at all
    config = await response.json();
    launcher.textContent = config.text.open;
    launcher.style.background = config.colour;
    header.style.background = config.colour;
    title.textContent = config.name;
    close.setAttribute("aria-label", config.text.close);
    root.setAttribute("lang", config.language);
    launcher.addEventListener("click", () => toggle(true));
    close.addEventListener("click", () => toggle(false));
    document.body.append(root);
    if (token) { conversation(); toggle(true); }
    else if (config.open) startForm();
    else offlineForm();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
