// The planner's calendar: FullCalendar (vendor/fullcalendar.min.js) over /tasks/calendar/events/,
// drag or resize to reschedule through /tasks/calendar/move/ (the service checks the version).
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }

  function say(text) {
    var box = document.getElementById("calendar-message");
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  function toEvent(item) {
    var classes = ["task-" + item.kind];
    if (item.overdue) classes.push("task-overdue");
    if (item.status === "done") classes.push("task-done");
    return {
      id: String(item.id),
      title: item.title + (item.assignee ? " · " + item.assignee.name : ""),
      start: item.start,
      end: item.end,
      editable: item.editable,
      classNames: classes,
      extendedProps: { version: item.version, kind: item.kind, status: item.status }
    };
  }

  function start() {
    var el = document.getElementById("calendar");
    if (!el || !window.FullCalendar) return;
    var who = document.getElementById("calendar-user");
    var calendar;

    function load(info, success, failure) {
      var url = el.dataset.events + "?start=" + encodeURIComponent(info.startStr) +
        "&end=" + encodeURIComponent(info.endStr) + "&user=" + encodeURIComponent(who.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (body) { success(body.items.map(toEvent)); })
        .catch(function (error) { say(el.dataset.failed); failure(error); });
    }

    function move(info) {
      var event = info.event;
      var data = new URLSearchParams();
      data.set("id", event.id);
      data.set("version", event.extendedProps.version);
      data.set("start", event.start.toISOString());
      if (event.end) data.set("end", event.end.toISOString());
      fetch(el.dataset.move, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: data
      })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          if (answer.ok) {
            event.setExtendedProp("version", answer.body.version);
            say("");
            return;
          }
          info.revert();
          var detail = answer.body.detail;
          say(typeof detail === "string" ? detail : detail.map(function (d) { return d.msg; }).join(" "));
          calendar.refetchEvents();
        })
        .catch(function () { info.revert(); say(el.dataset.failed); });
    }

    calendar = new window.FullCalendar.Calendar(el, {
      initialView: "timeGridWeek",
      locale: el.dataset.locale,
      firstDay: 1,
      nowIndicator: true,
      height: "auto",
      headerToolbar: {
        left: "prev,next today",
        center: "title",
        right: "timeGridDay,timeGridWeek,dayGridMonth"
      },
      events: load,
      eventDrop: move,
      eventResize: move,
      eventClick: function (info) {
        info.jsEvent.preventDefault();
        window.location.href = el.dataset.task.replace(/0\/$/, info.event.id + "/");
      }
    });
    calendar.render();
    window.kartotekaCalendar = calendar;
    who.addEventListener("change", function () { calendar.refetchEvents(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
