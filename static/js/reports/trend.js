// The trend chart (Chart.js, vendored): one rate KPI per day, week or month.
let chart = null;

export function renderTrend(canvas, points, label) {
  const data = {
    labels: points.map((point) => point.period.slice(0, 10)),
    datasets: [{ label, data: points.map((point) => point.percent), borderColor: "#1f6feb", tension: 0.2 }],
  };
  if (chart) {
    chart.data = data;
    chart.update();
    return;
  }
  chart = new window.Chart(canvas, {
    type: "line",
    data,
    options: { animation: false, scales: { y: { min: 0, max: 100 } } },
  });
}
