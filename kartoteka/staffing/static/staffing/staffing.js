// The staffing chart: agents needed and scheduled (lines, left axis) over the calls per
// interval (bars, right axis), from the JSON the page carries; no inline script (CSP).
(function () {
  "use strict";

  var COLOURS = ["#dc3545", "#0d6efd", "rgba(108, 117, 125, 0.35)"];

  function draw() {
    var canvas = document.getElementById("staffing-chart");
    var source = document.getElementById("staffing-data");
    if (!canvas || !source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.values,
            type: s.kind,
            yAxisID: s.axis || "y",
            backgroundColor: COLOURS[i % COLOURS.length],
            borderColor: COLOURS[i % COLOURS.length],
            stepped: s.kind === "line" ? "middle" : false,
            order: s.kind === "line" ? 0 : 1,
            fill: false
          };
        })
      },
      options: {
        locale: document.documentElement.lang || undefined,
        responsive: true,
        aspectRatio: 3,
        animation: false,
        scales: {
          y: {
            beginAtZero: true,
            position: "left",
            ticks: { precision: 0 },
            title: { display: true, text: data.axes.y }
          },
          y1: {
            beginAtZero: true,
            position: "right",
            grid: { drawOnChartArea: false },
            title: { display: true, text: data.axes.y1 }
          }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
