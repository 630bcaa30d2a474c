// The queue: what needs a dispatcher first (escalated, late, at risk, unassigned, held) by time
// to its deadline, then the rest. Filtered and paged on the server; rows are updated in place,
// so focus, selection and scroll survive every live event.
import {
  api, categoryOf, config, counted, el, fill, fmt, fmtRange, noteOf, statusOf, text,
} from "./common.js";

const PAGE = 100;
const WAITING = new Set(["new", "rescheduled", "escalated"]);

// An emergency planned to arrive after its response deadline is as much at risk as a window.
const lateForSla = (r) => r.kind === "emergency" && r.visit && r.response_due
  && new Date(r.visit.planned_start) > new Date(r.response_due);
export const atRisk = (r) => r.window_at_risk || lateForSla(r);

export class Queue {
  constructor(board) {
    this.board = board;
    this.form = document.getElementById("filters");
    this.tbody = document.getElementById("rows");
    this.offset = 0;
    this.rows = new Map(); // id → the request as last seen (the queue's shape)
    this.unfolded = new Set();
    this.timer = null;
    this.loading = null;
    this.again = false;
    this.form.addEventListener("input", () => { this.offset = 0; this.reloadSoon(250); });
    this.form.addEventListener("submit", (e) => e.preventDefault());
    document.getElementById("page-prev").addEventListener("click", () => this.page(-1));
    document.getElementById("page-next").addEventListener("click", () => this.page(1));
    this.tbody.addEventListener("keydown", (e) => this.onKey(e));
  }

