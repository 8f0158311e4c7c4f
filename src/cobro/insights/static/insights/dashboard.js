// Draws the Dashboard's two charts from the JSON the page embeds. The tables beside each chart hold
// the same figures, so the page is complete without JavaScript and for screen readers.
(function () {
  "use strict";
  function draw() {
    var node = document.getElementById("insights-chart-data");
    if (!node || typeof Chart === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var lang = document.documentElement.lang || "es";
    var fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    function bar(id, series, colours) {
      var canvas = document.getElementById(id);
      if (!canvas) { return; }
      new Chart(canvas, {
        type: "bar",
        data: { labels: series.labels, datasets: [{ label: series.title + " (" + data.currency + ")", data: series.values, backgroundColor: colours }] },
        options: {
          maintainAspectRatio: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return fmt.format(c.parsed.y) + " " + data.currency; } } } },
          scales: { y: { ticks: { callback: function (v) { return fmt.format(v); } } } }
        }
      });
    }
    // Green for what is not yet due, then warmer as invoices age.
    bar("chart-ageing", data.ageing, ["#1f8a5b", "#e0b03a", "#e08a2e", "#d4622b", "#b3261e"]);
    bar("chart-monthly", data.monthly, "#0f6e63");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
