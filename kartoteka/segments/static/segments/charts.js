// Dashboard charts: Chart.js (vendor/chart.umd.min.js) over the data each chart's card carries
// as JSON (<script type="application/json">): the page runs no inline script (CSP).
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var stacked = data.kind === "stacked";
    var type = data.kind === "line" ? "line" : "bar";
    var locale = document.documentElement.lang || undefined;
    new window.Chart(canvas, {
      type: type,
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.values,
            type: s.kind || type,
            backgroundColor: COLOURS[i % COLOURS.length],
            borderColor: COLOURS[i % COLOURS.length],
            fill: false
          };
        })
      },
      options: {
        locale: locale,
        responsive: true,
        animation: false,
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function start() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
