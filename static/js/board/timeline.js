// The timeline (vis-timeline): one row per technician with the shift and absences behind,
// each visit coloured by status over its agreed window, travel before it, and the now-line.
// Visits are dragged along a row or to another; requests are dropped from the queue.
import {
  api, clock, config, el, fill, fmtRange, localDay, shortDay, text, zoneOffset,
} from "./common.js";
import { atRisk } from "./queue.js";

const MOVABLE = new Set(["scheduled", "accepted"]);
const CREW_PAGE = 25;
const DAY = 24 * 3600 * 1000;

// Labels on the time axis, in the tenant's zone and the reader's language.
const SUB_DAY = new Set(["millisecond", "second", "minute", "hour"]);
const minorLabel = (date, scale) => {
  const moment = new Date(date.valueOf());
  return SUB_DAY.has(scale) ? clock(moment.toISOString()) : shortDay(moment);
};
const majorLabel = (date, scale) => {
  const moment = new Date(date.valueOf());
  return SUB_DAY.has(scale) ? shortDay(moment) : String(moment.getUTCFullYear());
};

function midnight(offsetDays) {
  // The tenant's midnight: the range asked of the server is in its zone.
  const today = localDay(new Date());
  const utc = new Date(`${today}T00:00:00Z`);
  return new Date(utc.getTime() - zoneOffset(utc) * 60000 + offsetDays * DAY);
}