  filters() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(this.form)) if (value) params.set(key, value);
    return params;
  }

  filtered() {
    return [...this.filters().keys()].length > 0;
  }

  setNeeds(needs) {
    this.form.elements.needs.value = needs;
    this.offset = 0;
    this.reload();
  }

  page(step) {
    this.offset = Math.max(0, this.offset + step * PAGE);
    this.reload();
  }

  // Live events come in bursts: one read of the page after the burst, not one per event.
  reloadSoon(delay = 400) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.reload(); }, delay);
  }

  async reload() {
    if (this.loading) { this.again = true; return this.loading; }
    this.loading = (async () => {
      do {
        this.again = false;
        const params = this.filters();
        params.set("limit", PAGE);
        params.set("offset", this.offset);
        const answer = await api(`/api/v1/board/queue/?${params}`);
        if (!answer.ok) break;
        this.show(answer.data);
        // The alerts are about everything open, whatever this dispatcher filters on.
        const everything = this.filtered() ? await api("/api/v1/board/queue/?limit=1") : answer;
        if (everything.ok) this.board.alerts.show(everything.data.counts);
      } while (this.again);
      this.loading = null;
    })();
    return this.loading;
  }

  show(page) {
    this.rows = new Map(page.results.map((r) => [r.id, r]));
    this.render();
    const counts = page.counts;
    document.getElementById("count-open").textContent = counts.open;
    document.getElementById("count-unassigned").textContent = counts.unassigned;
    document.getElementById("count-escalated").textContent = counts.escalated;
    document.getElementById("count-at-risk").textContent = counts.at_risk;
    const first = page.count ? this.offset + 1 : 0;
    const last = this.offset + page.results.length;
    document.getElementById("page-info").textContent = fill(text.page, { first, last, count: page.count });
    document.getElementById("page-prev").disabled = this.offset === 0;
    document.getElementById("page-next").disabled = page.next_offset === null;
    const empty = document.getElementById("queue-empty");
    empty.hidden = page.count > 0;
    empty.textContent = text.none_match;
    this.board.map.showJobs([...this.rows.values()]);
  }

  // A live event: the row changes where it stands; the order and counts follow on the next read.
  apply(request) {
    const known = this.rows.get(request.id);
    if (known) {
      if (known.version && request.version && request.version < known.version) return;
      this.rows.set(request.id, { ...known, ...request });
      const tr = this.tbody.querySelector(`tr[data-id='${request.id}']`);
      if (tr) this.fill(tr, this.rows.get(request.id));
    }
    this.reloadSoon();
  }

  get(id) {
    return this.rows.get(id);
  }

  // Rows are reused by id: a row that stays keeps its element, and with it focus and selection.
  render() {
    const wanted = this.lines([...this.rows.values()]);
    const existing = new Map([...this.tbody.children].map((tr) => [tr.dataset.key, tr]));
    const out = wanted.map(([key, build, update]) => {
      const tr = existing.get(key) || build();
      existing.delete(key);
      update(tr);
      return tr;
    });
    for (const stale of existing.values()) stale.remove();
    out.forEach((tr, i) => {
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] || null);
    });
    this.markSelected(this.board.selected);
  }

  // [key, build, update] per line: a request, or one outage reported by many customers.
  lines(open) {
    const out = [], seen = new Set(), byIncident = new Map();
    for (const r of open) {
      if (r.incident_id) byIncident.set(r.incident_id, [...(byIncident.get(r.incident_id) || []), r]);
    }
    const line = (r, nested) => [`r${r.id}`, () => this.row(r), (tr) => {
      this.fill(tr, this.rows.get(r.id));
      tr.classList.toggle("in-incident", nested);
    }];
    for (const r of open) {
      const members = r.incident_id ? byIncident.get(r.incident_id) : null;
      if (!members || members.length < 2) { out.push(line(r, false)); continue; }
      if (seen.has(r.incident_id)) continue;
      seen.add(r.incident_id);
      out.push([`i${r.incident_id}`, () => this.incidentRow(r.incident_id), (tr) => this.fillIncident(tr, members)]);
      if (this.unfolded.has(r.incident_id)) out.push(...members.map((m) => line(m, true)));
    }
    return out;
  }

  row(r) {
    const tr = el("tr", { tabindex: 0, dataset: { key: `r${r.id}`, id: r.id } });
    tr.addEventListener("click", () => this.board.select(Number(tr.dataset.id)));
    tr.addEventListener("dragstart", (e) => this.onDragStart(e, Number(tr.dataset.id)));
    tr.addEventListener("dragend", () => this.board.presence.dragging(null));
    return tr;
  }

  fill(tr, r) {
    // A row that reads the same is left alone: the element under a pointer or a caret stays.
    const others = this.board.presence.on(r.id);
    const signature = JSON.stringify([r, others, tr.classList.contains("in-incident")]);
    if (tr.signature === signature) return;
    tr.signature = signature;
    const urgent = atRisk(r);
    // The class names are what other screens and tests key on: kind, status, at risk.
    tr.className = `kind-${r.kind} status-${r.status}${urgent ? " at-risk" : ""}`
      + (tr.classList.contains("in-incident") ? " in-incident" : "");
    tr.dataset.status = r.status;
    tr.dataset.urgency = r.urgency || "";
    tr.draggable = config.can_dispatch && !this.board.presence.lockedBy(r.id);
    const status = (r.plan_note ? `${statusOf(r)} — ${noteOf(r)}` : statusOf(r))
      // The customer reported it again (any channel): joined here, not a second request.
      + (r.reports > 1 ? ` · ${text.reported_again} ×${r.reports}` : "");
    const flags = [];
    if (urgent) flags.push(`⚠ ${text.at_risk}`);
    if (r.urgency === "late") flags.push(`⚠ ${text.late}`);
    if (r.held) flags.push(text.held);
    const when = r.window_start ? fmtRange(r.window_start, r.window_end)
      : r.response_due ? `${text.due} ${fmt(r.response_due)}` : "";
    tr.replaceChildren(
      el("td", { class: "num" }, r.number),
      el("td", { class: "what" },
        el("span", { class: `badge ${r.kind}` }, r.kind === "emergency" ? text.emergency : text.planned),
        " ", categoryOf(r),
        el("div", { class: "sub" }, `${r.customer} · ${r.address}`),
        others.length ? el("div", { class: "presence" }, others.join(", ")) : null),
      el("td", { class: "status" }, status),
      el("td", { class: "technician" }, r.visit ? r.visit.technician : text.unassigned),
      el("td", { class: "window" }, [when, ...flags].filter(Boolean).join(" ")),
    );
  }

  incidentRow(id) {
    const tr = el("tr", { class: "incident", tabindex: 0, dataset: { key: `i${id}`, incident: id } });
    tr.addEventListener("click", () => {
      this.unfolded.has(id) ? this.unfolded.delete(id) : this.unfolded.add(id);
      this.render();
    });
    return tr;
  }

  fillIncident(tr, members) {
    const lead = members[0];
    const waiting = members.filter((r) => WAITING.has(r.status)).length;
    tr.setAttribute("aria-expanded", this.unfolded.has(lead.incident_id) ? "true" : "false");
    tr.replaceChildren(
      el("td", { class: "num" }, `INC-${String(lead.incident_id).padStart(5, "0")}`),
      el("td", { class: "what incident-size" }, el("span", { class: "badge emergency" }, text.outage),
        " ", categoryOf(lead),
        el("div", { class: "sub" },
          `${counted(text.customers, new Set(members.map((r) => r.customer_id)).size)} · ${lead.address}`)),
      el("td", { class: "status" }, counted(text.waiting, waiting)),
      el("td", {}),
      el("td", { class: "window" }, lead.response_due ? `${text.due} ${fmt(lead.response_due)}` : ""),
    );
  }

  markSelected(id) {
    for (const tr of this.tbody.querySelectorAll("tr[data-id]")) {
      tr.setAttribute("aria-selected", Number(tr.dataset.id) === id ? "true" : "false");
    }
  }

  onDragStart(event, id) {
    const r = this.rows.get(id);
    if (!r || this.board.presence.lockedBy(id)) { event.preventDefault(); return; }
    // vis-timeline reads the dragged thing as JSON from "text" and adds it where it is dropped.
    event.dataTransfer.setData("text", JSON.stringify({
      id: `drop-${id}-${Date.now()}`, type: "range", content: r.number, request: id,
    }));
    event.dataTransfer.effectAllowed = "move";
    this.board.presence.dragging(id);
  }

  // Up and down move between rows, Enter opens the request: the queue works without a mouse.
  onKey(event) {
    const tr = event.target.closest("tr");
    if (!tr) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
      if (next) next.focus();
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === " ") {
      if (tr.dataset.id) this.board.select(Number(tr.dataset.id), { focus: true });
      else tr.click();
      event.preventDefault();
    }
  }
}
