// Live events for this user's pages (kartoteka/core/realtime.py): one EventSource per page.
// Other scripts listen with: document.addEventListener("kartoteka:<event>", e => e.detail)
(function () {
  "use strict";
  function start() {
    var link = document.getElementById("notifications-link");
    if (!link || !window.EventSource) return;
    var source = new EventSource(link.dataset.events);
    window.kartotekaEvents = source;
    source.addEventListener("notification", function (message) {
      var data = JSON.parse(message.data);
      var badge = document.getElementById("unread-count");
      if (badge) {
        badge.textContent = String(data.unread);
        badge.classList.toggle("d-none", !data.unread);
      }
      document.dispatchEvent(new CustomEvent("kartoteka:notification", { detail: data }));
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
