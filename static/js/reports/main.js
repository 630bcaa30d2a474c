// The report page: reads the filters, asks the KPI API, draws the figures, trend and tables.
import { startExport } from "./exports.js";
import { renderHeadlines, renderTables } from "./figures.js";
import { filterQuery, getJson } from "./query.js";
import { renderTrend } from "./trend.js";

const words = JSON.parse(document.getElementById("report-words").textContent);
const form = document.getElementById("report-filters");
const status = document.getElementById("report-status");
const trendKpi = document.getElementById("trend-kpi");
const trendBucket = document.getElementById("trend-bucket");

// The filters live in the address, so a report can be bookmarked and shared.
for (const [name, value] of new URLSearchParams(window.location.search)) {
  if (form.elements[name]) form.elements[name].value = value;
}

async function loadTrend() {
  const query = filterQuery(form, { kpi: trendKpi.value, bucket: trendBucket.value });
  const points = await getJson(`/api/v1/kpis/trend/?${query}`);
  renderTrend(document.getElementById("trend-chart"), points, words.kpis[trendKpi.value]);
}

async function load() {
  status.textContent = "";
  try {
    const summary = await getJson(`/api/v1/kpis/summary/?${filterQuery(form)}`);
    renderHeadlines(document.getElementById("headlines"), form, summary, words);
    renderTables(document.getElementById("tables"), form, summary, words);
    document.getElementById("export-csv").href = `/reports/export/csv/?${filterQuery(form, { kpi: "windows_kept", part: "all" })}`;
    document.getElementById("export-xlsx").href = `/reports/export/xlsx/?${filterQuery(form, { kpi: "windows_kept", part: "all" })}`;
    await loadTrend();
  } catch {
    status.textContent = words.error;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  window.history.replaceState(null, "", `?${filterQuery(form)}`);
  load();
});
trendKpi.addEventListener("change", loadTrend);
document.getElementById("export-background").addEventListener("click", () => {
  startExport(form, "xlsx", document.getElementById("export-progress"),
    document.getElementById("export-download"), status, words);
});
trendBucket.addEventListener("change", loadTrend);
load();
