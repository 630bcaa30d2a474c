// Headline cards and tables: every number is a link to the requests behind it.
import { drillUrl } from "./query.js";

function el(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== "") node.textContent = text;
  return node;
}

function percent(value, words) {
  return value === null || value === undefined ? words.no_data : `${value} %`;
}

function card(title, value, href, detail, change) {
  const box = el("article", { class: "headline" });
  box.append(el("h3", {}, title));
  const link = el("a", { class: "value", href, "data-testid": "figure" }, value);
  box.append(link);
  if (detail) box.append(el("div", { class: "n" }, detail));
  if (change) box.append(change);
  return box;
}

export function renderHeadlines(container, form, summary, words) {
  container.replaceChildren();
  for (const [key, rate] of Object.entries(summary.rates)) {
    let change = null;
    if (rate.change !== null && rate.change !== undefined) {
      const sign = rate.change > 0 ? "+" : "";
      change = el("div", { class: `change ${rate.change >= 0 ? "up" : "down"}` },
        `${sign}${rate.change} · ${words.previous} ${percent(rate.previous_percent, words)}`);
    }
    container.append(card(words.kpis[key] || rate.label, percent(rate.percent, words),
      drillUrl(form, key, "hits"), `${rate.hits} ${words.of} ${rate.total}`, change));
  }
  const mood = summary.satisfaction;
  container.append(card(words.csat, mood.csat_average ?? words.no_data,
    drillUrl(form, "complaints", "all"), `n = ${mood.csat_n}`));
  container.append(card(words.nps, mood.nps ?? words.no_data,
    drillUrl(form, "complaints", "all"), `n = ${mood.nps_n}`));
  const restore = summary.time_to_restore;
  container.append(card(words.time_to_restore, restore.median_hours ?? words.no_data,
    drillUrl(form, "emergency_on_site_in_sla", "all"),
    `n = ${restore.n} · ${restore.within_sla} ${words.within_sla}`));
  const load = summary.workload;
  container.append(card(words.utilization, percent(load.utilization_percent, words),
    drillUrl(form, "unproductive_visits", "all"), `${words.travel_share}: ${percent(load.travel_share_percent, words)}`));
  container.append(card(words.jobs_per_day, load.jobs_per_technician_day ?? words.no_data,
    drillUrl(form, "unproductive_visits", "misses"), `${load.jobs_completed} / ${load.technician_days}`));
  container.append(card(words.kpis.backlog, String(summary.backlog.open),
    drillUrl(form, "backlog", "all"), `${words.median_age}: ${summary.backlog.median_age_hours ?? "—"}`));
  container.append(card(words.kpis.complaints, String(summary.complaints.opened),
    drillUrl(form, "complaints", "all"), `${summary.complaints.still_open} ${words.still_open}`));
}

function table(caption, heading, rows, form, kpi) {
  const node = el("table", { class: "report-table" });
  node.append(el("caption", {}, caption));
  const head = el("tr");
  head.append(el("th", {}, heading), el("th", {}, ""));
  const thead = el("thead");
  thead.append(head);
  node.append(thead);
  const body = el("tbody");
  for (const [key, label, count] of rows) {
    const row = el("tr");
    const cell = el("td");
    cell.append(kpi ? el("a", { href: drillUrl(form, kpi, key) }, String(count)) : document.createTextNode(String(count)));
    row.append(el("th", {}, label), cell);
    body.append(row);
  }
  node.append(body);
  return node;
}

export function renderTables(container, form, summary, words) {
  container.replaceChildren(
    table(words.kpis.promise_misses, words.cause,
      Object.entries(summary.promise_misses_by_cause).map(([k, n]) => [k, words.causes[k] || k, n]),
      form, "promise_misses"),
    table(words.kpis.unproductive_visits, words.reason,
      Object.entries(summary.unproductive_by_reason).map(([k, n]) => [k, words.reasons[k] || k, n]),
      form, null),
    table(words.kpis.requests_by_channel, words.channel,
      Object.entries(summary.requests_by_channel).map(([k, n]) => [k, words.channels[k] || k, n]),
      form, "requests_by_channel"),
    table(words.kpis.backlog, words.age,
      Object.entries(summary.backlog.by_age).map(([k, n]) => [k, words.ages[k] || k, n]),
      form, null),
  );
}
