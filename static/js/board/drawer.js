// The job drawer: the customer and how to reach them, the promise, the history with who did
// what, the visits, the engine's decision ("why not X"), and the actions.
import {
  api, categoryOf, config, counted, el, fill, fmt, fmtRange, fromLocalInput, statusOf, text,
  toLocalInput,
} from "./common.js";

const t = text.drawer;
const a = text.actions;
const UNASSIGNABLE = new Set(["scheduled", "accepted", "en_route"]);
const PINNABLE = new Set(["scheduled", "accepted", "en_route", "on_site"]);
const CLOSED = new Set(["completed", "cancelled"]);
const ON_THE_WAY = new Set(["en_route", "on_site"]);

export class Drawer {
  constructor(board) {
    this.board = board;
    this.node = document.getElementById("drawer");
    this.id = null;
    this.node.addEventListener("keydown", (e) => { if (e.key === "Escape") this.close(); });
  }

  async open(id, { focus = false } = {}) {
    this.id = id;
    const answer = await api(`/api/v1/board/requests/${id}/`);
    if (this.id !== id) return; // another was opened meanwhile
    if (!answer.ok) { this.close(); return; }
    this.data = answer.data;
    // Read again while the dispatcher types: what they are writing stays.
    const typing = this.node.contains(document.activeElement) ? document.activeElement.name : null;
    const reason = this.node.querySelector("input[name=reason]")?.value || "";
    this.render();
    this.show(true);
    const field = this.node.querySelector("input[name=reason]");
    if (field) field.value = reason;
    const again = typing && this.node.querySelector(`[name=${typing}]`);
    if (again) again.focus();
    else if (focus) (this.node.querySelector("select[name=technician]") || this.node).focus();
  }

  reload() {
    if (this.id !== null && !this.node.hidden) this.open(this.id);
  }

  show(open) {
    this.node.hidden = !open;
    document.getElementById("panes").classList.toggle("with-drawer", open);
    window.dispatchEvent(new Event("resize")); // the timeline and the map take the new width
  }

  close() {
    this.show(false);
    this.id = null;
    this.board.deselect();
  }

  render() {
    const { request: r, customer, history, visits, decisions, description } = this.data;
    const visit = r.visit;
    const others = this.board.presence.on(r.id);
    this.node.replaceChildren(...[
      el("header", {},
        el("h2", { id: "drawer-title" }, `${r.number} · `,
          el("span", { class: `badge ${r.kind}` }, r.kind === "emergency" ? text.emergency : text.planned),
          " ", categoryOf(r)),
        el("button", { type: "button", class: "link close", "aria-label": a.close, onclick: () => this.close() }, "✕")),
      el("p", { class: "drawer-status", dataset: { testid: "drawer-status" } },
        statusOf(r), r.urgency ? ` · ${text[r.urgency] || r.urgency}` : "",
        r.held ? ` · ${text.held}` : "",
        visit ? ` · ${visit.technician} ${fmtRange(visit.planned_start, visit.planned_end)}` : ""),
      others.length ? el("p", { class: "presence" }, others.join(", ")) : null,
      this.actions(r),
      el("dl", {},
        el("dt", {}, t.customer), el("dd", {}, customer.name,
          customer.account_number ? ` · ${customer.account_number}` : "",
          customer.phone ? el("div", {}, el("a", { href: `tel:${customer.phone}`, class: "tel" }, `☎ ${t.phone} ${customer.phone}`)) : null,
          customer.email ? el("div", {}, el("a", { href: `mailto:${customer.email}` }, customer.email)) : null),
        el("dt", {}, t.address), el("dd", {}, r.address || customer.address,
          " ", el("button", { type: "button", class: "link", onclick: () => this.board.map.focus(r.id) }, t.on_map)),
        r.window_start ? [el("dt", {}, t.window), el("dd", {}, fmtRange(r.window_start, r.window_end))] : null,
        r.response_due ? [el("dt", {}, t.due), el("dd", {}, fmt(r.response_due))] : null,
        r.required_skills && r.required_skills.length
          ? [el("dt", {}, t.skills), el("dd", {}, r.required_skills.join(", "))] : null,
        description ? [el("dt", {}, t.description), el("dd", { class: "description" }, description)] : null),
      this.decision(decisions),
      el("h3", {}, t.visits),
      el("ul", { class: "visits" }, visits.map((v) => el("li", {},
        `${v.technician} · ${text.visit_status[v.status] || v.status} · ${fmtRange(v.planned_start, v.planned_end)}`,
        v.pinned ? ` · ${text.pinned}` : "",
        v.reason ? ` · ${v.reason}` : "", v.note ? el("div", { class: "sub" }, v.note) : null))),
      el("h3", {}, t.history),
      el("ol", { class: "history", dataset: { testid: "history" } }, history.map((h) => el("li", {},
        el("time", { datetime: h.at }, fmt(h.at)), " ",
        h.from_status ? `${text.status[h.from_status] || h.from_status} → ` : "",
        text.status[h.to_status] || h.to_status,
        ` · ${h.actor || t.system}`, h.reason ? ` · ${h.reason}` : ""))),
    ].filter(Boolean));
  }

