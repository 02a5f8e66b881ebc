// Charts of the dashboards, KPIs, quality scores and staffing: Chart.js (vendor/chart.umd.min.js)
// over the data each canvas[data-chart] names as JSON (<script type="application/json">): the
// page runs no inline script (CSP). The data: labels, series [{label, values, kind (bar|line),
// axis ("y1": the right axis), colour, stepped}], and optionally kind (bar|line|stacked),
// axes ({y, y1}: titled axes, y1 on the right) and aspect (width / height).
(function () {
  "use strict";

  var COLOURS = ["#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];

  function scales(data, stacked) {
    var found = { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } };
    if (data.axes) {
      found.y.position = "left";
      found.y.ticks = { precision: 0 };
      found.y.title = { display: true, text: data.axes.y };
      found.y1 = {
        beginAtZero: true,
        position: "right",
        grid: { drawOnChartArea: false },
        title: { display: true, text: data.axes.y1 }
      };
    }
    return found;
  }

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
            yAxisID: s.axis || "y",
            backgroundColor: s.colour || COLOURS[i % COLOURS.length],
            borderColor: s.colour || COLOURS[i % COLOURS.length],
            stepped: s.stepped ? "middle" : false,
            order: (s.kind || type) === "line" ? 0 : 1, // lines over bars
            fill: false
          };
        })
      },
      options: {
        locale: locale,
        responsive: true,
        aspectRatio: data.aspect || 2,
        animation: false,
        scales: scales(data, stacked),
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
