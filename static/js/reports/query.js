// The report's filters as a query string, shared by the API calls, drill-down links and exports.
export function filterQuery(form, extra = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value !== "") params.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params.toString();
}

export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

export function drillUrl(form, kpi, part) {
  return `/reports/requests/?${filterQuery(form, { kpi, part })}`;
}
