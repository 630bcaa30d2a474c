// The manager's results chart: average satisfaction per group, from the page's own data.
const data = JSON.parse(document.getElementById("survey-chart").textContent);
const canvas = document.getElementById("csat-chart");
if (window.Chart && canvas && data.labels.length) {
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: "CSAT", data: data.csat, backgroundColor: "#1f6feb" }] },
    options: { scales: { y: { min: 0, max: 5 } }, plugins: { legend: { display: false } } },
  });
}
