// Draws every <canvas data-chart="bar|line|doughnut" data-source="id-of-json-script">.
// The data comes from json_script blocks, so the page needs no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const source = document.getElementById(canvas.dataset.source);
    if (!source || typeof Chart === "undefined") continue;
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: canvas.dataset.chart,
      data: { labels: data.labels, datasets: [{ label: canvas.getAttribute("aria-label"), data: data.values }] },
      options: { responsive: true, plugins: { legend: { display: canvas.dataset.chart === "doughnut" } } },
    });
  }
});
