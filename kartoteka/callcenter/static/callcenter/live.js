// Supervisors' live pages (the board, the wallboard): an element with data-live (its SSE
// stream, callcenter/live.py), data-refresh (the page, for the fallback) and data-event (the
// event's name) gets its rendered HTML when it changed, at most about once a second; the
// .board-timer[data-since] counters tick here every second. EventSource reconnects by itself
// when a stream ends or drops; if the stream is refused or the server is away, the page is
// fetched every few seconds instead and the stream tried again. data-state names the badge
// that says which.
(function () {
  "use strict";
  var POLL_MS = 5000;
  var RETRY_MS = 10000;
  var skew = 0; // the server's clock minus this browser's, in seconds

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function duration(total) {
    total = Math.max(0, Math.floor(total));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function syncClock(board) {
    var body = board.querySelector("[data-now]");
    if (body) skew = Number(body.dataset.now) - Date.now() / 1000;
  }
  function tick(board) {
    var now = Date.now() / 1000 + skew;
    board.querySelectorAll(".board-timer[data-since]").forEach(function (el) {
      var since = Number(el.dataset.since);
      if (since) el.textContent = duration(now - since);
    });
  }
  function show(board, html) {
    board.innerHTML = html;
    syncClock(board);
    tick(board);
  }
  function state(board, live) {
    var badge = board.dataset.state && document.getElementById(board.dataset.state);
    if (!badge) return;
    badge.textContent = live ? badge.dataset.live : badge.dataset.offline;
    badge.className = "badge small " + (live ? "text-bg-success" : "text-bg-warning");
  }

  function start(board) {
    var event = board.dataset.event;
    var poller = null;
    var source = null;
    syncClock(board);
    window.setInterval(function () { tick(board); }, 1000);

    function poll() {
      fetch(board.dataset.refresh, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById(board.id);
          if (fresh) show(board, fresh.innerHTML);
        })
        .catch(function () { /* still away: the next poll tries again */ });
    }
    function polling(on) {
      if (on && !poller) poller = window.setInterval(poll, POLL_MS);
      if (!on && poller) {
        window.clearInterval(poller);
        poller = null;
      }
    }
    function connect() {
      source = new EventSource(board.dataset.live);
      source.addEventListener(event, function (message) {
        show(board, JSON.parse(message.data).html);
        state(board, true);
        polling(false);
      });
      source.addEventListener("open", function () { state(board, true); });
      source.addEventListener("error", function () {
        state(board, false);
        if (source.readyState === EventSource.CLOSED) {
          polling(true);
          window.setTimeout(connect, RETRY_MS);
        }
      });
    }
    if (!window.EventSource) {
      polling(true);
      return;
    }
    connect();
    window.addEventListener("pagehide", function () { if (source) source.close(); });
  }
  function startAll() {
    document.querySelectorAll("[data-live][data-event]").forEach(start);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
