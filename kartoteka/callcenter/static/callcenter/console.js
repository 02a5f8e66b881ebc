// The operator's console: a "call" event on this user's live stream (core/realtime.js) loads the
// call's screen pop (/calls/<id>/pop/, rendered by the server) into #screen-pop; an "operator"
// event updates the status badge.
(function () {
  "use strict";
  function load(url) {
    var target = document.getElementById("screen-pop");
    if (!target || !window.htmx) return;
    window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" });
  }
  function start() {
    var source = window.kartotekaEvents;
    if (!source) return;
    source.addEventListener("call", function (message) {
      var data = JSON.parse(message.data);
      if (data.pop && data.pop.indexOf("/calls/") === 0) load(data.pop);
    });
    source.addEventListener("operator", function (message) {
      var data = JSON.parse(message.data);
      var label = document.getElementById("status-label");
      var box = document.getElementById("operator-status");
      if (label) label.textContent = data.label;
      if (box) box.dataset.status = data.status;
      if (label) label.className = "badge status-" + data.status;
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
