// A large export: asked for through the API, written by a worker; the page polls its progress
// and shows the download link once the file is ready.
import { getJson } from "./query.js";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function startExport(form, kind, bar, link, status, words) {
  const body = { kind, kpi: "windows_kept", part: "all" };
  for (const [name, value] of new FormData(form)) if (value !== "") body[name] = value;
  link.hidden = true;
  bar.hidden = false;
  bar.value = 0;
  const response = await fetch("/api/v1/kpis/exports/", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    status.textContent = words.export_failed;
    return;
  }
  let job = await response.json();
  while (job.status === "pending" || job.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    job = await getJson(`/api/v1/kpis/exports/${job.id}/`);
    bar.value = job.progress;
  }
  if (job.status === "done") {
    link.href = job.download_url;
    link.hidden = false;
  } else {
    status.textContent = job.error || words.export_failed;
  }
}