export class Timeline {
  constructor(board) {
    this.board = board;
    this.visits = new Map(); // visit id → visit
    this.technicians = [];
    this.range = { start: midnight(0), end: midnight(2) };
    this.offset = 0;
    this.search = document.getElementById("crew-search");
    this.pageInfo = document.getElementById("crew-page");
    this.prev = document.getElementById("crew-prev");
    this.next = document.getElementById("crew-next");
    let typing;
    this.search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { this.offset = 0; this.reload(); }, 300);
    });
    this.prev.addEventListener("click", () => this.page(-1));
    this.next.addEventListener("click", () => this.page(1));
    this.groups = new vis.DataSet();
    this.items = new vis.DataSet();
    this.timer = null;
    this.loading = null;
    this.again = false;
    const editable = config.can_dispatch
      ? { add: true, updateTime: true, updateGroup: true, remove: false, overrideItems: false }
      : false;
    this.view = new vis.Timeline(document.getElementById("timeline"), this.items, this.groups, {
      stack: false,
      editable,
      selectable: true,
      showCurrentTime: true,
      zoomKey: "ctrlKey",
      horizontalScroll: true,
      verticalScroll: true,
      orientation: { axis: "top" },
      groupHeightMode: "fixed",
      margin: { item: { horizontal: 0, vertical: 4 } },
      zoomMin: 30 * 60 * 1000,
      zoomMax: 3 * DAY,
      // Without a start and end the timeline would fit itself to the first items it gets.
      ...this.initialWindow(),
      // Days and hours of the tenant's zone: midnight lines and snapping fall where it lives.
      moment: (date) => {
        const moment = vis.moment(date);
        return moment.utcOffset(zoneOffset(moment.toDate()));
      },
      snap: (date) => new Date(Math.round(date.getTime() / (5 * 60000)) * 5 * 60000),
      format: { minorLabels: minorLabel, majorLabels: majorLabel },
      tooltip: { followMouse: false, overflowMethod: "cap" },
      onMove: (item, callback) => this.onMove(item, callback),
      onAdd: (item, callback) => this.onAdd(item, callback),
      onUpdate: (item, callback) => callback(null),
    });
    this.view.on("select", ({ items }) => {
      const visit = items.length ? this.visits.get(Number(String(items[0]).slice(2))) : null;
      if (visit) this.board.select(visit.request_id);
    });
    this.view.on("itemover", ({ item }) => {
      const visit = this.visits.get(Number(String(item).slice(2)));
      if (visit) this.board.presence.viewing(visit.request_id);
    });
    document.querySelectorAll("[data-range]").forEach((button) => {
      button.addEventListener("click", () => this.show(button.dataset.range));
    });
  }

  // Today's working hours, moved on to keep the now-line in view late in the day.
  initialWindow() {
    const now = Date.now();
    const day = midnight(0).getTime();
    return {
      start: new Date(Math.min(Math.max(day + 6 * 3600e3, now - 3 * 3600e3), now - 3600e3)),
      end: new Date(Math.max(day + 20 * 3600e3, now + 5 * 3600e3)),
    };
  }

  show(which) {
    const now = Date.now();
    const windows = {
      now: [new Date(now - 2 * 3600e3), new Date(now + 6 * 3600e3)],
      tomorrow: [new Date(midnight(1).getTime() + 6 * 3600e3), new Date(midnight(1).getTime() + 22 * 3600e3)],
      both: [midnight(0), midnight(2)],
    };
    const [start, end] = windows[which] || Object.values(this.initialWindow());
    this.view.setWindow(start, end);
  }

  reloadSoon(delay = 500) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.reload(); }, delay);
  }

  // Technicians a page at a time: a browser draws a few dozen rows quickly, hundreds slowly.
  page(step) {
    this.offset = Math.max(0, this.offset + step * CREW_PAGE);
    this.reload();
  }

  async reload() {
    if (this.loading) { this.again = true; return this.loading; }
    this.loading = (async () => {
      do {
        this.again = false;
        const params = new URLSearchParams({
          start: this.range.start.toISOString(), end: this.range.end.toISOString(),
          limit: CREW_PAGE, offset: this.offset,
        });
        const search = this.search.value.trim();
        if (search) params.set("search", search);
        const answer = await api(`/api/v1/board/timeline/?${params}`);
        if (answer.ok) this.draw(answer.data);
      } while (this.again);
      this.loading = null;
    })();
    return this.loading;
  }

  draw(data) {
    this.technicians = data.technicians;
    this.visits = new Map(data.visits.map((v) => [v.id, v]));
    this.groups.update(data.technicians.map((t) => ({
      id: t.id,
      content: this.label(t),
      className: t.shifts.length ? "on-shift" : "off-shift",
    })));
    const known = new Set(data.technicians.map((t) => t.id));
    this.groups.remove(this.groups.getIds().filter((id) => !known.has(id)));
    const items = [];
    for (const t of data.technicians) {
      t.shifts.forEach((s, i) => items.push({
        id: `s-${t.id}-${i}`, group: t.id, start: s.start, end: s.end, type: "background",
        className: "shift", title: `${text.shift} ${fmtRange(s.start, s.end)}`,
      }));
      t.shifts.filter((s) => s.break_start).forEach((s, i) => items.push({
        id: `l-${t.id}-${i}`, group: t.id, start: s.break_start, end: s.break_end, type: "range",
        className: "lunch", content: text.lunch_placed, editable: false, selectable: false,
        title: `${text.lunch_placed} ${fmtRange(s.break_start, s.break_end)}`,
      }));
      t.absences.forEach((a, i) => items.push({
        id: `a-${t.id}-${i}`, group: t.id, start: a.start, end: a.end, type: "background",
        className: "absence", content: text.absence, title: a.reason || text.absence,
      }));
    }
    for (const v of data.visits) items.push(...this.itemsOf(v));
    const ids = new Set(items.map((i) => i.id));
    this.items.remove(this.items.getIds().filter((id) => !ids.has(id)));
    this.items.update(items);
    const first = data.count ? this.offset + 1 : 0;
    this.pageInfo.textContent = fill(text.crew_page, {
      first, last: this.offset + data.technicians.length, count: data.count,
    });
    this.prev.disabled = this.offset === 0;
    this.next.disabled = data.next_offset === null;
    this.board.map.showTechnicians(data.technicians);
  }

  // A visit is two items: the agreed window behind, and the visit itself with the travel to it
  // as its lighter first part (an item of its own each would double what the browser lays out).
  itemsOf(v) {
    const items = [];
    if (v.window_start && v.window_end) {
      items.push({
        id: `w-${v.id}`, group: v.technician_id, start: v.window_start, end: v.window_end,
        type: "background", className: "window", title: `${text.window} ${fmtRange(v.window_start, v.window_end)}`,
      });
    }
    const travel = (v.travel_minutes || 0) * 60000;
    const arrival = new Date(v.planned_start).getTime();
    const share = travel ? Math.round(100 * travel / (new Date(v.planned_end).getTime() - arrival + travel)) : 0;
    const flags = [v.late ? `⚠ ${text.late}` : "", v.at_risk ? `⚠ ${text.at_risk}` : "",
      v.pinned ? text.pinned : ""].filter(Boolean);
    items.push({
      id: `v-${v.id}`, group: v.technician_id, start: new Date(arrival - travel), end: v.planned_end,
      type: "range",
      style: share ? `--travel: ${share}%` : undefined,
      className: `visit kind-${v.kind} vstatus-${v.status}${share ? " has-travel" : ""}${v.late ? " late" : ""}${v.at_risk ? " at-risk" : ""}${v.pinned ? " pinned" : ""}`,
      content: `${v.late || v.at_risk ? "⚠ " : ""}${v.request_number} ${v.customer}`,
      title: [`${v.request_number} · ${v.customer}`, v.address,
        `${text.visit_status[v.status] || v.status} ${fmtRange(v.planned_start, v.planned_end)}`,
        travel ? `${text.travel} ${v.travel_minutes}′` : "",
        v.window_start ? `${text.window} ${fmtRange(v.window_start, v.window_end)}` : "",
        ...flags].filter(Boolean).join("\n"),
      editable: config.can_dispatch && MOVABLE.has(v.status)
        ? { updateTime: true, updateGroup: true, remove: false } : false,
    });
    return items;
  }

  // A live event: the request's visit moves where it stands, without reading the whole page
  // again (a full read follows when the events stop, for what the event does not carry).
  apply(r) {
    const now = r.visit && this.groups.get(r.visit.technician_id) ? r.visit : null;
    for (const v of [...this.visits.values()]) {
      if (v.request_id === r.id && (!now || v.id !== now.id)) {
        this.visits.delete(v.id);
        this.items.remove([`v-${v.id}`, `w-${v.id}`]);
      }
    }
    if (now) {
      const before = this.visits.get(now.id) || { travel_minutes: 0, pinned: false, late: false };
      const v = {
        ...before, id: now.id, request_id: r.id, request_number: r.number,
        technician_id: now.technician_id, status: now.status, planned_start: now.planned_start,
        planned_end: now.planned_end, window_start: r.window_start, window_end: r.window_end,
        response_due: r.response_due, kind: r.kind, category: r.category, customer: r.customer,
        address: r.address, lat: r.lat, lon: r.lon, at_risk: atRisk(r), version: r.version,
      };
      this.visits.set(v.id, v);
      if (!v.window_start) this.items.remove(`w-${v.id}`);
      this.items.update(this.itemsOf(v));
    }
    this.reloadSoon(10_000);
  }

  label(t) {
    const shift = t.shifts.map((s) => fmtRange(s.start, s.end)).join(", ");
    const lunch = t.shifts.find((s) => s.lunch_minutes) ? fill(text.lunch, { minutes: t.shifts.find((s) => s.lunch_minutes).lunch_minutes }) : "";
    return el("div", { class: "tech-label", dataset: { technician: t.id } },
      el("b", {}, t.name),
      el("div", { class: "sub" }, [t.skills.join(", "), shift, lunch].filter(Boolean).join(" · ")));
  }

  // A visit dragged along its row or onto another: check the rules, ask, then assign.
  async onMove(item, callback) {
    const visit = this.visits.get(Number(String(item.id).slice(2)));
    if (!visit) return callback(null);
    if (this.board.presence.lockedBy(visit.request_id)) return callback(null);
    // The item starts with the travel to the job: the arrival is after it.
    const arrival = new Date(new Date(item.start).getTime() + (visit.travel_minutes || 0) * 60000);
    const done = await this.board.actions.assign(visit.request_id, item.group, arrival);
    callback(done ? item : null);
    this.reloadSoon(0);
  }

  // A request dropped from the queue onto a row at a time.
  async onAdd(item, callback) {
    callback(null); // the visit appears from the live event once it is made
    if (!item.request || !item.group) return;
    this.board.presence.dragging(null);
    await this.board.actions.assign(item.request, item.group, new Date(item.start));
    this.reloadSoon(0);
  }

  select(requestId) {
    const ids = [...this.visits.values()].filter((v) => v.request_id === requestId).map((v) => `v-${v.id}`);
    this.view.setSelection(ids);
    this.view.checkResize?.();
    const visit = [...this.visits.values()].find((v) => v.request_id === requestId);
    if (!visit) return;
    // The visit with a few hours around it: what comes before and after on that row.
    const start = new Date(visit.planned_start).getTime() - 3 * 3600e3;
    const end = new Date(visit.planned_end).getTime() + 3 * 3600e3;
    this.view.setWindow(new Date(start), new Date(end), { animation: false });
    this.view.focus(ids[0], { animation: false, zoom: false }); // scrolls to its row
  }
}