  decision(decisions) {
    const latest = decisions && decisions.length ? decisions[decisions.length - 1] : null;
    if (!latest) return el("section", { class: "decision" }, el("h3", {}, t.decision), el("p", { class: "hint" }, t.no_decision));
    const excluded = latest.excluded.filter((x) => x.technician_id);
    const more = latest.excluded.find((x) => x.more);
    return el("section", { class: "decision", dataset: { testid: "decision" } },
      el("h3", {}, t.decision, " ", el("span", { class: "hint" }, fmt(latest.at))),
      latest.candidates.length ? [el("h4", {}, t.candidates), el("ol", { class: "candidates" },
        latest.candidates.map((c) => el("li", { class: c.technician_id === latest.technician_id ? "chosen" : "" },
          el("b", {}, c.name),
          c.technician_id === latest.technician_id ? ` ✓ ${t.chosen}` : "",
          c.eta_minutes != null ? ` · ${fill(t.eta, { minutes: Math.round(c.eta_minutes) })}` : "",
          c.start ? ` · ${fmt(c.start)}` : "",
          c.travel_minutes != null ? ` · ${fill(t.travel, { minutes: Math.round(c.travel_minutes) })}` : "",
          c.visits_pushed ? ` · ${counted(t.pushes, c.visits_pushed)}` : "",
          c.windows_broken ? ` · ${counted(t.breaks, c.windows_broken)}` : "")))] : null,
      excluded.length ? [el("h4", {}, t.excluded), el("ul", { class: "excluded" },
        excluded.map((x) => el("li", {}, el("b", {}, x.name), ": ", text.exclusions[x.reason] || x.reason)),
        more ? el("li", { class: "hint" }, fill(t.more, { n: more.more })) : null)] : null,
    );
  }

  actions(r) {
    if (!config.can_dispatch || CLOSED.has(r.status)) return null;
    // The live visit with what the queue's row leaves out (pinned).
    const visit = r.visit && { ...r.visit, ...this.data.visits.find((v) => v.id === r.visit.id) };
    const actions = this.board.actions;
    const technicians = this.board.timeline.technicians;
    const initial = r.window_start && new Date(r.window_start) > new Date() ? new Date(r.window_start)
      : new Date(Math.ceil((Date.now() + 15 * 60000) / (5 * 60000)) * 5 * 60000);
    const technician = el("select", { name: "technician", required: true },
      technicians.map((x) => el("option", { value: x.id, selected: visit && visit.technician_id === x.id }, x.name)));
    const start = el("input", { type: "datetime-local", name: "start", required: true,
      value: toLocalInput(visit ? new Date(visit.planned_start) : initial) });
    const reason = el("input", { type: "text", name: "reason", maxlength: 300, placeholder: a.reason, "aria-label": a.reason });
    const form = el("form", { class: "assign", "aria-label": a.assign,
      onsubmit: (e) => { e.preventDefault(); actions.assign(r.id, technician.value, fromLocalInput(start.value)); } },
    el("label", {}, a.technician, technician), el("label", {}, a.start, start),
    el("button", { type: "submit", dataset: { action: "assign" } }, a.assign));
    const button = (label, action, handler, cls = "secondary") =>
      el("button", { type: "button", class: cls, dataset: { action }, onclick: handler }, label);
    const escalated = r.status === "escalated";
    return el("section", { class: "drawer-actions" },
      form,
      el("div", { class: "actions" },
        visit && PINNABLE.has(visit.status)
          ? button(visit.pinned ? a.unpin : a.pin, "pin", () => actions.pin(r.id, visit.id, !visit.pinned)) : null,
        visit && UNASSIGNABLE.has(visit.status)
          ? button(a.unassign, "unassign", () => actions.unassign(r.id, visit.id, reason.value)) : null,
        r.held ? button(a.release, "release", () => actions.release(r.id, reason.value)) : null,
        r.kind === "planned" && !(visit && ON_THE_WAY.has(visit.status))
          ? button(a.offer_window, "offer-window", () => actions.offerWindow(r.id, reason.value)) : null,
        !visit || escalated ? button(escalated ? a.deescalate : a.escalate, "escalate",
          () => actions.escalate(r.id, !escalated, reason.value), escalated ? "secondary" : "danger") : null),
      reason);
  }
}
