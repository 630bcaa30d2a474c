// The dispatcher board: open requests, updated live from the event feed.
"use strict";

(function () {
  const t = window.BOARD_I18N;
  const plurals = new Intl.PluralRules(window.LANGUAGE_CODE || "en");
  // "5 customers" in the language's own plural form (the forms come from the server).
  const counted = (forms, n) => {
    const form = plurals.select(n);
    const text = forms[form] || forms.other;
    return text.replace(/\d+/, String(n));
  };
  const initial = JSON.parse(document.getElementById("initial").textContent);
  // Statuses, categories and planning notes in the reader's language (events carry codes).
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const statusOf = (r) => labels.status[r.status] || r.status_label;
  const categoryOf = (r) => labels.category[r.category] || r.category_label;
  const noteOf = (r) => labels.plan_note[r.plan_note] || r.plan_note;
  const requests = new Map(initial.requests.map((r) => [r.id, r]));
  const CLOSED = new Set(["completed", "cancelled"]);
  const WAITING = new Set(["new", "rescheduled", "escalated"]);
  const tbody = document.getElementById("rows");
  // Times are shown in the tenant's zone, whatever the dispatcher's computer is set to.
  const time = new Intl.DateTimeFormat(document.documentElement.lang, {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: window.TENANT_TIME_ZONE,
  });
  const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: window.TENANT_TIME_ZONE });
  // "30.11": month names are missing from some browsers' Kazakh data ("M11").
  const day = { format: (moment) => dayOf.format(moment).slice(5).split("-").reverse().join(".") };
  // Today's times alone; another day's with the day, so tomorrow's 11:00 never reads as today's.
  const fmt = (iso) => {
    if (!iso) return "";
    const moment = new Date(iso);
    const today = dayOf.format(new Date()) === dayOf.format(moment);
    return today ? time.format(moment) : `${day.format(moment)} ${time.format(moment)}`;
  };
  // A window within one day names the day once: "30 Nov 17:00–19:00".
  const fmtRange = (from, to) => {
    const sameDay = dayOf.format(new Date(from)) === dayOf.format(new Date(to));
    return sameDay ? `${fmt(from)}–${time.format(new Date(to))}` : `${fmt(from)}–${fmt(to)}`;
  };

  function rank(r) {
    return [r.status === "escalated" ? 0 : 1, r.window_at_risk ? 0 : 1,
            r.kind === "emergency" ? 0 : 1, r.priority, r.created_at];
  }

  function compare(a, b) {
    const ra = rank(a), rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] < rb[i] ? -1 : 1;
    return 0;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (className) td.className = className;
    return td;
  }

  // An emergency planned to arrive after its response deadline is as much at risk as a window.
  const lateForSla = (r) => r.kind === "emergency" && r.visit && r.response_due
    && new Date(r.visit.planned_start) > new Date(r.response_due);
  const atRisk = (r) => r.window_at_risk || lateForSla(r);

  function row(r) {
    const tr = document.createElement("tr");
    tr.dataset.id = r.id;
    tr.dataset.status = r.status;
    tr.className = `kind-${r.kind} status-${r.status}${atRisk(r) ? " at-risk" : ""}`;
    tr.append(
      cell(r.number, "num"),
      cell(r.kind === "emergency" ? t.emergency : t.planned, `badge ${r.kind}`),
      cell(categoryOf(r)),
      cell(`${r.customer} · ${r.address}`),
      cell((r.plan_note ? `${statusOf(r)} — ${noteOf(r)}` : statusOf(r))
        // The customer reported it again (any channel): joined here, not a second request.
        + (r.reports > 1 ? ` · ${t.reported_again} ×${r.reports}` : ""), "status"),
      cell(r.visit ? r.visit.technician : t.unassigned, "technician"),
      cell(r.visit ? fmt(r.visit.planned_start) : ""),
      cell((r.window_start ? fmtRange(r.window_start, r.window_end)
        : r.response_due ? `${t.due} ${fmt(r.response_due)}` : "")
        + (atRisk(r) ? ` ⚠ ${t.at_risk}` : ""), "window"),
    );
    return tr;
  }

  // One outage reported by many customers is one line (INC-…, N customers); its requests
  // unfold under it on a click.
  const unfolded = new Set();
  function incidentRow(id, members) {
    const tr = document.createElement("tr");
    tr.className = "incident";
    tr.dataset.incident = id;
    const lead = members[0];
    const waiting = members.filter((r) => WAITING.has(r.status)).length;
    tr.append(
      cell(`INC-${String(id).padStart(5, "0")}`, "num"),
      cell(t.outage, "badge emergency"),
      cell(categoryOf(lead)),
      cell(`${counted(t.customers, new Set(members.map((r) => r.customer_id)).size)} · ${lead.address}`,
           "incident-size"),
      cell(counted(t.waiting, waiting), "status"),
      cell(""), cell(""),
      cell(lead.response_due ? `${t.due} ${fmt(lead.response_due)}` : "", "window"),
    );
    tr.addEventListener("click", () => {
      unfolded.has(id) ? unfolded.delete(id) : unfolded.add(id);
      scheduleRender();
    });
    return tr;
  }

  function rows(open) {
    const out = [], seen = new Set(), byIncident = new Map();
    for (const r of open) {
      if (r.incident_id) byIncident.set(r.incident_id, [...(byIncident.get(r.incident_id) || []), r]);
    }
    for (const r of open) {
      const members = r.incident_id ? byIncident.get(r.incident_id) : null;
      if (!members || members.length < 2) { out.push(row(r)); continue; }
      if (seen.has(r.incident_id)) continue;
      seen.add(r.incident_id);
      out.push(incidentRow(r.incident_id, members));
      if (unfolded.has(r.incident_id)) {
        out.push(...members.map((m) => { const tr = row(m); tr.classList.add("in-incident"); return tr; }));
      }
    }
    return out;
  }

  function render() {
    const open = [...requests.values()].filter((r) => !CLOSED.has(r.status)).sort(compare);
    tbody.replaceChildren(...rows(open));
    document.getElementById("count-open").textContent = open.length;
    document.getElementById("count-unassigned").textContent = open.filter((r) => WAITING.has(r.status)).length;
    document.getElementById("count-escalated").textContent = open.filter((r) => r.status === "escalated").length;
    document.getElementById("count-at-risk").textContent = open.filter(atRisk).length;
  }

  let pending = false;
  function scheduleRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  const status = document.getElementById("live");
  new LiveFeed({
    path: "/ws/dispatch/",
    lastSeq: initial.last_seq,
    onEvent(event) {
      if (event.kind.startsWith("request.")) {
        requests.set(event.data.id, event.data);
        scheduleRender();
      }
    },
    onStatus(up) {
      status.textContent = up ? t.live : t.offline;
      status.className = `live ${up ? "on" : "off"}`;
    },
  });
  render();

  const form = document.getElementById("emergency-form");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const body = {
        kind: "emergency", channel: "dispatcher", customer: Number(data.get("customer")),
        category: data.get("category"), description: data.get("description"),
        required_skills: data.get("skill") ? [data.get("skill")] : [],
      };
      const response = await fetch("/api/v1/requests/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
      const error = document.getElementById("form-error");
      if (response.ok) { error.textContent = ""; form.reset(); return; }
      const problem = await response.json().catch(() => ({}));
      error.textContent = Object.entries(problem).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
    });
    // Find any customer (the list holds the first ones only): by phone or by name/address.
    const search = document.getElementById("customer-search");
    const select = form.querySelector("select[name=customer]");
    const first = [...select.options].map((o) => o.cloneNode(true));  // the list as it came
    const hint = document.getElementById("customer-search-hint");
    let timer;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim();
        if (q.length < 2) {
          select.replaceChildren(...first.map((o) => o.cloneNode(true)));
          hint.textContent = "";
          return;
        }
        const byPhone = /^[+\d\s()-]+$/.test(q) && q.replace(/\D/g, "").length >= 5;
        const params = new URLSearchParams(byPhone ? { phone: q } : { search: q });
        params.set("limit", "20");
        const response = await fetch(`/api/v1/customers/?${params}`, {
          credentials: "same-origin", headers: { Accept: "application/json" },
        });
        if (!response.ok) return;
        const page = await response.json();
        const found = (page.results || page).filter((c) => c.lat !== null);
        select.replaceChildren(...found.map((c) => new Option(`${c.name} — ${c.address}`, c.id)));
        hint.textContent = found.length ? (page.next ? t.more_found : "") : t.none_found;
      }, 250);
    });
  }
})();
