// Draws each dashboard chart from the JSON data block beside its canvas (no inline script: the
// page's Content-Security-Policy allows only these files). Colours come from the stylesheet.
(function () {
  "use strict";
  function palette() {
    var style = getComputedStyle(document.documentElement);
    return [1, 2, 3, 4, 5].map(function (n) { return style.getPropertyValue("--chart-" + n).trim(); });
  }
  function draw(figure, colours) {
    var canvas = figure.querySelector("canvas");
    var block = figure.querySelector("script.chart-data");
    if (!canvas || !block || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(block.textContent);
    var round = spec.kind === "doughnut";
    var datasets = spec.series.map(function (s, i) {
      var colour = round ? spec.labels.map(function (_, j) { return colours[j % colours.length]; }) : colours[i % colours.length];
      return { label: s.label, data: s.data, backgroundColor: colour, borderColor: colour, spanGaps: true, tension: 0.2 };
    });
    var options = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: datasets.length > 1 || round } } };
    if (!round) {
      options.scales = { x: { stacked: spec.stacked }, y: { stacked: spec.stacked, beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } } };
    }
    new Chart(canvas, { type: spec.kind, data: { labels: spec.labels, datasets: datasets }, options: options });
    figure.setAttribute("data-drawn", "true");
  }
  document.addEventListener("DOMContentLoaded", function () {
    var colours = palette();
    document.querySelectorAll("figure.chart").forEach(function (figure) { draw(figure, colours); });
  });
})();
